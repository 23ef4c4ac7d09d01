"""The ``monoview`` command: headless subcommands, or the GUI.

``monoview sessions|follow|export|http|trace CAPTURE ...`` run without Qt.  Anything
else (``monoview``, ``monoview FILE``, ``monoview --screenshot OUT FILE``)
starts the GUI, imported only then so the headless commands never load Qt.

Exit status: 0 success; 1 export refused or failed; 2 bad usage or not a
capture; 3 the capture is damaged (everything before the damage was still
listed or exported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monoview import __version__
from monoview.core.analyse import Analysis
from monoview.core.errors import ExportError, MonoviewError, UnknownSessionError
from monoview.core.export import DIRECTIONS, Exporter, ExportOptions, Format, stream_json, write_chunks
from monoview.core.http import HttpListener
from monoview.core.render import escape_text, hexdump
from monoview.core.streambytes import GapPolicy, monologue_chunks
from monoview.core.tcp.listener import TcpOptions
from monoview.core.tcp.session import TcpSession

SUBCOMMANDS = ("sessions", "follow", "export", "http", "trace")
EXIT_EXPORT, EXIT_USAGE, EXIT_DAMAGED = 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monoview",
        description="Browse and export the monologues of every TCP session in a capture. "
        "Without a subcommand, opens the GUI (on FILE if given).",
    )
    parser.add_argument("--version", action="version", version=f"monoview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--split-interfaces",
        action="store_true",
        help="keep equal 4-tuples on different capture interfaces apart (pcapng)",
    )

    p = sub.add_parser("sessions", parents=[common], help="list the TCP sessions, one line each")
    p.add_argument("capture", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON document instead of a table")

    p = sub.add_parser("follow", parents=[common], help="print one session's conversation")
    p.add_argument("capture", type=Path)
    p.add_argument("session", type=int, help="session id, as 'sessions' lists it")
    p.add_argument("--format", choices=("ascii", "hex", "raw"), default="ascii")
    p.add_argument("--gaps", choices=[g.value for g in GapPolicy], default="marker")

    p = sub.add_parser(
        "export", parents=[common], help="write sessions, monologues and transcripts to a folder"
    )
    p.add_argument("capture", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--session", type=int, action="append", dest="sessions", metavar="ID")
    p.add_argument("--gaps", choices=[g.value for g in GapPolicy], default="omit")
    p.add_argument("--format", choices=[f.value for f in Format], default="raw")
    p.add_argument("--force", action="store_true", help="overwrite existing files")

    p = sub.add_parser("http", parents=[common], help="list HTTP requests and their responses")
    p.add_argument("capture", type=Path)

    p = sub.add_parser("trace", parents=[common], help="print Net::Analysis-style event traces")
    p.add_argument("capture", type=Path)
    p.add_argument(
        "-v",
        type=lambda s: int(s, 0),
        default=0x06,
        metavar="MASK",
        help="0x01 per packet, 0x02 per monologue, 0x04 per session (default 0x06)",
    )
    p.add_argument("-k", metavar="KEY", help="session key or id to trace packet by packet")
    p.add_argument("--dump", type=Path, metavar="DIR", help="write each monologue as a file")
    p.add_argument("--max-session-size", type=int, metavar="N", help="keep at most N bytes per session")
    return parser


def _open(path: Path, options: TcpOptions | None = None) -> Analysis:
    analysis = Analysis(path, options, trace=lambda line: print(line, flush=False))
    return analysis.run_to_end()


def _row(session: TcpSession) -> str:
    gaps = sum(len(session.gaps(d)) for d in DIRECTIONS)
    c2s, s2c = (session.stream(d).kept for d in DIRECTIONS)
    return (
        f"{session.id:>5}  {str(session.client):>28}  {str(session.server):<28}  "
        f"{session.first_ts_ns / 1e9:>17.6f}  {session.duration_ns / 1e9:>9.3f}  {session.packets:>7}  "
        f"{c2s:>10}  {s2c:>10}  {session.state:<11}  {gaps}"
    )


def cmd_sessions(args: argparse.Namespace) -> int:
    analysis = _open(args.capture, TcpOptions(split_interfaces=args.split_interfaces))
    if args.json:
        doc: dict[str, Any] = {
            "capture": analysis.capture.name,
            "read_error": analysis.read_error,
            "sessions": [
                stream_json(s) | {"c2s_bytes": s.stream("c2s").kept, "s2c_bytes": s.stream("s2c").kept}
                for s in analysis.sessions
            ],
        }
        print(json.dumps(doc, indent=1))
    else:
        print(
            f"{'id':>5}  {'client':>28}  {'server':<28}  {'start':>17}  {'duration':>9}  {'packets':>7}  "
            f"{'bytes c2s':>10}  {'bytes s2c':>10}  {'state':<11}  gaps"
        )
        for session in analysis.sessions:
            print(_row(session))
    return _damage(analysis)


def cmd_follow(args: argparse.Namespace) -> int:
    analysis = _open(args.capture, TcpOptions(split_interfaces=args.split_interfaces))
    session = analysis.session(args.session)
    out = sys.stdout.buffer
    policy = GapPolicy(args.gaps)
    for monologue in session.monologues:
        chunks = monologue_chunks(monologue, policy)
        if args.format == "raw":
            write_chunks(out, chunks)
            continue
        data = b"".join(chunks)
        arrow = "->" if monologue.direction == "c2s" else "<-"
        head = f"=== {arrow} {monologue.direction} #{monologue.index}, {monologue.length} bytes ===\n"
        body = hexdump(data) if args.format == "hex" else escape_text(data)
        if body and not body.endswith("\n"):
            body += "\n"
        out.write((head + body).encode("ascii"))
    out.flush()
    return _damage(analysis)


def cmd_export(args: argparse.Namespace) -> int:
    analysis = _open(args.capture, TcpOptions(split_interfaces=args.split_interfaces))
    chosen = None if not args.sessions else [analysis.session(i) for i in args.sessions]
    options = ExportOptions(fmt=Format(args.format), gaps=GapPolicy(args.gaps), force=args.force)
    manifest = Exporter(analysis, args.out, options).export(chosen)
    print(f"exported {len(manifest['streams'])} sessions to {args.out}", file=sys.stderr)
    return _damage(analysis)


def cmd_http(args: argparse.Namespace) -> int:
    http = HttpListener()
    analysis = Analysis(args.capture, TcpOptions(split_interfaces=args.split_interfaces), [http])
    analysis.run_to_end()
    print(f"{'session':>7}  {'#':>3}  {'time':>17}  {'status':>6}  {'bytes':>9}  {'ms':>8}  request")
    for t in http.transactions:
        status = "-" if t.status is None else str(t.status)
        size = "-" if t.response is None else str(t.response.body_length)
        ms = "-" if t.duration_ns is None else f"{t.duration_ns / 1e6:.1f}"
        when = f"{t.request.ts_ns / 1e9:>17.6f}"
        print(f"{t.session.id:>7}  {t.index:>3}  {when}  {status:>6}  {size:>9}  {ms:>8}  {t.method} {t.uri}")
    return _damage(analysis)


def cmd_trace(args: argparse.Namespace) -> int:
    options = TcpOptions(
        v=args.v,
        k=args.k,
        dump=args.dump,
        max_session_size=args.max_session_size,
        split_interfaces=args.split_interfaces,
    )
    analysis = _open(args.capture, options)
    return _damage(analysis)


def _damage(analysis: Analysis) -> int:
    for warning in analysis.stats.warnings():
        print(f"monoview: warning: {warning}", file=sys.stderr)
    for failure in analysis.dispatcher.failures.values():
        times = f" ({failure.count} times)" if failure.count > 1 else ""
        what = f"listener {failure.listener} failed on {failure.event}{times}"
        print(f"monoview: warning: {what}: {failure.error}", file=sys.stderr)
    if analysis.read_error:
        kept = len(analysis.sessions)
        print(f"monoview: {analysis.read_error} ({kept} sessions read before it are kept)", file=sys.stderr)
        return EXIT_DAMAGED
    return 0


COMMANDS = {
    "sessions": cmd_sessions,
    "follow": cmd_follow,
    "export": cmd_export,
    "http": cmd_http,
    "trace": cmd_trace,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``monoview`` command."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        from monoview.gui.app import main as gui_main  # Qt only when the GUI is wanted

        return int(gui_main(args_list))
    args = _parser().parse_args(args_list)
    try:
        return COMMANDS[args.command](args)
    except (ExportError, UnknownSessionError) as exc:
        print(f"monoview: {exc}", file=sys.stderr)
        return EXIT_EXPORT if isinstance(exc, ExportError) else EXIT_USAGE
    except MonoviewError as exc:
        print(f"monoview: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0


def entry() -> None:
    """Console-script entry point: ``main``, then a fast exit for the headless commands.

    After a headless command has printed everything, freeing millions of small
    objects one by one would only delay the exit (about a second per GB of
    capture), so the process ends at once after flushing its output.
    """
    argv = sys.argv[1:]
    status = main(argv)
    if argv and argv[0] in SUBCOMMANDS:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            pass
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    entry()
