"""``monoview export``: write sessions, monologues and transcripts to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monoview.cli.report import analysis_damage
from monoview.core.analyse import Analysis
from monoview.core.export import Exporter, ExportOptions, Format
from monoview.core.streambytes import GapPolicy
from monoview.core.tcp.listener import TcpOptions


def run(args: argparse.Namespace) -> int:
    """Write sessions, monologues and transcripts to a folder."""
    analysis = _open(args.capture, TcpOptions(split_interfaces=args.split_interfaces))
    chosen = None if not args.sessions else [analysis.session(i) for i in args.sessions]
    options = ExportOptions(fmt=Format(args.format), gaps=GapPolicy(args.gaps), force=args.force)
    manifest = Exporter(analysis, args.out, options).export(chosen)
    print(f"exported {len(manifest['streams'])} sessions to {args.out}", file=sys.stderr)
    return analysis_damage(analysis)


def _open(path: Path, options: TcpOptions | None = None) -> Analysis:
    analysis = Analysis(path, options, trace=lambda line: print(line, flush=False))
    return analysis.run_to_end()
