"""Sessions hydrated from their rows export exactly as the replayed ones.

Export builds the sessions of plain flows from the index rows
(``flows.hydrate``) instead of replaying them.  Each session is exported both
ways in memory (directions, each monologue: lengths, hashes, frames, times,
offsets) and summarised both ways; everything must be equal.  On every shared
capture, on the hand-made edge scenarios of the vectorised path, and on random
connections; the corpus must really hydrate sessions, or the test proves
nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from monoview.core.capture.ranges import mapped
from monoview.core.document import CaptureDocument
from monoview.core.export.options import ExportOptions
from monoview.core.export.session import SessionFiles
from monoview.core.flows.conversations import replay_sessions
from monoview.core.flows.hydrate import HYDRATED
from monoview.core.flows.summary import summarise
from tests.core.test_fast_path_properties import SETTINGS, connections
from tests.core.test_session_table import SCENARIOS
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, Frame, write_pcap

DESCRIBE = ExportOptions(directions=False, monologues=False, transcript=False)


@functools.cache
def _corpus_both_ways(path: Path) -> tuple[list[Any], list[Any], int]:
    """``_both_ways`` of a shared capture, once (both corpus tests need it, in any order)."""
    return _both_ways(path)


def _both_ways(path: Path) -> tuple[list[Any], list[Any], int]:
    """Each session's manifest entry and summary, hydrated where possible and replayed;
    and how many were hydrated."""
    document = CaptureDocument(path, workers=1)
    ids = np.arange(1, len(document) + 1, dtype=np.int64)
    files = SessionFiles(Path("unused"), DESCRIBE)
    out: list[list[Any]] = []
    hydrated = 0
    try:
        with mapped(str(path)) as buf:
            for allowed in (True, False):
                found = []
                for replayed in replay_sessions(
                    document.parts,
                    buf,
                    document.rows,
                    ids,
                    linger_ns=document.options.linger_ns,
                    hydrated=allowed,
                ):
                    session = replayed.session
                    if not replayed.events:  # a replayed session has at least start and end
                        assert allowed and session.handshake_ref in (HYDRATED, None)
                        hydrated += 1
                    row = summarise(session, 0, replayed.first, replayed.stop, replayed.flipped)
                    found.append((files.export(session), row))
                out.append(found)
    finally:
        document.close()
    return out[0], out[1], hydrated


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_hydrated_sessions_export_as_replayed_ones(path: Path) -> None:
    hydrated, replayed, _count = _corpus_both_ways(path)
    assert hydrated == replayed


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_the_corpus_hydrates_sessions() -> None:
    """The comparison above proves something only if the corpus takes the hydration."""
    taking = [p for p in CAPTURE_FILES if _corpus_both_ways(p)[2]]
    assert len(taking) >= len(CAPTURE_FILES) // 4


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_edge_scenarios_hydrate_exactly(name: str, tmp_path: Path) -> None:
    build, _clean = SCENARIOS[name]
    conv = Conversation()
    build(conv)
    hydrated, replayed, _count = _both_ways(write_pcap(tmp_path / "x.pcap", conv.frames))
    assert hydrated == replayed


def test_a_plain_conversation_is_hydrated(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake().send(True, b"GET / HTTP/1.1\r\n\r\n", mss=7).send(False, b"HTTP/1.1 200 OK\r\n\r\nhi")
    conv.send(True, b"more").close()
    hydrated, replayed, count = _both_ways(write_pcap(tmp_path / "x.pcap", conv.frames))
    assert count == 1
    assert hydrated == replayed
    assert [m["dir"] for m in hydrated[0][0]["monologues"]] == ["c2s", "s2c", "c2s"]


@SETTINGS
@given(frames=connections())
def test_random_connections_hydrate_exactly(tmp_path: Path, frames: list[Frame]) -> None:
    if not frames:
        return
    hydrated, replayed, _count = _both_ways(write_pcap(tmp_path / "p.pcap", frames))
    assert hydrated == replayed
