"""``monoview http``: list HTTP requests and their responses."""

from __future__ import annotations

import argparse

from monoview.cli.report import analysis_damage
from monoview.core.analyse import Analysis
from monoview.core.http import HttpListener
from monoview.core.tcp.listener import TcpOptions


def run(args: argparse.Namespace) -> int:
    """List HTTP requests and their responses."""
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
    return analysis_damage(analysis)
