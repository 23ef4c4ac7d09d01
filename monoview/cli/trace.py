"""``monoview trace``: print Net::Analysis-style event traces."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from monoview.cli.report import damage, print_failures
from monoview.core.atomic import refuse_existing
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.fanout import map_sessions
from monoview.core.tcp.trace import TraceOptions, dump_name, kept_trace_listeners, trace_lines


def run(args: argparse.Namespace) -> int:
    """Print the traces ``v`` and ``k`` ask for (and ``dump`` the monologues), session by
    session (the sessions replayed in worker processes)."""
    options = DocumentOptions(split_interfaces=args.split_interfaces, max_session_size=args.max_session_size)
    document = CaptureDocument(args.capture, options)
    try:
        if args.dump is not None and not args.force:
            refuse_existing_dumps(document, args.dump)  # before anything is written
        trace = TraceOptions(args.v, args.k, args.dump, force=args.force, checked=True)
        make = functools.partial(kept_trace_listeners, trace)
        lines, failures = map_sessions(document, make, trace_lines)
        print_failures(failures.values())
        for line in lines:
            print(line)
        return damage(document)
    finally:
        document.close()


def refuse_existing_dumps(document: CaptureDocument, folder: Path) -> None:
    """Raise ExportError if a monologue dump would overwrite a file."""
    counts = document.rows["monologues"].tolist()
    names = (
        dump_name(info.id, info.key, index)
        for info, count in zip(document.sessions, counts, strict=True)
        for index in range(count)
    )
    refuse_existing(folder, names)
