"""``monoview follow``: print one session's conversation."""

from __future__ import annotations

import argparse
import sys

from monoview.cli.report import damage
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.export import write_chunks
from monoview.core.render import escape_text, hexdump
from monoview.core.showas import ShowAs, render, segments, turns
from monoview.core.streambytes import GapPolicy, monologue_chunks

_SHOW_AS = {
    "ascii": ShowAs.ASCII, "utf-8": ShowAs.UTF8, "latin-1": ShowAs.LATIN1, "utf-16": ShowAs.UTF16,
    "ebcdic": ShowAs.EBCDIC, "hex-dump": ShowAs.HEX_DUMP, "c-arrays": ShowAs.C_ARRAYS, "raw": ShowAs.RAW,
    "yaml": ShowAs.YAML,
}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Print one session's conversation (reassembled on demand: only its own packets are read)."""
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    try:
        session = document.conversation(args.session)
        out = sys.stdout.buffer
        if args.show_as is not None:
            how = _SHOW_AS[args.show_as]
            chosen = segments(session.monologues) if args.segments else turns(session.monologues)
            out.write(render(session, chosen, how).encode("utf-8", errors="surrogateescape"))
            out.flush()
            return damage(document)
        policy = GapPolicy(args.gaps)
        for monologue in session.monologues:
            chunks = monologue_chunks(monologue, policy)
            if args.format == "raw":
                write_chunks(out, chunks)
                continue
            data = b"".join(chunks)
            arrow = "->" if monologue.direction == "c2s" else "<-"
            head = f"=== {arrow} {monologue.direction} #{monologue.index}, {monologue.length} bytes ===\n"
            body = hexdump(data) if args.format == "hex" else escape_text(data)
            if body and not body.endswith("\n"):
                body += "\n"
            out.write((head + body).encode("ascii"))
        out.flush()
        del session
        return damage(document)
    finally:
        document.close()
