"""Payload search: in the thread and in worker processes it finds what the monologues hold.

The reference is the plain test on each replayed session's monologue bytes;
the parallel search must give the same answer for every session, whatever the
shards, and stop when cancelled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.flows.query import Phrase
from monoview.core.flows.search import search_in_workers, search_sessions
from tests.core.test_walk import CAPTURE_FILES

PHRASES = (
    Phrase(b"get /", False),
    Phrase(b"Host:", True),
    Phrase(b"HOST:", True),
    Phrase(b"\x00\x00\x00", False),
)
WANTED = ("http_many.pcap", "http_keepalive.pcap", "suricata_smtp-to-comma.pcap", "chatter.pcap")


def _reference(document: CaptureDocument) -> list[tuple[int, tuple[bool, ...]]]:
    found = []
    for session in document.conversations():
        datas = [m.data() for m in session.monologues]
        found.append((session.id, tuple(any(p.found_in(d) for d in datas) for p in PHRASES)))
    return found


@pytest.mark.parametrize("path", [p for p in CAPTURE_FILES if p.name in WANTED], ids=lambda p: p.name)
def test_both_searches_find_what_the_monologues_hold(path: Path) -> None:
    with CaptureDocument(path, workers=1) as document:
        ids = list(range(1, len(document) + 1))
        expected = _reference(document)
        assert search_sessions(document, ids, PHRASES) == expected
        assert any(hits[0] for _id, hits in expected) or path.name not in WANTED[:2]
        with local_executor(2) as pool:
            reported: list[tuple[int, tuple[bool, ...]]] = []
            assert search_in_workers(document, ids, PHRASES, pool, 2, report=reported.extend) == []
            assert sorted(reported) == expected
            assert search_in_workers(document, ids, PHRASES, pool, 2) == expected


def test_a_cancelled_search_stops() -> None:
    path = next((p for p in CAPTURE_FILES if p.name == "http_many.pcap"), None)
    if path is None:
        pytest.skip("capture not available")
    with CaptureDocument(path, workers=1) as document:
        ids = list(range(1, len(document) + 1))
        assert search_sessions(document, ids, PHRASES, cancel=lambda: True) == []
        with local_executor(2) as pool:
            assert search_in_workers(document, ids, PHRASES, pool, 2, cancel=lambda: True) == []
