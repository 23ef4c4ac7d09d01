"""``monoview trace``: print Net::Analysis-style event traces."""

from __future__ import annotations

import argparse
from pathlib import Path

from monoview.cli.report import analysis_damage
from monoview.core.analyse import Analysis
from monoview.core.tcp.listener import TcpOptions


def run(args: argparse.Namespace) -> int:
    """Print Net::Analysis-style event traces."""
    options = TcpOptions(
        v=args.v,
        k=args.k,
        dump=args.dump,
        max_session_size=args.max_session_size,
        split_interfaces=args.split_interfaces,
    )
    analysis = _open(args.capture, options)
    return analysis_damage(analysis)


def _open(path: Path, options: TcpOptions | None = None) -> Analysis:
    analysis = Analysis(path, options, trace=lambda line: print(line, flush=False))
    return analysis.run_to_end()
