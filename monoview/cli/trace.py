"""``monoview trace``: print Net::Analysis-style event traces."""

from __future__ import annotations

import argparse

from monoview.cli.report import damage, listener_failures
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.tcp.trace import trace_listener


def run(args: argparse.Namespace) -> int:
    """Print the traces ``v`` and ``k`` ask for (and ``dump`` the monologues), session by session."""
    options = DocumentOptions(split_interfaces=args.split_interfaces, max_session_size=args.max_session_size)
    document = CaptureDocument(args.capture, options)
    try:
        listener = trace_listener(args.v, args.k, args.dump, trace=lambda line: print(line, flush=False))
        dispatcher = document.dispatch([listener])
        listener_failures(dispatcher)
        return damage(document)
    finally:
        document.close()
