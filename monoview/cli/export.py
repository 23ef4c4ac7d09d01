"""``monoview export``: write sessions, monologues and transcripts to a folder."""

from __future__ import annotations

import argparse
import sys

from monoview.cli.report import damage
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.export import Exporter, ExportOptions, Format, Layout
from monoview.core.streambytes import GapPolicy


def run(args: argparse.Namespace) -> int:
    """Export the chosen sessions (all by default) of ``args.capture`` into ``args.out``."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    ids = None
    if args.sessions:
        for session_id in args.sessions:
            document.session(session_id)  # an unknown id is a usage error, before anything is written
        ids = sorted(set(args.sessions))
    options = ExportOptions(
        fmt=Format(args.format), gaps=GapPolicy(args.gaps), force=args.force, layout=Layout(args.layout),
        sync=args.sync, return_streams=False,
    )  # fmt: skip
    manifest = Exporter(document, args.out, options).export(ids)
    print(f"exported {len(manifest['streams'])} sessions to {args.out}", file=sys.stderr)
    status = damage(document)
    document.close()
    return status
