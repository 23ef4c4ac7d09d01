"""Whole-process benchmark of monoview against tcpflow (and, if asked, tshark) on synthetic captures.

For each size asked (e.g. ``100M 1G``) it makes the deterministic synthetic
capture with ``make_big_capture.py`` (cached outside the repository) and measures:

* the session list: ``monoview sessions FILE`` paired with ``tcpflow -FX -r FILE -o DIR``,
  ``tcpflow -r FILE -o DIR`` (DIR in RAM, ``/dev/shm``), ``cat FILE`` and, with
  ``--tools ...,tshark``, ``tshark -q -z conv,tcp``; then ``monoview sessions --json`` is
  checked against the generator's ``FILE.truth.json``;
* the window: ``monoview --screenshot OUT.png FILE`` (every session listed, the first one
  shown, a picture saved; offscreen) paired with ``tcpflow -FX`` run beside it;
* the export: ``monoview export FILE --out DIR --layout directions`` (``--export-args``)
  paired with ``tcpflow -r FILE -o DIR2``, both folders on the same filesystem, once in
  ``/dev/shm`` and once on the disk (``--disk``, default the temporary folder);
* the conversation on demand: ``bench/conversation_time.py FILE`` in separate processes,
  the seconds of ``CaptureDocument(FILE).conversation(id)`` of the largest session.

Once per call (unless ``--tools`` leaves ``tiny`` out) it also exports a capture of
``--tiny-sessions`` one-byte sessions (``bench/tiny_sessions.py``) on disk and in RAM.

Every run is a separate process started with ``posix_spawn`` in a fresh empty folder
(removed after the run, outside the timing; on disk, after the last round) and reaped
with ``os.wait4``: wall time,
CPU time (user + system), system time and peak RSS (``ru_maxrss``: the largest process
of its tree).  During the warm-up run (or every run of a command without one),
``/proc/<pid>/status`` of the main process is sampled for ``RssAnon``, ``RssShmem`` and
``RssFile``, and ``smaps_rollup`` of its process tree for ``Pss_Anon``; timed runs are
not sampled, because on a 2-core machine the sampling thread (walking the page tables of
every process every 10 ms) takes CPU from a tool that uses both cores, and not from one
that uses one.  Commands run once as a warm-up, then in rounds
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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from commands import (
    check_truth,
    conversation_command,
    export_commands,
    probe_export_args,
    session_commands,
)
from report import (
    commands_list,
    cpu_model,
    describe,
    filesystem,
    first_line,
    git_commit,
    load,
    med,
    ratio_text,
    spread,
    table,
)
from runner import Command, memory_runs, run_rounds

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
MAKE_CAPTURE = REPO.parent / "shared" / "tools" / "make_big_capture.py"
RESULTS = BENCH / "results"
MiB = 1024 * 1024
ALL_TOOLS: Final = (
    "cat", "monoview", "tcpflow", "tcpflow-FX", "tshark", "window", "export", "conversation", "tiny",
)  # fmt: skip
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
            rss = med([r.maxrss_mib for r in ref.runs_done])
            anon = max(r.anon_mib for r in memory_runs(ref))
            tree = max(r.tree_anon_mib for r in memory_runs(ref))
            body += ["", f"monoview sessions: peak RSS {rss:.0f} MiB = {rss * MiB / size:.2f} x the file "
                     f"({size / MiB:.0f} MiB; the mapped file's touched pages, page cache, count in RSS); "
                     f"its main process's own anonymous memory peaked at ~{anon:.0f} MiB "
                     f"({anon * MiB / size:.2f} x the file), all its processes' together (PSS) at "
                     f"~{tree:.0f} MiB ({tree * MiB / size:.2f} x the file; sampled in the warm-up run every "
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


def compile_monoview(args: argparse.Namespace) -> None:
    """Byte-compile the monoview tree under test, as an installation would have it.

    With ``PYTHONDONTWRITEBYTECODE`` set, or after an edit, a module whose
    ``.pyc`` is missing or stale is compiled again by every run: tens of
    milliseconds the user of an installed monoview never pays.
    """
    tree = Path(args.pythonpath) if args.pythonpath else REPO
    package = tree / "monoview"
    if package.is_dir():
        subprocess.run([args.python, "-m", "compileall", "-q", str(package)], check=False)


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
    compile_monoview(args)
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
