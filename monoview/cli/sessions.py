"""``monoview sessions``: one line (or one JSON object) per session."""

from __future__ import annotations

import argparse
import itertools
import sys
from itertools import chain
from typing import Any

from monoview.cli.report import damage
from monoview.cli.where import executor_of
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.flows.listing import outer_path_texts, session_entries, table_lines


def run(args: argparse.Namespace) -> int:
    """List the sessions of ``args.capture``."""
    with executor_of(args) as (executor, workers):
        options = DocumentOptions(split_interfaces=args.split_interfaces)
        # -a: the workers that summarise the sessions name them too (core.flows.shardnames)
        document = CaptureDocument(
            args.capture, options, executor=executor, workers=workers, names=args.application
        )
    out = sys.stdout
    names = document.names.applications if document.names is not None else None
    if args.json:
        from monoview.core.flows.jsonlist import listing_chunks  # json only for --json

        head: dict[str, Any] = {"capture": document.name, "read_error": document.read_error}
        if len(document.files) > 1:  # a set: its files in capture order
            head["files"] = [path.name for path in document.files]
        entries = session_entries(document.rows, document.flows)
        if names is not None:
            entries = ({**entry, "application": name} for entry, name in zip(entries, names, strict=True))
        for chunk in listing_chunks(head, "sessions", entries):
            out.write(chunk)
        out.write("\n")
    else:
        lines = table_lines(document.rows, document.flows)
        if names is not None:
            lines = (f"{line}  {name}" for line, name in zip(lines, ["application", *names], strict=True))
        if args.outer_path:
            paths = chain(["outer path"], outer_path_texts(document.rows, document.flows))
            lines = (f"{line}  {text}" for line, text in zip(lines, paths, strict=True))
        while block := list(itertools.islice(lines, 4096)):  # not all 300,000 at once
            out.write("\n".join(block) + "\n")
    status = damage(document)
    document.close()
    return status
