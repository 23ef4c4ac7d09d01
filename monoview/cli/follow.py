"""``monoview follow``: print one session's conversation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monoview.cli.report import analysis_damage
from monoview.core.analyse import Analysis
from monoview.core.export import write_chunks
from monoview.core.render import escape_text, hexdump
from monoview.core.streambytes import GapPolicy, monologue_chunks
from monoview.core.tcp.listener import TcpOptions


def run(args: argparse.Namespace) -> int:
    """Print one session's conversation."""
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
    return analysis_damage(analysis)


def _open(path: Path, options: TcpOptions | None = None) -> Analysis:
    analysis = Analysis(path, options, trace=lambda line: print(line, flush=False))
    return analysis.run_to_end()
