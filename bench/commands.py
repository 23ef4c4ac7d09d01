"""The commands the bench runs: monoview and its peers on one capture, and the checks
of what monoview printed (its session list against the generator's truth).

Every builder returns ``runner.Command`` objects whose ``argv`` takes the run's
fresh folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

from report import describe
from runner import Command, Run, run_once

BENCH = Path(__file__).resolve().parent
REJECTED: Final = ("unrecognized arguments", "invalid choice")


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
        cmds.append(
            Command(
                "tcpflow -FX (no flow files)",
                lambda r: ["tcpflow", "-FX", "-r", f, "-o", str(r / "out")],
                ram,
            )
        )
    if "tcpflow" in tools and shutil.which("tcpflow"):
        cmds.append(
            Command(
                "tcpflow -o DIR (in RAM)",
                lambda r: ["tcpflow", "-r", f, "-o", str(r / "out")],
                ram,
                count=True,
            )
        )
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
    if "window" in tools:
        cmds.extend(window_commands(args, capture, ram))
    return cmds


def window_commands(args: argparse.Namespace, capture: Path, ram: Path) -> list[Command]:
    """The window opening the capture (every session listed, the first one shown, a picture
    saved: ``monoview --screenshot``), and tcpflow -FX beside it for the paired ratio."""
    f = str(capture)
    monoview = shlex.split(args.monoview)
    env = monoview_env(args) | {"QT_QPA_PLATFORM": "offscreen"}
    window = Command(
        "monoview --screenshot (the window)",
        lambda r: [*monoview, "--screenshot", str(r / "shot.png"), f],
        ram,
        env,
    )
    cmds = [window]
    if shutil.which("tcpflow"):
        cmds.append(
            Command(
                "tcpflow -FX (beside the window)",
                lambda r: ["tcpflow", "-FX", "-r", f, "-o", str(r / "out")],
                ram,
                ref=window,
            )
        )
    return cmds


def export_commands(
    args: argparse.Namespace, capture: Path, places: list[tuple[str, Path, bool]], runs: int = 0
) -> tuple[list[Command], list[tuple[Command, Command]]]:
    """``monoview export`` and ``tcpflow -o`` into fresh folders of each place; pairs across places."""
    f = str(capture)
    monoview = shlex.split(args.monoview)
    extra = list(args.export_words)
    cmds: list[Command] = []
    exports: list[Command] = []

    def tcpflow_argv(r: Path) -> list[str]:
        return ["tcpflow", "-r", f, "-o", str(r / "out")]

    for where, base, sync in places:
        export = Command(
            f"monoview export ({where})",
            lambda r: [*monoview, "export", f, "--out", str(r / "out"), *extra],
            base,
            monoview_env(args),
            runs=runs,
            sync=sync,
            count=True,
        )
        cmds.append(export)
        exports.append(export)
        if shutil.which("tcpflow"):
            tcpflow = Command(
                f"tcpflow -o DIR ({where})", tcpflow_argv, base, runs=runs, sync=sync, count=True, ref=export
            )
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
    cmd = Command(
        "conversation_time.py",
        lambda r: argv,
        ram,
        monoview_env(args),
        stdout_to="conversation.json",
        runs=args.conv_runs,
        after=parse,
    )
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
        note = (
            f"**The running monoview rejects `{shlex.join(words)}`** (exit 2: `{message}`), so the "
            f"export rows measure plain `monoview export FILE --out DIR`."
        )
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

    cmd = Command(
        "monoview sessions --json",
        lambda r: [*monoview, "sessions", "--json", str(capture)],
        ram,
        monoview_env(args),
        stdout_to="sessions.json",
        after=parse,
    )
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
