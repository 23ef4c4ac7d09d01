"""``monoview http``: list HTTP requests and their responses; ``--export DIR`` writes the
bodies as files (Wireshark's Export Objects › HTTP) with a manifest."""

from __future__ import annotations

import argparse
import os
import sys

from monoview.cli.report import damage, print_failures
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.fanout import map_sessions
from monoview.core.http import HttpRow, http_listeners, http_rows
from monoview.core.http_export import (
    ExportListeners,
    export_objects,
    export_rows,
    refuse_manifest,
    time_order,
)
from monoview.core.http_objects import HttpObject
from monoview.core.http_text import ascii_uri


def _printable(uri: str) -> str:
    """``uri`` as the standard output can hold it: all percent-encoded ASCII if it is not UTF-8."""
    try:
        uri.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        return ascii_uri(uri)
    return uri


def _print(rows: list[HttpRow]) -> None:
    print(
        f"{'session':>7}  {'#':>3}  {'time':>17}  {'status':>6}  {'bytes':>9}  {'decoded':>9}  "
        f"{'ms':>8}  request"
    )
    for t in rows:
        status = "-" if t.status is None else str(t.status)
        size = "-" if t.body_length is None else str(t.body_length)
        decoded = "-" if t.decoded_length is None else str(t.decoded_length)
        ms = "-" if t.duration_ns is None else f"{t.duration_ns / 1e6:.1f}"
        when = f"{t.ts_ns / 1e9:>17.6f}"
        row = f"{t.session:>7}  {t.number:>3}  {when}  {status:>6}  {size:>9}  {decoded:>9}  {ms:>8}"
        request = f"{t.method} {_printable(t.uri)}" if t.method else "(response only)"
        print(f"{row}  {request}")


def run(args: argparse.Namespace) -> int:
    """List HTTP requests and their responses, by session (or by time with ``--sort time``;
    sessions parsed in worker processes); with ``--export``, write their bodies too."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    try:
        rows: list[HttpRow]
        objects: list[HttpObject] = []
        if args.export is None:
            rows, failures = map_sessions(document, http_listeners, http_rows)
        else:
            refuse_manifest(args.export, args.force)
            pairs: list[tuple[HttpRow, list[HttpObject]]]
            make = ExportListeners(os.fspath(args.export))
            pairs, failures = map_sessions(document, make, export_rows)
            rows = [row for row, _found in pairs]
            objects = [obj for _row, found in pairs for obj in found]
        print_failures(failures.values())
        if args.sort == "time":
            rows.sort(key=lambda r: (r.ts_ns, r.session, r.number))  # stable: ties by session
        _print(rows)
        if args.export is not None:
            result = export_objects(time_order(objects), args.export, args.force, document.name)
            incomplete = sum(1 for e in result.manifest["objects"] if not e["complete"])
            note = f" ({incomplete} incomplete: see the manifest)" if incomplete else ""
            print(f"monoview: {len(objects)} objects written to {args.export}{note}", file=sys.stderr)
        return damage(document)
    finally:
        document.close()
