"""Run mutated captures through monoview's real entry points, in worker processes with deadlines.

Input ``index`` of campaign ``seed`` is made by ``build(corpus, seed, index)``
from ``random.Random(f"{seed}:{index}")`` alone, so any input is re-made from
its two numbers (``bench/fuzz.py --replay SEED:INDEX``).  Each worker process
makes its inputs itself (the parent sends only indices), writes each to a file
in ``/dev/shm`` and runs :func:`run_input` on it: the cheap tier of
``tests/fuzz/stages.py`` for every input (open, index, flow table, every
session replayed, the listing, two conversations), the full tier (more
conversations, the export manifest, dispatch, the ranged build, the per-packet
analysis) for a seeded sample and for every input whose cheap tier looks
unusual.  The outcome says which tier an input got (``tier``) and why
(``unusual``), and how long each stage took (``stages``).

Findings, by class: ``escape`` (an exception that is not a MonoviewError),
``listener`` (a listener raised: the dispatcher caught and counted it),
``ranges`` (the index built in ranges, as worker processes build it, differs
from the index built in one walk), ``noise`` (a traceback printed on
stderr), ``hang`` (more CPU time than the hang threshold on a file under
1 MB, or killed at the deadline twice, the second time in a fresh worker;
the deadline is the worker's CPU time on the input, or ten times as much wall
time: wall time on a shared machine says little), ``build`` (making the
input, before monoview sees it, passed that deadline: the fuzzer's own cost,
with its own deadline, never a hang of monoview's), ``crash`` (the worker
died), ``memory`` (peak RSS over the limit on a file under 10 MB; the peak is
reset before each input through ``/proc/self/clear_refs``, which cannot go below
the RSS the worker has then, so a worker whose RSS stays high is replaced and
a memory finding counts only from a fresh worker: ``tests/fuzz/recycle.py``), ``amplification``
(a ``--gaps zero`` export would zero-fill one gap beyond monoview's cap) and
``output`` (such an export would write more zeros than the export's own budget,
``export.zeros.export_budget``: the capture's size, 64 MiB at least).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from tests.fuzz import mutators, recycle, stages
from tests.fuzz.corpus import Base, choose

MB = 1 << 20
# One gap's zeros beyond monoview's cap (it writes a marker instead) is an amplification finding.
MAX_ZERO_FILL = 64 * MB  # monoview.core.streambytes.MAX_ZERO_FILL today
# The zeros an export may write when its budget is not known (the input failed before): the
# budget's floor, ``export.zeros.export_budget`` of a small capture.
OUTPUT_BUDGET = 64 * MB
MAX_INPUT = 12 * MB
MAX_RECORDS = 100_000  # no further structural mutation of a capture this long


@dataclass
class Limits:
    """What counts as a finding, and when a worker is stopped."""

    hang_s: float = 5.0  # more CPU seconds than this on a file under 1 MB: a hang
    kill_s: float = 60.0  # the worker is killed after this (a hang whatever the size)
    memory_mb: int = 500  # peak RSS above this on a file under 10 MB: an outlier
    address_space_mb: int = 6000  # RLIMIT_AS of a worker: a runaway allocation fails there
    output: int = OUTPUT_BUDGET
    light: bool = False  # smaller storms and floods (the test suite's short run)
    full_every: int = 50  # the seeded sample: one input in this many gets the full tier (1: all)
    ranges_every: int = 3  # of the full tier's inputs, build in ranges one in this many (and damaged ones)
    dispatch_bytes: int = 2 * MB  # dispatch the trace listener on files up to this size
    # A worker is replaced when its RSS after an input stays this many MB above its fresh RSS,
    # or after this many inputs (0: never), so that one input's heap is not charged to the
    # next (``tests/fuzz/recycle.py``).
    recycle_mb: float = 64.0
    recycle_every: int = 5000


# -- making an input ------------------------------------------------------------------


def build(bases: list[Base], seed: int, index: int, light: bool = False) -> tuple[bytes, list[str], str]:
    """Input ``index`` of campaign ``seed``: its bytes, the plan (what each mutator did), its base
    (``light``: the test suite's smaller storms and floods)."""
    mutators.LIGHT = light
    rng = random.Random(f"{seed}:{index}")
    base = choose(bases, rng)
    cap = base.cap.copy()
    plan: list[str] = []
    structural = rng.choice([0, 1, 1, 1, 1, 2, 2, 3])
    for _ in range(structural):
        if len(cap.records) > MAX_RECORDS:
            break
        mutate: Any = mutators.pick(rng, mutators.STRUCTURAL)
        plan.append(_guarded(mutate, cap, rng, lambda: choose(bases, rng).cap))
    buf, marks = cap.serialize()
    del cap  # the records (360 MB of 41:224819's): the bytewise mutators change the bytes
    bytewise = rng.choice([0, 0, 1, 1, 2, 3]) if structural else rng.choice([1, 1, 2, 3, 4])
    for _ in range(bytewise):
        mutate = mutators.pick(rng, mutators.BYTEWISE)
        plan.append(_guarded(mutate, buf, marks, rng))
    if len(buf) > MAX_INPUT:
        del buf[MAX_INPUT:]
        plan.append(f"size_cap({MAX_INPUT})")
    return bytes(buf), plan, base.name


def _guarded(mutate: Callable[..., str], *args: Any) -> str:
    """A mutator's description; a bug in the mutator itself is noted in the plan, not fatal."""
    try:
        return mutate(*args)
    except Exception as exc:  # noqa: BLE001 - the fuzzer's own bug must not pass for a finding
        return f"{mutate.__name__}!{type(exc).__name__}: {exc}"


# -- running one input ------------------------------------------------------------------


def _status_kb(name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name):
                return int(line.split()[1])
    return 0


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux 4.0+); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def _signature(exc: BaseException) -> str:
    """The exception's type and the innermost monoview frame it passed (the bug's place)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/monoview/" in f.filename] or frames
    where = ""
    if ours:
        last = ours[-1]
        where = f" at {last.filename.split('/monoview/')[-1]}:{last.lineno} ({last.name})"
    return f"{type(exc).__name__}{where}"


class _Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage()[:300])


def run_input(path: Path, index: int = 0, limits: Limits | None = None) -> dict[str, Any]:
    """Run one capture through every entry point; what happened (see the module docstring)."""
    from monoview.core.document import CaptureDocument
    from monoview.core.errors import CaptureFormatError, MonoviewError

    limits = limits or Limits()
    size = path.stat().st_size
    out: dict[str, Any] = {"size": size, "status": "ok", "stage": "open"}
    recycle.release_heap()  # what making the input freed is not the input's (``recycle``)
    reset_peak()
    out["base_mb"] = recycle.rss_mb()  # the peak cannot be measured below this
    started = time.perf_counter()
    cpu = time.process_time()
    handler = _Counting()
    logging.getLogger().addHandler(handler)
    stderr, sys.stderr = sys.stderr, io.StringIO()
    try:
        out["_at"] = time.process_time()
        options = stages.document_options(index)
        if options is not None:
            out["options"] = str(options)
        document = CaptureDocument(path, options, workers=1)
        try:
            later = stages.cheap(document, out, index)
            out["_logged"] = bool(handler.messages) or bool(sys.stderr.getvalue())  # type: ignore[attr-defined]
            reasons = stages.unusual(document, out, time.process_time() - cpu)
            damaged = document.read_error is not None
            extra = stages.extra_stages(index, reasons, damaged, limits.full_every, limits.ranges_every)
            if size >= MB:
                extra = [s for s in extra if s != "analysis"]
            if size < 2 * stages.RANGE_BYTES:
                extra = [s for s in extra if s != "ranges"]
            if size > limits.dispatch_bytes:
                extra = [s for s in extra if s != "dispatch"]
            out["tier"] = (
                ("sampled" if stages.sampled(index, limits.full_every) else "unusual") if extra else "cheap"
            )
            if reasons:
                out["unusual"] = reasons
            out["extra"] = extra
            for name in extra:
                if name == "analysis":
                    continue
                stages.stage(out, name)
                if name == "more":
                    stages.more(document, out, index, later)
                elif name == "export":
                    stages.export(document, out, index)
                elif name == "dispatch":
                    stages.dispatch(document, out)
                else:
                    stages.ranges(path, index, out, document if options is None else None)
        finally:
            document.close()
        if "analysis" in extra:
            stages.stage(out, "analysis")
            stages.analysis(path, out)
    except CaptureFormatError as exc:
        out["failed_in"] = out["stage"]
        out["status"] = "format"
        out["message"] = str(exc)[:200]
    except MonoviewError as exc:
        out["failed_in"] = out["stage"]
        out["status"] = "error"
        out["message"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    except Exception as exc:  # noqa: BLE001 - an escape is what this looks for
        out["failed_in"] = out["stage"]
        out["status"] = "escape"
        out["signature"] = _signature(exc)
        out["traceback"] = "".join(traceback.format_exception(exc))[-4000:]
    finally:
        printed = sys.stderr.getvalue()  # type: ignore[attr-defined]
        sys.stderr = stderr
        logging.getLogger().removeHandler(handler)
    stages.stage(out, "done")
    out.pop("_at", None)
    out.pop("_logged", None)
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = time.process_time() - cpu
    out["peak_mb"] = _status_kb("VmHWM") / 1024
    out["log"] = handler.messages[:5]
    out["stderr"] = printed[-2000:]
    return out


def findings(outcome: dict[str, Any], limits: Limits) -> list[tuple[str, str]]:
    """The (class, signature) pairs an outcome shows."""
    found = []
    size = outcome.get("size", 0)
    if outcome.get("status") == "escape":
        found.append(("escape", outcome["signature"]))
    if outcome.get("status") == "crash":
        found.append(("crash", outcome.get("signature", "worker died")))
    if outcome.get("status") == "build":
        found.append(("build", "making the input passed the deadline (the fuzzer's own cost)"))
    for failure in outcome.get("listener_failures", []):
        found.append(("listener", failure.split(":")[0] + ": " + failure.split(": ")[1].split(":")[0]))
    if "ranges" in outcome:
        found.append(("ranges", "a ranged build differs in " + ", ".join(outcome["ranges"]["differ"])))
    if "Traceback" in outcome.get("stderr", ""):
        found.append(("noise", outcome["stderr"].strip().splitlines()[-1][:120]))
    if outcome.get("killed") or (outcome.get("cpu_seconds", 0) > limits.hang_s and size < MB):
        stages = outcome.get("stages") or {}
        slowest = max(stages, key=stages.get) if stages else outcome.get("stage", "?")
        found.append(("hang", f"> {limits.hang_s:g} s, most in {slowest}"))
    if outcome.get("peak_mb", 0) > limits.memory_mb and size < 10 * MB:
        found.append(("memory", f"> {limits.memory_mb} MB"))
    if outcome.get("largest_fill", 0) > MAX_ZERO_FILL:
        found.append(("amplification", f"a gap zero-filled beyond the cap of {MAX_ZERO_FILL // MB} MiB"))
    if outcome.get("zeros", 0) > outcome.get("zero_budget", limits.output):
        found.append(("output", "--gaps zero would write more zeros than the export's budget"))
    return found


# -- workers ---------------------------------------------------------------------------


def _worker(conn: Connection, bases: list[Base], seed: int, limits: Limits, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = limits.address_space_mb * MB
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Index folders, export folders: in memory (on this machine's disk, creating a folder and
    # its files cost more system time than the whole run of a small input).
    tempfile.tempdir = folder
    path = Path(folder) / f"input-{os.getpid()}"
    recycle.release_heap()  # what the parent had freed (inputs it re-made) is not this worker's
    fresh = recycle.rss_mb()
    done = 0
    while True:
        index = conn.recv()
        if index is None:
            break
        began = time.process_time()  # the whole of an input's cost here: making it, running it
        data, plan, base = build(bases, seed, index, limits.light)
        path.write_bytes(data)
        conn.send(("start", index, len(data)))
        try:
            outcome = run_input(path, index, limits)
        except MemoryError:
            outcome = {
                "status": "escape",
                "signature": "MemoryError (outside the entry points)",
                "size": len(data),
            }
        outcome.update(plan=plan, base=base, index=index, worker_cpu=time.process_time() - began)
        # what the parent decides from whether this worker is replaced, and a memory finding
        # run again in a fresh one (``recycle``): the RSS the next input starts from, once the
        # heap's free pages are given back (the next run_input gives them back anyway)
        recycle.release_heap()
        outcome.update(worker_inputs=done, worker_fresh_mb=fresh, worker_rss_mb=recycle.rss_mb())
        done += 1
        conn.send(("done", index, outcome))
    path.unlink(missing_ok=True)


@dataclass
class _Slot:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    index: int | None = None
    started: float = 0.0
    size: int = 0
    first_wall: float | None = None  # the input was killed once after this many seconds
    cpu_at_start: float = 0.0  # the worker's CPU seconds when the input was sent
    recheck_of: float | None = None  # the input is a memory finding's re-run: the first peak (MB)
    built: bool = False  # the worker has made the input and runs monoview on it

    def cpu(self) -> float:
        """The worker's CPU seconds so far (0 where ``/proc`` cannot tell)."""
        return _process_cpu(self.process.pid)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int | None) -> float:
    """User and system CPU seconds of process ``pid``, from ``/proc/PID/stat``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


@dataclass
class Report:
    """What a campaign found."""

    seed: int
    inputs: int = 0
    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)  # cheap, sampled, unusual
    reasons: Counter[str] = field(default_factory=Counter)  # why cheap tiers looked unusual
    stage_seconds: Counter[str] = field(default_factory=Counter)  # CPU seconds, by stage
    worker_cpu: float = 0.0  # CPU seconds the workers spent making and running inputs
    classes: Counter[str] = field(default_factory=Counter)
    signatures: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    mutators: Counter[str] = field(default_factory=Counter)
    slowest: list[tuple[float, int, int]] = field(default_factory=list)  # seconds, size, index
    peak_mb: float = 0.0
    peak_index: int = -1
    amplification: float = 0.0  # largest zero-export bytes / file size
    amplification_index: int = -1
    largest_zero_export: int = 0
    examples: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    interrupted: bool = False  # stopped by Ctrl-C before all inputs ran
    recycled: Counter[str] = field(default_factory=Counter)  # workers replaced, by reason
    rechecked: int = 0  # memory findings run again in a fresh worker
    cleared: int = 0  # of which the fresh run found none: the heap of an input before

    def add(self, outcome: dict[str, Any], limits: Limits) -> list[tuple[str, str]]:
        """Count an outcome; its findings."""
        self.inputs += 1
        self.statuses[outcome.get("status", "?")] += 1
        self.tiers[outcome.get("tier", "none")] += 1
        self.reasons.update(outcome.get("unusual", []))
        self.stage_seconds.update(outcome.get("stages", {}))
        self.worker_cpu += outcome.get("worker_cpu", 0.0)
        for step in outcome.get("plan", []):
            self.mutators[step.split("(")[0]] += 1
        index = outcome.get("index", -1)
        seconds = outcome.get("seconds", 0.0)
        self.slowest.append((seconds, outcome.get("size", 0), index))
        if len(self.slowest) > 200:
            self.slowest = sorted(self.slowest, reverse=True)[:20]
        if outcome.get("peak_mb", 0) > self.peak_mb:
            self.peak_mb, self.peak_index = outcome["peak_mb"], index
        zero = outcome.get("zero_bytes", 0)
        ratio = zero / max(outcome.get("size", 1), 1)
        if zero > self.largest_zero_export:
            self.largest_zero_export = zero
        if ratio > self.amplification:
            self.amplification, self.amplification_index = ratio, index
        found = findings(outcome, limits)
        for key in found:
            self.classes[key[0]] += 1
            seen = self.signatures.setdefault(key, [])
            if len(seen) < 20:
                seen.append(index)
            if key not in self.examples or outcome.get("size", 0) < self.examples[key].get("size", 0):
                self.examples[key] = {
                    k: outcome.get(k)
                    for k in (
                        "index",
                        "size",
                        "base",
                        "plan",
                        "seconds",
                        "peak_mb",
                        "base_mb",
                        "memory_first_peak_mb",
                        "zero_bytes",
                        "traceback",
                        "listener_failures",
                        "stderr",
                        "message",
                    )
                }
        return found

    def summary(self) -> dict[str, Any]:
        """The figures, as JSON-ready values."""
        return {
            "seed": self.seed,
            "inputs": self.inputs,
            "seconds": round(self.seconds, 1),
            "interrupted": self.interrupted,
            "inputs_per_second": round(self.inputs / self.seconds, 1) if self.seconds else None,
            "statuses": dict(self.statuses),
            "tiers": dict(self.tiers),
            "unusual": dict(self.reasons),
            # what the machine's load does not change: a worker's CPU per input, and the rate
            # two cores would give if nothing else ran
            "worker_cpu_ms_per_input": round(self.worker_cpu * 1000 / max(self.inputs, 1), 1),
            "inputs_per_second_on_2_free_cores": round(2 * self.inputs / self.worker_cpu, 1)
            if self.worker_cpu
            else None,
            "cpu_ms_per_input": {
                k: round(v * 1000 / max(self.inputs, 1), 2) for k, v in self.stage_seconds.most_common()
            },
            "findings": dict(self.classes),
            "signatures": {
                f"{c}: {s}": {"count_first": len(v), "inputs": v[:5]}
                for (c, s), v in sorted(self.signatures.items())
            },
            "slowest": [
                {"seconds": round(s, 2), "size": z, "index": i}
                for s, z, i in sorted(self.slowest, reverse=True)[:10]
            ],
            "peak_mb": round(self.peak_mb, 1),
            "peak_index": self.peak_index,
            "workers_recycled": dict(self.recycled),
            "memory_rechecked": self.rechecked,
            "memory_cleared_in_fresh_worker": self.cleared,
            "max_zero_export_ratio": round(self.amplification, 1),
            "max_zero_export_ratio_index": self.amplification_index,
            "largest_zero_export": self.largest_zero_export,
            "mutators": dict(self.mutators.most_common()),
        }


def _preload(bases: list[Base], folder: str) -> None:
    """Import everything an input runs (modules the core imports lazily too), by running one."""
    path = Path(folder) / "preload"
    path.write_bytes(bases[0].data)
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        run_input(path, 1, Limits(ranges_every=1, full_every=1))
    finally:
        tempfile.tempdir = saved
        path.unlink()


def _spawn(bases: list[Base], seed: int, limits: Limits, folder: str) -> _Slot:
    recycle.release_heap()  # the parent re-makes inputs (a crash's, a finding's): 464 MB for 41:224819
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_worker, args=(child, bases, seed, limits, folder), daemon=True)
    process.start()
    child.close()
    return _Slot(process, parent)


def _retire(slot: _Slot) -> None:
    """Stop an idle worker (it removes its input file), killing it if it does not stop."""
    with contextlib.suppress(OSError, BrokenPipeError):
        slot.conn.send(None)
    slot.process.join(timeout=5)
    if slot.process.is_alive():
        slot.process.kill()
        slot.process.join()
    slot.conn.close()


def campaign(
    bases: list[Base],
    seed: int,
    inputs: int,
    *,
    start: int = 0,
    workers: int = 2,
    limits: Limits | None = None,
    out: Path | None = None,
    progress: Callable[[Report], None] | None = None,
    progress_every: float = 30.0,
) -> Report:
    """Run inputs ``start`` .. ``start + inputs - 1`` of campaign ``seed`` on ``workers`` processes.

    With ``out``, every finding is a line of ``out/findings.jsonl`` and the
    first inputs of each signature are kept under ``out/inputs``.
    """
    limits = limits or Limits()
    report = Report(seed)
    folder = tempfile.mkdtemp(prefix="monoview-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    _preload(bases, folder)  # every worker (and every one started again after a kill) runs the same code
    log = None
    if out is not None:
        (out / "inputs").mkdir(parents=True, exist_ok=True)
        log = (out / "findings.jsonl").open("a")
    began = time.monotonic()
    last_progress = began
    queue = iter(range(start, start + inputs))
    # Inputs killed once, to be run again in a fresh worker: on a shared machine a worker may
    # simply not be scheduled for a minute, and only a second kill makes a hang.
    again: list[tuple[int, float]] = []
    slots = [_spawn(bases, seed, limits, folder) for _ in range(workers)]
    busy = 0

    def feed(slot: _Slot, recheck_of: tuple[int, float] | None = None) -> bool:
        first_wall = None
        slot.recheck_of = None
        if recheck_of is not None:
            index, slot.recheck_of = recheck_of
        elif stopping:
            return False
        elif again:
            index, first_wall = again.pop()
        else:
            index = next(queue, None)
        if index is None:
            return False
        slot.index, slot.started, slot.size, slot.first_wall = index, time.monotonic(), 0, first_wall
        slot.cpu_at_start, slot.built = slot.cpu(), False
        slot.conn.send(index)
        return True

    def record(outcome: dict[str, Any]) -> None:
        found = report.add(outcome, limits)
        if found and log is not None:
            log.write(json.dumps({"findings": found, **outcome}, default=str) + "\n")
            log.flush()
            for cls, sig in found:
                kept = report.signatures[(cls, sig)]
                if cls != "build" and len(kept) <= 3 and kept[-1] == outcome["index"]:
                    tag = hashlib.sha1(f"{cls}{sig}".encode()).hexdigest()[:8]
                    data, _plan, _base = build(bases, seed, outcome["index"], limits.light)
                    (out / "inputs" / f"{cls}-{tag}-{outcome['index']}.pcap").write_bytes(data)  # type: ignore[operator]

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True  # Ctrl-C: finish the inputs running, start no more, report

    previous = (
        signal.signal(signal.SIGINT, stop) if threading.current_thread() is threading.main_thread() else None
    )
    try:
        for slot in slots:
            busy += feed(slot)
        while busy:
            last_tick = time.monotonic()
            ready = wait(
                [s.conn for s in slots if s.index is not None] + [s.process.sentinel for s in slots],
                timeout=1.0,
            )
            now = time.monotonic()
            paused = now - last_tick - 1.5  # wait() returns within a second
            if paused > 0:
                # This process was not running (stopped with SIGSTOP, as other benchmarks on
                # this machine do to the campaign, or not scheduled): neither were the workers,
                # most likely, so that time does not count towards a deadline.
                for slot in slots:
                    slot.started += paused
            for n, slot in enumerate(slots):
                if slot.index is None:
                    continue
                died = slot.process.sentinel in ready and not slot.conn.poll()
                # The deadline is the worker's CPU time on this input (a niced worker on a
                # busy machine may get a tenth of a core: 60 s of wall was 6 s of work), and
                # ten times as much wall time (a worker blocked for good).
                wall = now - slot.started
                overdue = wall > 10 * limits.kill_s or (
                    wall > limits.kill_s and slot.cpu() - slot.cpu_at_start > limits.kill_s
                )
                if overdue and slot.first_wall is None:
                    again.append((slot.index, now - slot.started))
                    slot.process.kill()
                    slot.process.join()
                    slots[n] = slot = _spawn(bases, seed, limits, folder)
                    busy += feed(slot) - 1
                    continue
                if died or overdue:
                    outcome: dict[str, Any] = {
                        "index": slot.index,
                        "size": slot.size,
                        "seconds": now - slot.started,
                        "status": "crash" if died else "killed" if slot.built else "build",
                        "killed": overdue and slot.built,
                        "signature": f"exit code {slot.process.exitcode}" if died else "",
                    }
                    if slot.built:
                        _data, plan, base = build(bases, seed, slot.index, limits.light)
                        outcome.update(plan=plan, base=base)
                    else:  # making it again here would take as long: --replay shows its plan
                        outcome.update(plan=["(not made: see --replay)"], base="?")
                    slot.process.kill()
                    slot.process.join()
                    record(outcome)
                    busy -= 1
                    slots[n] = slot = _spawn(bases, seed, limits, folder)
                    busy += feed(slot)
                    continue
                while slot.conn.poll():
                    kind, index, value = slot.conn.recv()
                    if kind == "start":
                        # monoview's deadline starts now: making the input had its own
                        slot.size, slot.built = value, True
                        slot.started, slot.cpu_at_start = time.monotonic(), slot.cpu()
                        continue
                    if slot.first_wall is not None:
                        value["killed_once_after"] = slot.first_wall
                    found = findings(value, limits)
                    if slot.recheck_of is not None:
                        value["memory_first_peak_mb"] = slot.recheck_of
                        report.cleared += not any(cls == "memory" for cls, _sig in found)
                    elif recycle.recheck(value, found):
                        # the peak may be an earlier input's heap: the fresh worker's run counts
                        report.rechecked += 1
                        _retire(slot)
                        slots[n] = slot = _spawn(bases, seed, limits, folder)
                        feed(slot, (index, value["peak_mb"]))
                        break
                    record(value)
                    busy -= 1
                    slot.index = None
                    reason = recycle.retire_reason(value, limits.recycle_mb, limits.recycle_every)
                    if reason is not None:
                        report.recycled[reason] += 1
                        _retire(slot)
                        slots[n] = slot = _spawn(bases, seed, limits, folder)
                    busy += feed(slot)
                    break
            if progress is not None and now - last_progress >= progress_every:
                report.seconds = now - began
                progress(report)
                last_progress = now
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        report.interrupted = stopping
        for slot in slots:
            with contextlib.suppress(OSError, BrokenPipeError):
                slot.conn.send(None)
        for slot in slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.kill()
        shutil.rmtree(folder, ignore_errors=True)
        if log is not None:
            log.close()
    report.seconds = time.monotonic() - began
    return report
