"""``monoview sessions``: one line (or one JSON object) per session."""

from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any

from monoview.cli.report import damage
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.flows.jsonlist import listing_chunks
from monoview.core.flows.listing import session_columns, stream_entries, table_lines


def run(args: argparse.Namespace) -> int:
    """List the sessions of ``args.capture``."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    out = sys.stdout
    columns = session_columns(document.rows, document.flows)
    if args.json:
        head: dict[str, Any] = {"capture": document.name, "read_error": document.read_error}
        for chunk in listing_chunks(head, "sessions", stream_entries(columns)):
            out.write(chunk)
        out.write("\n")
    else:
        lines = table_lines(document.rows, columns)
        while block := list(itertools.islice(lines, 4096)):  # not all 300,000 at once
            out.write("\n".join(block) + "\n")
    status = damage(document)
    document.close()
    return status
