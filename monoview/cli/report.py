"""What every command says about the capture on standard error, and its exit status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from monoview.core.dispatcher import ListenerFailure
    from monoview.core.document import CaptureDocument

EXIT_DAMAGED = 3


def damage(document: CaptureDocument) -> int:
    """Warnings about skipped frames, the read error if any; 3 for a damaged file, else 0."""
    for warning in document.stats.warnings():
        print(f"monoview: warning: {document.name}: {warning}", file=sys.stderr)
    if document.read_error:
        kept = len(document)
        where = "in the other files and before it" if len(document.files) > 1 else "before it"
        print(f"monoview: {document.read_error} ({kept} sessions read {where} are kept)", file=sys.stderr)
        return EXIT_DAMAGED
    return 0


def print_failures(failures: Iterable[ListenerFailure]) -> None:
    """A warning per listener that raised (once per listener and event, with a count; the
    failures of every worker's dispatcher gathered)."""
    for failure in failures:
        times = f" ({failure.count} times)" if failure.count > 1 else ""
        what = f"listener {failure.listener} failed on {failure.event}{times}"
        print(f"monoview: warning: {what}: {failure.error}", file=sys.stderr)
