"""Time one conversation on demand: ``CaptureDocument(path).conversation(id)`` of the largest session.

Opens the capture as a document (not timed), picks the session with the most
kept bytes (``kept("c2s") + kept("s2c")``; the lowest id on a tie), then times
the first, uncached ``doc.conversation(id)`` with ``time.perf_counter``.  Prints
one JSON object: the session, its bytes, the conversation's own byte counts
(a check: they equal the list's), the seconds of the call and, for context,
of the document's construction.  Run it as a separate process each time so
the document's conversation cache is cold (bench/compare_tools.py does).

    .venv/bin/python bench/conversation_time.py CAPTURE

Needs monoview importable (the project's virtualenv, or PYTHONPATH).
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("capture")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    from monoview.core.document import CaptureDocument

    imported = time.perf_counter()
    doc = CaptureDocument(args.capture)
    opened = time.perf_counter()
    if not doc.sessions:
        print(json.dumps({"error": "no sessions", "capture": args.capture}))
        return 1
    largest = max(doc.sessions, key=lambda s: (s.kept("c2s") + s.kept("s2c"), -s.id))
    session_id = largest.id

    before = time.perf_counter()
    conversation = doc.conversation(session_id)
    seconds = time.perf_counter() - before

    result = {
        "capture": args.capture,
        "sessions": len(doc.sessions),
        "session": session_id,
        "key": largest.key,
        "packets": largest.packets,
        "c2s_bytes": largest.kept("c2s"),
        "s2c_bytes": largest.kept("s2c"),
        "bytes": largest.kept("c2s") + largest.kept("s2c"),
        "conversation_bytes": conversation.kept("c2s") + conversation.kept("s2c"),
        "monologues": len(getattr(conversation, "monologues", ())),
        "conversation_seconds": seconds,
        "document_seconds": opened - imported,
        "import_seconds": imported - started,
    }
    print(json.dumps(result))
    sys.stdout.flush()
    doc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
