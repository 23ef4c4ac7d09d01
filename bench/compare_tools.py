"""Whole-process benchmark of monoview against tcpflow (and, if asked, tshark) on synthetic captures.

For each size asked (e.g. ``100M 1G``) it makes the deterministic synthetic
capture with ``make_big_capture.py`` (cached outside the repository) and measures:

* the session list: ``monoview sessions FILE`` paired with ``tcpflow -FX -r FILE -o DIR``,
  ``tcpflow -r FILE -o DIR`` (DIR in RAM, ``/dev/shm``), ``cat FILE`` and, with
  ``--tools ...,tshark``, ``tshark -q -z conv,tcp``; then ``monoview sessions --json`` is
  checked against the generator's ``FILE.truth.json``;
* the export: ``monoview export FILE --out DIR --layout directions`` (``--export-args``)
  paired with ``tcpflow -r FILE -o DIR2``, both folders on the same filesystem, once in
  ``/dev/shm`` and once on the disk (``--disk``, default the temporary folder);
* the conversation on demand: ``bench/conversation_time.py FILE`` in separate processes,
  the seconds of ``CaptureDocument(FILE).conversation(id)`` of the largest session.

Once per call (unless ``--tools`` leaves ``tiny`` out) it also exports a capture of
``--tiny-sessions`` one-byte sessions (``bench/tiny_sessions.py``) on disk and in RAM.

Every run is a separate process started with ``posix_spawn`` in a fresh empty folder
(removed after the run, outside the timing) and reaped with ``os.wait4``: wall time,
CPU time (user + system), system time and peak RSS (``ru_maxrss``: the largest process
of its tree).  While it runs, ``/proc/<pid>/status`` of the main process is sampled for
``RssAnon``, ``RssShmem`` and ``RssFile``.  Commands run once as a warm-up, then in rounds
(A B C ... A B C ...); each pair's ratio is the median of the wall-time ratios of the
runs made in the same round.  Reports (Markdown, with the exact commands) go to
``bench/results/<date>-<size>.md`` (gitignored) and to standard output.

    .venv/bin/python bench/compare_tools.py 100M 1G
    .venv/bin/python bench/compare_tools.py 100M --runs 7 --tools monoview,tcpflow-FX
    .venv/bin/python bench/compare_tools.py tiny --tiny-sessions 20000

Stdlib only (the helper scripts it runs need the project's virtualenv); Linux
(``/proc``, ``os.wait4``, ``/dev/shm``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
MAKE_CAPTURE = REPO.parent / "shared" / "tools" / "make_big_capture.py"
RESULTS = BENCH / "results"
MiB = 1024 * 1024
ALL_TOOLS: Final = ("cat", "monoview", "tcpflow", "tcpflow-FX", "tshark", "export", "conversation", "tiny")
DEFAULT_TOOLS: Final = tuple(t for t in ALL_TOOLS if t != "tshark")
TINY: Final = "tiny"
REJECTED: Final = ("unrecognized arguments", "invalid choice")


# -- captures ------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``100M``, ``1G``, ``512K`` or plain bytes (binary units, as make_big_capture.py)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


def size_label(text: str) -> str:
    if text != TINY:
        parse_size(text)
    return text


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/monoview-bench``, else ``/tmp/monoview-bench``: never the repository."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "monoview-bench" if xdg else Path("/tmp/monoview-bench")


# Short sessions of the captures in research/performance.md; other sizes get 20 per MiB.
SESSIONS: Final = {100 * MiB: 2000, 1024 * MiB: 20000}


def make_capture(label: str, folder: Path, seed: int) -> Path:
    """The synthetic capture for ``label`` (e.g. ``1G``); made once, then reused.

    Same parameters as research/performance.md (``--size 1G --sessions 20000
    --bulk 20 --seed 1``, ``--size 100M --sessions 2000 ...``).
    """
    size = parse_size(label)
    sessions = SESSIONS.get(size, max(1, round(size / MiB * 20)))
    path = folder / f"synthetic-{label}-s{sessions}-b20-seed{seed}.pcap"
    truth = path.with_name(path.name + ".truth.json")
    if path.exists() and truth.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(MAKE_CAPTURE), "-o", str(path), "--size", label,
            "--sessions", str(sessions), "--bulk", "20", "--seed", str(seed), "-q"]
    print(f"making {path} ...", flush=True)
    started = time.monotonic()
    subprocess.run(argv, check=True)
    print(f"  made in {time.monotonic() - started:.1f} s", flush=True)
    return path


def make_tiny(folder: Path, sessions: int, python: str) -> Path:
    """The capture of ``sessions`` one-byte sessions (bench/tiny_sessions.py); made once, then reused."""
    path = folder / f"tiny-sessions-n{sessions}-v1.pcap"
    if path.exists() and path.with_name(path.name + ".truth.json").exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    print(f"making {path} ...", flush=True)
    argv = [python, str(BENCH / "tiny_sessions.py"), "-o", str(path), "-n", str(sessions)]
    subprocess.run(argv, check=True)
    return path


# -- measuring one process -------------------------------------------------------


@dataclass
class Run:
    """One whole-process measurement."""

    wall: float
    cpu: float  # user + system
    sys: float
    maxrss_mib: float  # ru_maxrss: the largest process of the tree
    anon_mib: float  # sampled peaks of the main process (0 if never sampled)
    tree_anon_mib: float  # sampled peak of Pss_Anon summed over the process and its children
    shmem_mib: float
    file_mib: float
    status: int
    timed_out: bool = False
    sync_s: float | None = None  # os.sync() right after the process, when the command asks for it


SAMPLED: Final = (b"RssAnon:", b"RssShmem:", b"RssFile:")


def _status_kib(pid: int) -> dict[bytes, int]:
    values: dict[bytes, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(SAMPLED):
                    name, value = line.split(b":", 1)
                    values[name + b":"] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def _tree(pid: int) -> list[int]:
    """The process and its descendants (worker processes), from /proc/PID/task/*/children."""
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                for child in handle.read().split():
                    out += _tree(int(child))
    except (OSError, ValueError):
        pass
    return out


def _pss_anon_kib(pid: int) -> int:
    """Pss_Anon: the process's anonymous memory, pages shared after a fork counted once
    in total (split between the processes that share them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss_Anon:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Sampler(threading.Thread):
    """Polls a process's RssAnon, RssShmem and RssFile, and the Pss_Anon of it and its
    worker processes together, until told to stop (lower bounds of the peaks)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = dict.fromkeys(SAMPLED, 0)
        self.tree_peak_kib = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for name, kib in _status_kib(self.pid).items():
                self.peak_kib[name] = max(self.peak_kib[name], kib)
            total = sum(_pss_anon_kib(p) for p in _tree(self.pid))
            self.tree_peak_kib = max(self.tree_peak_kib, total)
            self.stopped.wait(self.interval)


@dataclass(eq=False)
class Command:
    """A command to time.  ``argv`` gets the run's fresh folder RUN (its output folder is RUN/out)."""

    name: str
    argv: Callable[[Path], list[str]]
    base: Path  # where the run folders are made (RAM or disk)
    env: dict[str, str] = field(default_factory=dict)
    stdout_to: str | None = None  # file name in the run folder, else /dev/null
    runs: int = 0  # 0: the section's default
    warmup: bool = True
    timeout: float | None = None
    sync: bool = False  # os.sync() before each run, and timed right after it (disk output)
    count: bool = False  # count the files written to RUN/out (first run)
    ref: Command | None = None  # the pair: ratio ref / this, same rounds
    # looks at the run folder before it is removed: (RUN, the run, whether it was the warm-up)
    after: Callable[[Path, Run, bool], None] | None = None
    runs_done: list[Run] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # round of each run (pairing)
    output: str = ""  # what was written (count)
    notes: list[str] = field(default_factory=list)


def measure(cmd: Command, run_dir: Path, sample: float) -> Run:
    """Spawn ``cmd`` (stdout to /dev/null or a file in ``run_dir``), wait4 it, return the figures."""
    argv = cmd.argv(run_dir)
    env = dict(os.environ) | cmd.env
    out_path = str(run_dir / cmd.stdout_to) if cmd.stdout_to else os.devnull
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # stderr goes beside the output folder (tcpflow chats there); shown when the command fails.
    err_fd = os.open(str(run_dir / "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    actions = [
        (os.POSIX_SPAWN_DUP2, out_fd, 1),
        (os.POSIX_SPAWN_DUP2, err_fd, 2),
        (os.POSIX_SPAWN_CLOSE, out_fd),
        (os.POSIX_SPAWN_CLOSE, err_fd),
    ]
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
    os.close(out_fd)
    os.close(err_fd)
    sampler = Sampler(pid, sample)
    sampler.start()
    timer: threading.Timer | None = None
    timed_out = threading.Event()
    if cmd.timeout:

        def kill() -> None:
            timed_out.set()
            os.kill(pid, 9)

        timer = threading.Timer(cmd.timeout, kill)
        timer.start()
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if timer is not None:
        timer.cancel()
    sampler.stopped.set()
    sampler.join()
    peak = sampler.peak_kib
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        sys=usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,
        anon_mib=peak[b"RssAnon:"] / 1024,
        tree_anon_mib=sampler.tree_peak_kib / 1024,
        shmem_mib=peak[b"RssShmem:"] / 1024,
        file_mib=peak[b"RssFile:"] / 1024,
        status=os.waitstatus_to_exitcode(status),
        timed_out=timed_out.is_set(),
    )


def count_files(folder: Path) -> tuple[int, int]:
    """Files under ``folder`` and their total size."""
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(root, name)).st_size
    return files, size


def run_once(cmd: Command, sample: float, warm: bool = False) -> Run:
    """One run in a fresh folder RUN under ``cmd.base`` (RUN/out made empty); RUN is removed after."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{re.sub(r'[^A-Za-z0-9]+', '-', cmd.name)}-", dir=cmd.base))
    try:
        (run_dir / "out").mkdir()
        if cmd.sync:
            os.sync()
        result = measure(cmd, run_dir, sample)
        if cmd.sync:
            started = time.perf_counter()
            os.sync()
            result.sync_s = time.perf_counter() - started
        if result.status != 0 and not result.timed_out:
            err = (run_dir / "stderr.txt").read_text(errors="replace")[-2000:]
            print(f"  warning: {cmd.name} exited with status {result.status}:\n{err}", file=sys.stderr)
        if cmd.count and not cmd.output:
            files, size = count_files(run_dir / "out")
            cmd.output = f"{files:,} files, {size / 1e6:,.0f} MB"
            manifest = run_dir / "out" / "manifest.json"
            if manifest.exists():
                try:
                    streams = len(json.loads(manifest.read_text())["streams"])
                    cmd.output += f", {streams:,} sessions in manifest.json"
                except (OSError, ValueError, KeyError, TypeError):
                    cmd.output += ", manifest.json unreadable"
        if cmd.after is not None:
            cmd.after(run_dir, result, warm)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if cmd.sync:
            os.sync()
    return result


def run_rounds(cmds: list[Command], runs: int, sample: float) -> None:
    """A warm-up of each command (unless it has none), then rounds A B C ... until all have their runs."""
    for cmd in cmds:
        if cmd.warmup:
            run = run_once(cmd, sample, warm=True)
            print(f"  warm-up {cmd.name}: {run.wall:.3f} s", flush=True)
    for rnd in range(max([c.runs or runs for c in cmds], default=0)):
        for cmd in cmds:
            if len(cmd.runs_done) >= (cmd.runs or runs):
                continue
            run = run_once(cmd, sample)
            cmd.runs_done.append(run)
            cmd.rounds.append(rnd)
            print(f"  round {rnd + 1} {cmd.name}: {run.wall:.3f} s", flush=True)


# -- the commands ----------------------------------------------------------------


def split_env(command: str) -> tuple[dict[str, str], list[str]]:
    """``VAR=x VAR2=y prog args`` -> ({VAR: x, VAR2: y}, [prog, args])."""
    words = shlex.split(command)
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


def _with_file(words: list[str], file: str) -> Callable[[Path], list[str]]:
    return lambda run: [word.replace("{file}", file).replace("{out}", str(run / "out")) for word in words]


def monoview_env(args: argparse.Namespace) -> dict[str, str]:
    return {"PYTHONPATH": args.pythonpath} if args.pythonpath else {}


def describe(cmd: Command) -> str:
    """The exact command line, RUN standing for the run's fresh folder."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in cmd.env.items())
    line = shlex.join(cmd.argv(Path("RUN")))
    out = f"RUN/{cmd.stdout_to}" if cmd.stdout_to else "/dev/null"
    return f"{env + ' ' if env else ''}{line} > {out} 2> RUN/stderr.txt"


def session_commands(args: argparse.Namespace, capture: Path, big: bool, ram: Path) -> list[Command]:
    f = str(capture)
    tools = args.tool_set
    monoview = shlex.split(args.monoview)
    cmds: list[Command] = []
    ref: Command | None = None
    if "monoview" in tools:
        ref = Command("monoview sessions", lambda r: [*monoview, "sessions", f], ram, monoview_env(args))
        cmds.append(ref)
    for spec in args.extra:
        name, _, command = spec.partition("=")
        env, words = split_env(command)
        cmds.append(Command(name, _with_file(words, f), ram, env))
    if "tcpflow-FX" in tools and shutil.which("tcpflow"):
        cmds.append(Command("tcpflow -FX (no flow files)",
                            lambda r: ["tcpflow", "-FX", "-r", f, "-o", str(r / "out")], ram))
    if "tcpflow" in tools and shutil.which("tcpflow"):
        cmds.append(Command("tcpflow -o DIR (in RAM)", lambda r: ["tcpflow", "-r", f, "-o", str(r / "out")],
                            ram, count=True))
    if "tshark" in tools and shutil.which("tshark"):
        tshark = Command(
            "tshark -q -z conv,tcp",
            lambda r: ["tshark", "-r", f, "-q", "-z", "conv,tcp"],
            ram,
            stdout_to="conv.txt",
            runs=args.tshark_runs or (1 if big else 3),
            warmup=not big,
            timeout=args.tshark_timeout,
        )

        def conversations(run_dir: Path, _run: Run, _warm: bool, cmd: Command = tshark) -> None:
            text = (run_dir / "conv.txt").read_text(errors="replace")
            rows = sum(1 for line in text.splitlines() if "<->" in line)
            cmd.notes[:] = [f"{rows:,} TCP conversations listed"]

        tshark.after = conversations
        cmds.append(tshark)
    if "cat" in tools:
        cmds.append(Command("cat FILE > /dev/null", lambda r: ["cat", f], ram))
    for cmd in cmds:
        if cmd is not ref:
            cmd.ref = ref
    return cmds


def export_commands(args: argparse.Namespace, capture: Path, places: list[tuple[str, Path, bool]],
                    runs: int = 0) -> tuple[list[Command], list[tuple[Command, Command]]]:
    """``monoview export`` and ``tcpflow -o`` into fresh folders of each place; pairs across places."""
    f = str(capture)
    monoview = shlex.split(args.monoview)
    extra = list(args.export_words)
    cmds: list[Command] = []
    exports: list[Command] = []

    def tcpflow_argv(r: Path) -> list[str]:
        return ["tcpflow", "-r", f, "-o", str(r / "out")]

    for where, base, sync in places:
        export = Command(f"monoview export ({where})",
                         lambda r: [*monoview, "export", f, "--out", str(r / "out"), *extra], base,
                         monoview_env(args), runs=runs, sync=sync, count=True)
        cmds.append(export)
        exports.append(export)
        if shutil.which("tcpflow"):
            tcpflow = Command(f"tcpflow -o DIR ({where})", tcpflow_argv,
                              base, runs=runs, sync=sync, count=True, ref=export)
            cmds.append(tcpflow)
    cross = [(exports[i], exports[j]) for i in range(len(exports)) for j in range(i + 1, len(exports))]
    return cmds, cross


def conversation_command(args: argparse.Namespace, capture: Path, ram: Path) -> tuple[Command, list[dict]]:
    found: list[dict] = []

    def parse(run_dir: Path, run: Run, warm: bool) -> None:
        if warm:
            return
        text = (run_dir / "conversation.json").read_text(errors="replace").strip()
        if run.status == 0 and text:
            found.append(json.loads(text.splitlines()[-1]))

    argv = [args.python, str(BENCH / "conversation_time.py"), str(capture)]
    cmd = Command("conversation_time.py", lambda r: argv, ram, monoview_env(args),
                  stdout_to="conversation.json", runs=args.conv_runs, after=parse)
    return cmd, found


# -- exploring what the running monoview accepts ------------------------------------------


def probe_export_args(args: argparse.Namespace, ram: Path) -> tuple[list[str], str]:
    """``--export-args`` if the running monoview accepts them (tried on an empty capture), else none."""
    words = shlex.split(args.export_args)
    if not words:
        return [], ""
    probe = Path(tempfile.mkdtemp(prefix="probe-", dir=ram))
    try:
        empty = probe / "empty.pcap"
        empty.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        argv = [*shlex.split(args.monoview), "export", str(empty), "--out", str(probe / "out"), *words]
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ) | monoview_env(args))
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    message = (done.stderr.strip().splitlines() or [""])[-1]
    if done.returncode == 2 and any(text in done.stderr for text in REJECTED):
        note = (f"**The running monoview rejects `{shlex.join(words)}`** (exit 2: `{message}`), so the "
                f"export rows measure plain `monoview export FILE --out DIR`.")
        print(f"  {note}", flush=True)
        return [], note
    if done.returncode != 0:
        print(f"  warning: export probe exited {done.returncode}: {message}", file=sys.stderr)
    return words, f"`monoview export` takes `{shlex.join(words)}` (checked on an empty capture)."


# -- checks ------------------------------------------------------------------------


def check_truth(args: argparse.Namespace, capture: Path, ram: Path) -> list[str]:
    """Run ``monoview sessions --json`` once and compare with the generator's truth file."""
    truth = json.loads(capture.with_name(capture.name + ".truth.json").read_text())
    monoview = shlex.split(args.monoview)
    got: list[dict] = []
    def parse(run_dir: Path, _run: Run, _warm: bool) -> None:
        got.append(json.loads((run_dir / "sessions.json").read_text()))

    cmd = Command("monoview sessions --json", lambda r: [*monoview, "sessions", "--json", str(capture)], ram,
                  monoview_env(args), stdout_to="sessions.json", after=parse)
    run = run_once(cmd, args.sample)
    doc = got[0]
    sessions = doc["sessions"]
    packets = sum(s["packets"] for s in sessions)
    kept = sum(s["c2s_bytes"] + s["s2c_bytes"] for s in sessions)

    def row(what: str, value: int, want: int) -> str:
        return f"| {what} | {value:,} | {want:,} | {'yes' if value == want else '**NO**'} |"

    return [
        f"Truth check: `{describe(cmd)}` ({run.wall:.2f} s, exit {run.status}, "
        f"read_error {doc['read_error']!r}) against `{capture.name}.truth.json`:",
        "",
        "| quantity | monoview | truth file | equal |",
        "|---|---|---|---|",
        row("TCP sessions", len(sessions), truth["tcp_sessions"]),
        row("TCP packets (sum of per-session packets)", packets, truth["tcp_packets"]),
        row("reassembled stream bytes (sum of c2s_bytes + s2c_bytes)", kept, truth["tcp_stream_bytes"]),
        f"| all packets in the file (truth) | - | {truth['packets']:,} | - |",
    ]


# -- statistics and the report ---------------------------------------------------------


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(x: float) -> str:
    """3 significant digits, at least 3 decimals below 1."""
    if x != x:  # nan
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def spread(values: Sequence[float]) -> str:
    return f"{fmt(med(values))} ({fmt(min(values))}-{fmt(max(values))})" if values else "-"


def paired(a: Command, b: Command) -> list[float]:
    """a/b wall-time ratios of the runs made in the same round."""
    b_by_round = dict(zip(b.rounds, b.runs_done, strict=True))
    return [
        run.wall / b_by_round[r].wall
        for r, run in zip(a.rounds, a.runs_done, strict=True)
        if r in b_by_round and not b_by_round[r].timed_out and not run.timed_out
    ]


def ratio_text(a: Command, b: Command) -> str:
    ratios = paired(a, b)
    return f"{spread(ratios)}, {len(ratios)} pair{'s' if len(ratios) > 1 else ''}" if ratios else "-"


def table(cmds: list[Command], size: int | None) -> list[str]:
    """One row per command; the last column is the paired ratio of the command's ``ref`` to it."""
    syncs = any(c.sync for c in cmds)
    counts = any(c.count for c in cmds)
    head = ["command", "runs", "wall s median (min-max)", "CPU s", "sys s", "peak RSS MiB (largest process)",
            "anon / shmem / file MiB (main process, sampled peaks)", "anon MiB, all processes (PSS)"]
    head += ["sync after s"] if syncs else []
    head += ["output (first run)"] if counts else []
    head += ["MB/s"] if size else []
    head += ["paired wall ratio: pair, median (min-max)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cmd in cmds:
        runs = cmd.runs_done
        if not runs:
            continue
        walls = [r.wall for r in runs]
        timeout = " (timed out)" if any(r.timed_out for r in runs) else ""
        statuses = sorted({str(r.status) for r in runs if r.status and not r.timed_out})
        failed = f" (**exit {','.join(statuses)}**)" if statuses else ""
        ratio = f"{cmd.ref.name} / this: {ratio_text(cmd.ref, cmd)}" if cmd.ref is not None else "-"
        cells = [
            f"{cmd.name}{timeout}{failed}", str(len(runs)), spread(walls), fmt(med([r.cpu for r in runs])),
            fmt(med([r.sys for r in runs])), f"{med([r.maxrss_mib for r in runs]):.0f}",
            f"{max(r.anon_mib for r in runs):.0f} / {max(r.shmem_mib for r in runs):.0f} / "
            f"{max(r.file_mib for r in runs):.0f}",
            f"{max(r.tree_anon_mib for r in runs):.0f}",
        ]
        if syncs:
            cells.append(fmt(med([r.sync_s for r in runs if r.sync_s is not None])) if cmd.sync else "-")
        if counts:
            cells.append(cmd.output or "-")
        if size:
            cells.append(f"{size / 1e6 / med(walls):.0f}")
        cells.append(ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def commands_list(cmds: list[Command]) -> list[str]:
    lines = ["Commands (RUN = a fresh folder made for each run under the folder named, removed after it):",
             ""]
    for cmd in cmds:
        warm = "a warm-up run, then " if cmd.warmup else ""
        sync = "; `sync` before, timed `sync` after" if cmd.sync else ""
        lines.append(f"* {cmd.name} ({warm}{len(cmd.runs_done)} timed; RUN under `{cmd.base}`{sync}): "
                     f"`{describe(cmd)}`")
    return lines


def first_line(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].rstrip(".") if text else "?"


def git_commit() -> str:
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return commit + ("+dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def filesystem(path: Path) -> str:
    """The type and device of the filesystem holding ``path`` (longest mount point in /proc/mounts)."""
    real, best = os.path.realpath(path), ("", "?", "?")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, point, kind = line.split()[:3]
            point = point.replace("\\040", " ")
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and len(point) > len(best[0]):
                best = (point, kind, device)
    except OSError:
        pass
    return f"{best[1]} ({best[2]} on {best[0]})"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def header(args: argparse.Namespace, load_start: str, load_end: str) -> list[str]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    where = f", run with PYTHONPATH={args.pythonpath}" if args.pythonpath else ""
    return [
        f"Machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}, {mem:.0f} GiB RAM, "
        f"{platform.platform()}, Python {platform.python_version()}; load average (1/5/15 min) "
        f"at start {load_start}, at end {load_end}. monoview: commit {git_commit()} of {REPO}{where} "
        f"(`{args.monoview} --version`: {first_line([*shlex.split(args.monoview), '--version'])}). "
        f"tcpflow: {first_line(['tcpflow', '-V'])}. tshark: {first_line(['tshark', '-v'])}.",
        "",
        f"Call: `{shlex.join([sys.executable, *sys.argv])}`; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. "
        f"Folders: RAM `{args.ram_base}` = {filesystem(args.ram_base)}; "
        f"disk `{args.disk_base}` = {filesystem(args.disk_base)}.",
    ]


def conversation_lines(cmd: Command, found: list[dict]) -> list[str]:
    if not found:
        return ["`conversation_time.py` gave no result (see the warnings above)."]
    first = found[0]
    seconds = [r["conversation_seconds"] for r in found]
    document = [r["document_seconds"] for r in found]
    same = all(r["conversation_bytes"] == r["bytes"] for r in found)
    return [
        f"Largest session: id {first['session']} (`{first['key']}`), {first['packets']:,} packets, "
        f"{first['bytes']:,} bytes kept ({first['c2s_bytes']:,} c2s + {first['s2c_bytes']:,} s2c), "
        f"{first['monologues']} monologues; the conversation's bytes equal the list's: "
        f"{'yes' if same else '**NO**'}.",
        "",
        "| what (seconds, time.perf_counter inside the process) | runs | median (min-max) |",
        "|---|---|---|",
        f"| `doc.conversation({first['session']})`, first call (uncached) | {len(seconds)} "
        f"| {spread(seconds)} |",
        f"| `CaptureDocument(path)` (not in the figure above) | {len(document)} | {spread(document)} |",
        f"| whole process, wall (wait4) | {len(cmd.runs_done)} | {spread([r.wall for r in cmd.runs_done])} |",
        "",
        f"Peak RSS of the process tree: {med([r.maxrss_mib for r in cmd.runs_done]):.0f} MiB. "
        f"Command ({'a warm-up run, then ' if cmd.warmup else ''}{len(cmd.runs_done)} processes, "
        f"each with a cold conversation cache): `{describe(cmd)}`.",
    ]


# -- main -------------------------------------------------------------------------------


def places(args: argparse.Namespace) -> list[tuple[str, Path, bool]]:
    """(label, folder, sync) of the filesystems the exports write to: RAM, then disk."""
    return [("/dev/shm" if str(args.ram).startswith("/dev/shm") else "RAM", args.ram_base, False),
            ("disk", args.disk_base, not args.no_sync)]


def bench_size(args: argparse.Namespace, label: str) -> str:
    capture = make_capture(label, Path(args.cache), args.seed)
    size = capture.stat().st_size
    big = size >= 512 * MiB
    runs = args.runs or (3 if big else 5)
    tools = args.tool_set
    truth = json.loads(capture.with_name(capture.name + ".truth.json").read_text())
    print(f"== {capture} ({size:,} bytes): {runs} rounds after a warm-up", flush=True)
    load_start = load()
    report = [f"## {label} capture: {capture.name}", ""]
    body: list[str] = [
        "",
        f"{size:,} bytes, {truth['packets']:,} packets, {truth['tcp_sessions']:,} TCP sessions (truth file).",
    ]

    cmds = session_commands(args, capture, big, args.ram_base)
    if cmds:
        print("-- session list", flush=True)
        run_rounds(cmds, runs, args.sample)
        body += ["", "### Session list", "", *table(cmds, size), "", *commands_list(cmds)]
        notes = [f"{c.name}: {n}." for c in cmds for n in c.notes]
        notes += [f"{c.name} wrote {c.output} (one flow file per direction, and report.xml)."
                  for c in cmds if c.output]
        body += ["", *notes] if notes else []
        if "monoview" in tools:
            body += ["", *check_truth(args, capture, args.ram_base)]
            ref = cmds[0]
            rss, anon = med([r.maxrss_mib for r in ref.runs_done]), max(r.anon_mib for r in ref.runs_done)
            tree = max(r.tree_anon_mib for r in ref.runs_done)
            body += ["", f"monoview sessions: peak RSS {rss:.0f} MiB = {rss * MiB / size:.2f} x the file "
                     f"({size / MiB:.0f} MiB; the mapped file's touched pages, page cache, count in RSS); "
                     f"its main process's own anonymous memory peaked at ~{anon:.0f} MiB "
                     f"({anon * MiB / size:.2f} x the file), all its processes' together (PSS) at "
                     f"~{tree:.0f} MiB ({tree * MiB / size:.2f} x the file; sampled every "
                     f"{args.sample * 1000:.0f} ms)."]

    if "export" in tools:
        print("-- export", flush=True)
        ecmds, cross = export_commands(args, capture, places(args), args.export_runs or runs)
        run_rounds(ecmds, args.export_runs or runs, args.sample)
        body += ["", "### Export (both folders of a pair on the same filesystem)", ""]
        body += [*table(ecmds, size), ""]
        body += [f"Paired: {a.name} / {b.name}: {ratio_text(a, b)}." for a, b in cross]
        body += ["", args.export_note, "", *commands_list(ecmds)]

    if "conversation" in tools:
        print("-- conversation on demand", flush=True)
        conv, found = conversation_command(args, capture, args.ram_base)
        run_rounds([conv], args.conv_runs, args.sample)
        body += ["", "### Conversation on demand", "", *conversation_lines(conv, found)]

    report += header(args, load_start, load())
    return "\n".join(report + body) + "\n"


def bench_tiny(args: argparse.Namespace) -> str:
    capture = make_tiny(Path(args.cache), args.tiny_sessions, args.python)
    size = capture.stat().st_size
    print(f"== {capture} ({size:,} bytes): {args.tiny_runs} rounds after a warm-up", flush=True)
    load_start = load()
    cmds, cross = export_commands(args, capture, places(args))
    run_rounds(cmds, args.tiny_runs, args.sample)
    made = [args.python, str(BENCH / "tiny_sessions.py"), "-o", str(capture), "-n", str(args.tiny_sessions)]
    body = [
        "",
        f"{size:,} bytes: {args.tiny_sessions:,} TCP sessions of 8 frames (handshake, one 1-byte segment "
        f"from the client, its ACK, FIN, FIN, ACK), each with its own client address, from "
        f"`{shlex.join(made)}`.",
        "",
        *table(cmds, None),
        "",
        *[f"Paired: {a.name} / {b.name}: {ratio_text(a, b)}." for a, b in cross],
        "",
        args.export_note,
        "",
        *commands_list(cmds),
    ]
    report = [f"## Tiny sessions: {capture.name}", "", *header(args, load_start, load())]
    return "\n".join(report + body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=size_label, default=["100M", "1G"],
                        help="capture sizes (default 100M 1G); 'tiny' alone: only the tiny-sessions export")
    parser.add_argument("--runs", type=int, default=0, help="timed rounds (default 5; 3 for >= 512 MiB)")
    parser.add_argument("--export-runs", type=int, default=0, help="timed export rounds (default: --runs)")
    parser.add_argument("--tshark-runs", type=int, default=0, help="tshark runs (default 3; 1 if >= 512 MiB)")
    parser.add_argument("--tshark-timeout", type=float, default=900.0, help="seconds before tshark is killed")
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS),
                        help=f"subset of {','.join(ALL_TOOLS)} (default: all but tshark)")
    parser.add_argument("--monoview", default=str(REPO / ".venv" / "bin" / "monoview"), help="the command")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python that runs bench/conversation_time.py and tiny_sessions.py")
    parser.add_argument("--pythonpath", help="PYTHONPATH for monoview (run another source tree)")
    parser.add_argument("--export-args", default="--layout directions",
                        help="arguments added to 'monoview export FILE --out DIR' (default: %(default)s); "
                        "dropped, with a note in the report, if the running monoview rejects them")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=COMMAND",
                        help="another command to pair with monoview sessions; {file} is the capture, "
                        "{out} an empty output folder; leading VAR=value words set its environment")
    parser.add_argument("--tiny-sessions", type=int, default=5000, help="sessions of the tiny capture")
    parser.add_argument("--tiny-runs", type=int, default=3, help="timed rounds of the tiny export")
    parser.add_argument("--conv-runs", type=int, default=3, help="processes timing conversation()")
    parser.add_argument("--cache", default=str(cache_dir()), help="where captures are made and kept")
    parser.add_argument("--ram", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                        help="RAM-backed folder for output folders (default /dev/shm)")
    parser.add_argument("--disk", default=tempfile.gettempdir(),
                        help="folder on the disk for the disk exports (default: %(default)s)")
    parser.add_argument("--no-sync", action="store_true", help="no sync around the disk runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=float, default=0.01, help="/proc sampling interval, seconds")
    parser.add_argument("--results", default=str(RESULTS), help="where the Markdown reports go")
    args = parser.parse_args(argv)
    args.tool_set = set(args.tools.split(","))
    unknown = args.tool_set - set(ALL_TOOLS)
    if unknown:
        parser.error(f"unknown tools {','.join(sorted(unknown))}; choose from {','.join(ALL_TOOLS)}")
    labels = list(args.sizes)
    if TINY in args.tool_set and TINY not in labels:
        labels.append(TINY)
    args.ram_base = Path(tempfile.mkdtemp(prefix="monoview-bench-", dir=args.ram))
    args.disk_base = Path(tempfile.mkdtemp(prefix="monoview-bench-", dir=args.disk))
    try:
        if args.ram_base.stat().st_dev == args.disk_base.stat().st_dev:
            print(f"warning: --ram {args.ram} and --disk {args.disk} are one filesystem", file=sys.stderr)
        exporting = "export" in args.tool_set or TINY in labels
        args.export_words, args.export_note = ([], "")
        if exporting:
            args.export_words, args.export_note = probe_export_args(args, args.ram_base)
        out = Path(args.results)
        out.mkdir(parents=True, exist_ok=True)
        for label in labels:
            if label == TINY:
                report, name = bench_tiny(args), f"tiny{args.tiny_sessions}"
            else:
                report, name = bench_size(args, label), label
            print(report, flush=True)
            path = out / f"{dt.date.today().isoformat()}-{name}.md"
            path.write_text(report)
            print(f"written {path}", flush=True)
    finally:
        shutil.rmtree(args.ram_base, ignore_errors=True)
        shutil.rmtree(args.disk_base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
