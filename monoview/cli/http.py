"""``monoview http``: list HTTP requests and their responses."""

from __future__ import annotations

import argparse
import sys

from monoview.cli.report import damage, print_failures
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.fanout import map_sessions
from monoview.core.http import HttpRow, http_listeners, http_rows
from monoview.core.http_text import ascii_uri


def _printable(uri: str) -> str:
    """``uri`` as the standard output can hold it: all percent-encoded ASCII if it is not UTF-8."""
    try:
        uri.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        return ascii_uri(uri)
    return uri


def run(args: argparse.Namespace) -> int:
    """List HTTP requests and their responses, in order of session start (sessions parsed
    in worker processes)."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    try:
        rows: list[HttpRow]
        rows, failures = map_sessions(document, http_listeners, http_rows)
        print_failures(failures.values())
        print(f"{'session':>7}  {'#':>3}  {'time':>17}  {'status':>6}  {'bytes':>9}  {'ms':>8}  request")
        for t in rows:
            status = "-" if t.status is None else str(t.status)
            size = "-" if t.body_length is None else str(t.body_length)
            ms = "-" if t.duration_ns is None else f"{t.duration_ns / 1e6:.1f}"
            when = f"{t.ts_ns / 1e9:>17.6f}"
            row = f"{t.session:>7}  {t.number:>3}  {when}  {status:>6}  {size:>9}  {ms:>8}"
            print(f"{row}  {t.method} {_printable(t.uri)}")
        return damage(document)
    finally:
        document.close()
