"""Whole-process benchmark: ``monoview sessions`` against tcpflow and tshark on one capture.

For each size asked (e.g. ``100M 1G``) it makes the deterministic synthetic
capture with ``make_big_capture.py`` (cached outside the repository), runs every
command once as a warm-up, then in rounds (A B C ... A B C ...), each run a
separate process measured with ``os.wait4``: wall time, CPU time (user+system)
and peak RSS (``ru_maxrss``).  While a process runs, ``/proc/<pid>/status`` is
sampled for its anonymous memory (``RssAnon``: the process's own memory, as
against mapped file pages, which are page cache).  It reports medians and the
pair-by-pair ratios monoview / other from the same rounds, as a Markdown table
written to ``bench/results/<date>-<size>.md`` (gitignored) and printed.

It also checks the capture against its ``.truth.json`` (sessions, TCP packets,
reassembled bytes from ``monoview sessions --json``), runs ``monoview export``
once into a RAM-backed folder, and counts tshark's conversations and
tcpflow's flow files.

    .venv/bin/python bench/compare_tools.py 100M 1G
    .venv/bin/python bench/compare_tools.py 100M --runs 7 --tools monoview,tcpflow-FX

Stdlib only; Linux (``/proc``, ``os.wait4``, ``/dev/shm``).
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
MAKE_CAPTURE = Path("/work/shared/tools/make_big_capture.py")
RESULTS = REPO / "bench" / "results"
MiB = 1024 * 1024
ALL_TOOLS = ("cat", "monoview", "tcpflow", "tcpflow-FX", "tshark", "export")


# -- captures ------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``100M``, ``1G``, ``512K`` or plain bytes (binary units, as make_big_capture.py)."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMG]?)i?B?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2).upper()]
    return int(float(match.group(1)) * scale)


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


# -- measuring one process -------------------------------------------------------


@dataclass
class Run:
    """One whole-process measurement."""

    wall: float
    cpu: float
    maxrss_mib: float
    anon_mib: float  # peak sampled RssAnon (0 if never sampled)
    status: int
    timed_out: bool = False


def _status_kib(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith((b"RssAnon:", b"VmHWM:", b"RssFile:")):
                    name, value = line.split(b":", 1)
                    values[name.decode()] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


class Sampler(threading.Thread):
    """Polls a process's RssAnon until told to stop (a lower bound of its peak)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.anon_kib = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            anon = _status_kib(self.pid).get("RssAnon", 0)
            self.anon_kib = max(self.anon_kib, anon)
            self.stopped.wait(self.interval)


@dataclass
class Command:
    """A command to time; ``prepare`` makes per-run state (e.g. an empty output folder)."""

    name: str
    argv: Callable[[Path], list[str]]  # the per-run folder -> argv
    env: dict[str, str] = field(default_factory=dict)
    stdout_to: str | None = None  # file name in the run folder, or /dev/null
    runs: int = 0  # 0: the --runs default
    warmup: bool = True
    timeout: float | None = None
    runs_done: list[Run] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # round of each run (pairing)
    note: str = ""


def measure(cmd: Command, work: Path, sample: float) -> Run:
    """Spawn ``cmd`` (stdout to /dev/null or a file in ``work``), wait4 it, return the figures."""
    argv = cmd.argv(work)
    env = dict(os.environ) | cmd.env
    out_path = str(work / cmd.stdout_to) if cmd.stdout_to else os.devnull
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # stderr goes to a file beside the output (tcpflow chats there); shown when the command fails.
    err_fd = os.open(str(work / "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
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
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,
        anon_mib=sampler.anon_kib / 1024,
        status=os.waitstatus_to_exitcode(status),
        timed_out=timed_out.is_set(),
    )


def run_once(cmd: Command, ram: Path, sample: float, keep: bool = False) -> tuple[Run, Path]:
    """One run in a fresh folder under ``ram``; the folder is removed unless ``keep``."""
    work = Path(tempfile.mkdtemp(prefix=f"{re.sub(r'[^A-Za-z0-9]+', '-', cmd.name)}-", dir=ram))
    try:
        result = measure(cmd, work, sample)
        if result.status != 0 and not result.timed_out:
            err = (work / "stderr.txt").read_text(errors="replace")[-2000:]
            print(f"  warning: {cmd.name} exited with status {result.status}:\n{err}", file=sys.stderr)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return result, work


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
    return lambda _work: [word.replace("{file}", file) for word in words]


def build_commands(args: argparse.Namespace, capture: Path, big: bool) -> list[Command]:
    f = str(capture)
    tools = set(args.tools.split(","))
    monoview_env = {"PYTHONPATH": args.pythonpath} if args.pythonpath else {}
    monoview = shlex.split(args.monoview)
    cmds: list[Command] = []
    if "monoview" in tools:
        cmds.append(Command("monoview sessions", lambda w: [*monoview, "sessions", f], monoview_env))
    for spec in args.extra:
        name, _, command = spec.partition("=")
        env, words = split_env(command)
        cmds.append(Command(name, _with_file(words, f), env))
    if "tcpflow" in tools and shutil.which("tcpflow"):
        cmds.append(Command("tcpflow -o RAM dir", lambda w: ["tcpflow", "-r", f, "-o", str(w)]))
    if "tcpflow-FX" in tools and shutil.which("tcpflow"):
        cmds.append(
            Command("tcpflow -FX (no flow files)", lambda w: ["tcpflow", "-FX", "-r", f, "-o", str(w)])
        )
    if "tshark" in tools and shutil.which("tshark"):
        cmds.append(
            Command(
                "tshark -q -z conv,tcp",
                lambda w: ["tshark", "-r", f, "-q", "-z", "conv,tcp"],
                stdout_to="conv.txt",
                runs=args.tshark_runs or (1 if big else 3),
                warmup=not big,
                timeout=args.tshark_timeout,
            )
        )
    if "cat" in tools:
        cmds.append(Command("cat FILE > /dev/null", lambda w: ["cat", f]))
    return cmds


# -- checks ------------------------------------------------------------------------


def check_truth(args: argparse.Namespace, capture: Path, ram: Path) -> list[str]:
    """Run ``monoview sessions --json`` once and compare with the generator's truth file."""
    truth = json.loads(capture.with_name(capture.name + ".truth.json").read_text())
    monoview = shlex.split(args.monoview)
    env = {"PYTHONPATH": args.pythonpath} if args.pythonpath else {}
    cmd = Command("monoview sessions --json", lambda w: [*monoview, "sessions", "--json", str(capture)], env,
                  stdout_to="sessions.json")
    run, work = run_once(cmd, ram, args.sample, keep=True)
    try:
        doc = json.loads((work / "sessions.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sessions = doc["sessions"]
    packets = sum(s["packets"] for s in sessions)
    kept = sum(s["c2s_bytes"] + s["s2c_bytes"] for s in sessions)

    def row(what: str, got: int, want: int) -> str:
        return f"| {what} | {got:,} | {want:,} | {'yes' if got == want else '**NO**'} |"

    return [
        f"Truth check (`monoview sessions --json`, {run.wall:.2f} s, exit {run.status}, "
        f"read_error {doc['read_error']!r}):",
        "",
        "| quantity | monoview | truth file | equal |",
        "|---|---|---|---|",
        row("TCP sessions", len(sessions), truth["tcp_sessions"]),
        row("TCP packets (sum of per-session packets)", packets, truth["tcp_packets"]),
        row("reassembled stream bytes (c2s + s2c kept)", kept, truth["tcp_stream_bytes"]),
        f"| all packets in the file (truth) | - | {truth['packets']:,} | - |",
        "",
    ]


def tshark_conversations(path: Path) -> int | None:
    """Rows of tshark's ``conv,tcp`` table (lines with ``<->``)."""
    try:
        return sum(1 for line in path.read_text(errors="replace").splitlines() if "<->" in line)
    except OSError:
        return None


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


def paired(a: Command, b: Command) -> list[float]:
    """a/b wall-time ratios of the runs made in the same round."""
    b_by_round = dict(zip(b.rounds, b.runs_done, strict=True))
    return [
        run.wall / b_by_round[r].wall
        for r, run in zip(a.rounds, a.runs_done, strict=True)
        if r in b_by_round and not b_by_round[r].timed_out
    ]


def table(cmds: list[Command], ref: Command | None, size: int) -> list[str]:
    lines = [
        "| command | runs | wall median s (min-max) | CPU s | peak RSS MiB | anon MiB (sampled peak) "
        "| MB/s | monoview / this, paired wall ratio median (min-max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cmd in cmds:
        runs = cmd.runs_done
        if not runs:
            continue
        walls = [r.wall for r in runs]
        timeout = " (timed out)" if any(r.timed_out for r in runs) else ""
        ratio = "-"
        if ref is not None and cmd is not ref:
            ratios = paired(ref, cmd)
            if ratios:
                ratio = f"{fmt(med(ratios))} ({fmt(min(ratios))}-{fmt(max(ratios))}), {len(ratios)} pairs"
        elif cmd is ref:
            ratio = "1"
        lines.append(
            f"| {cmd.name}{timeout} | {len(runs)} | {fmt(med(walls))} ({fmt(min(walls))}-{fmt(max(walls))}) "
            f"| {fmt(med([r.cpu for r in runs]))} | {med([r.maxrss_mib for r in runs]):.0f} "
            f"| {max(r.anon_mib for r in runs):.0f} | {size / 1e6 / med(walls):.0f} | {ratio} |"
        )
    return lines


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def versions() -> str:
    out = []
    for argv in (["tshark", "-v"], ["tcpflow", "-V"]):
        if shutil.which(argv[0]):
            text = subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()
            out.append(text[0] if text else argv[0])
    return "; ".join(out)


# -- main -------------------------------------------------------------------------------


def bench_size(args: argparse.Namespace, label: str, ram: Path) -> str:
    capture = make_capture(label, Path(args.cache), args.seed)
    size = capture.stat().st_size
    big = size >= 512 * MiB
    runs = args.runs or (3 if big else 5)
    cmds = build_commands(args, capture, big)
    print(f"== {capture} ({size:,} bytes): {runs} rounds after a warm-up", flush=True)
    load_before = os.getloadavg()
    for cmd in cmds:
        if cmd.warmup:
            run, _ = run_once(cmd, ram, args.sample)
            print(f"  warm-up {cmd.name}: {run.wall:.3f} s", flush=True)
    for rnd in range(runs):
        for cmd in cmds:
            if len(cmd.runs_done) >= (cmd.runs or runs):
                continue
            run, folder = run_once(cmd, ram, args.sample, keep=cmd.stdout_to is not None)
            cmd.runs_done.append(run)
            cmd.rounds.append(rnd)
            if cmd.stdout_to is not None:
                if cmd.name.startswith("tshark"):
                    cmd.note = f"{tshark_conversations(folder / cmd.stdout_to)} TCP conversations listed"
                shutil.rmtree(folder, ignore_errors=True)
            print(f"  round {rnd + 1} {cmd.name}: {run.wall:.3f} s", flush=True)
    load_after = os.getloadavg()
    ref = next((c for c in cmds if c.name == "monoview sessions"), None)

    notes: list[str] = []
    if "tcpflow" in args.tools and shutil.which("tcpflow"):
        counted = Command("tcpflow count", lambda w: ["tcpflow", "-r", str(capture), "-o", str(w)])
        _run, flow_dir = run_once(counted, ram, args.sample, keep=True)
        files = sum(1 for p in flow_dir.iterdir() if p.name not in ("report.xml", "stderr.txt"))
        shutil.rmtree(flow_dir, ignore_errors=True)
        notes.append(f"tcpflow wrote {files:,} flow files (one per direction of each connection).")
    for cmd in cmds:
        if cmd.note:
            notes.append(f"{cmd.name}: {cmd.note}.")

    export_lines: list[str] = []
    if "export" in args.tools:
        monoview = shlex.split(args.monoview)
        env = {"PYTHONPATH": args.pythonpath} if args.pythonpath else {}
        export = Command("monoview export --out RAM dir",
                         lambda w: [*monoview, "export", str(capture), "--out", str(w / "out")], env)
        run, work = run_once(export, ram, args.sample, keep=True)
        exported = [p for p in (work / "out").rglob("*") if p.is_file()]
        written = sum(p.stat().st_size for p in exported)
        shutil.rmtree(work, ignore_errors=True)
        export.runs_done, export.rounds = [run], [-1]
        export_lines = [
            "",
            f"`monoview export` (once, into a folder under {ram}): wall {run.wall:.2f} s, "
            f"CPU {run.cpu:.2f} s, peak RSS {run.maxrss_mib:.0f} MiB, anon {run.anon_mib:.0f} MiB (sampled); "
            f"{len(exported):,} files, {written / 1e6:,.0f} MB written; exit {run.status}.",
        ]

    truth_lines = check_truth(args, capture, ram) if "monoview" in args.tools else []
    mem_lines: list[str] = []
    if ref is not None and ref.runs_done:
        rss = med([r.maxrss_mib for r in ref.runs_done])
        anon = max(r.anon_mib for r in ref.runs_done)
        mem_lines = [
            f"monoview peak RSS {rss:.0f} MiB = {rss * MiB / size:.2f} x the file size "
            f"({size / MiB:.0f} MiB); the mapped file's pages it touched are page cache (shared, "
            f"reclaimable) and count in RSS; its own anonymous memory peaked at ~{anon:.0f} MiB "
            f"({anon * MiB / size:.2f} x the file size; RssAnon sampled every {args.sample * 1000:.0f} ms).",
        ]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = [
        f"## {label} capture: {capture.name}",
        "",
        f"{size:,} bytes; {when}; {machine()}; {versions()}.",
        f"Load average before {load_before[0]:.2f}, after {load_after[0]:.2f}. "
        f"Command: `{' '.join(shlex.quote(a) for a in sys.argv)}`",
        "",
        *table(cmds, ref, size),
        *export_lines,
        "",
        *truth_lines,
        *mem_lines,
        *([""] + notes if notes else []),
        "",
    ]
    return "\n".join(report)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", default=["100M", "1G"], help="capture sizes (default 100M 1G)")
    parser.add_argument("--runs", type=int, default=0, help="timed rounds (default 5; 3 for >= 512 MiB)")
    parser.add_argument("--tshark-runs", type=int, default=0, help="tshark runs (default 3; 1 if >= 512 MiB)")
    parser.add_argument("--tshark-timeout", type=float, default=900.0, help="seconds before tshark is killed")
    parser.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"subset of {','.join(ALL_TOOLS)}")
    parser.add_argument("--monoview", default=str(REPO / ".venv" / "bin" / "monoview"), help="the command")
    parser.add_argument("--pythonpath", help="PYTHONPATH for monoview (run another source tree)")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=COMMAND",
                        help="another command to pair with monoview; {file} is the capture; "
                        "leading VAR=value words set its environment")
    parser.add_argument("--cache", default=str(cache_dir()), help="where captures are made and kept")
    parser.add_argument("--ram", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                        help="RAM-backed folder for output folders")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=float, default=0.01, help="RssAnon sampling interval, seconds")
    parser.add_argument("--results", default=str(RESULTS), help="where the Markdown reports go")
    args = parser.parse_args(argv)
    ram = Path(tempfile.mkdtemp(prefix="monoview-bench-", dir=args.ram))
    try:
        for label in args.sizes:
            report = bench_size(args, label, ram)
            print(report, flush=True)
            out = Path(args.results)
            out.mkdir(parents=True, exist_ok=True)
            name = f"{dt.date.today().isoformat()}-{label}.md"
            (out / name).write_text(report)
            print(f"written {out / name}", flush=True)
    finally:
        shutil.rmtree(ram, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
