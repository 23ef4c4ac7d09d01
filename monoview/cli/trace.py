"""``monoview trace``: print Net::Analysis-style event traces."""

from __future__ import annotations

import argparse
import functools

from monoview.cli.report import damage, print_failures
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.fanout import map_sessions
from monoview.core.tcp.trace import kept_trace_listeners, trace_lines


def run(args: argparse.Namespace) -> int:
    """Print the traces ``v`` and ``k`` ask for (and ``dump`` the monologues), session by
    session (the sessions replayed in worker processes)."""
    options = DocumentOptions(split_interfaces=args.split_interfaces, max_session_size=args.max_session_size)
    document = CaptureDocument(args.capture, options)
    try:
        make = functools.partial(kept_trace_listeners, args.v, args.k, args.dump)
        lines, failures = map_sessions(document, make, trace_lines)
        print_failures(failures.values())
        for line in lines:
            print(line)
        return damage(document)
    finally:
        document.close()
