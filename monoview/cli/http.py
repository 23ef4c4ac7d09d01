"""``monoview http``: list HTTP requests and their responses."""

from __future__ import annotations

import argparse

from monoview.cli.report import damage, listener_failures
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.http import HttpListener


def run(args: argparse.Namespace) -> int:
    """List HTTP requests and their responses, in order of session start."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    try:
        http = HttpListener()
        listener_failures(document.dispatch([http]))
        print(f"{'session':>7}  {'#':>3}  {'time':>17}  {'status':>6}  {'bytes':>9}  {'ms':>8}  request")
        for t in http.transactions:
            status = "-" if t.status is None else str(t.status)
            size = "-" if t.response is None else str(t.response.body_length)
            ms = "-" if t.duration_ns is None else f"{t.duration_ns / 1e6:.1f}"
            when = f"{t.request.ts_ns / 1e9:>17.6f}"
            row = f"{t.session.id:>7}  {t.index:>3}  {when}  {status:>6}  {size:>9}  {ms:>8}"
            print(f"{row}  {t.method} {t.uri}")
        return damage(document)
    finally:
        document.close()
