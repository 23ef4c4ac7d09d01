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
import gc
import weakref
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
from monoview.core.flows.hydrate import HYDRATED, HydratedMonologues
from monoview.core.flows.summary import summarise
from monoview.core.tcp.monologue import Monologue
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


def _one_session(path: Path, hydrated: bool) -> Any:
    document = CaptureDocument(path, workers=1)
    try:
        with mapped(str(path)) as buf:
            ids = np.array([1], dtype=np.int64)
            (replayed,) = replay_sessions(document.parts, buf, document.rows, ids, hydrated=hydrated)
            session = replayed.session
            return session, [
                (m.side, m.index, m.first, m.stop, m.offset, m.data()) for m in session.monologues
            ]
    finally:
        document.close()


def test_hydrated_monologues_read_as_the_replayed_list(tmp_path: Path) -> None:
    """A hydrated session's monologues are columns (``HydratedMonologues``): read by
    iteration, index, negative index and slice they are the replayed session's."""
    conv = Conversation()
    conv.handshake()
    for k in range(9):
        conv.send(k % 2 == 0, bytes([65 + k]) * (k + 1))
    conv.close()
    path = write_pcap(tmp_path / "x.pcap", conv.frames)
    hydrated, read = _one_session(path, hydrated=True)
    replayed, expected = _one_session(path, hydrated=False)
    assert isinstance(hydrated.monologues, HydratedMonologues)
    assert isinstance(replayed.monologues, list)
    assert read == expected and len(expected) == 9
    with mapped(str(path)) as buf:
        hydrated.rebind(buf)
        monologues = hydrated.monologues
        assert len(monologues) == 9
        assert [m.data() for m in monologues[2:5]] == [e[5] for e in expected[2:5]]
        assert monologues[-1].index == 8 and monologues[-1].data() == expected[-1][5]
        assert monologues[3].first == expected[3][2]
        with pytest.raises(IndexError):
            monologues[9]


def test_a_hydrated_session_keeps_no_monologue_objects(tmp_path: Path) -> None:
    """Hydrating makes no Monologue object, and those an export reads go as they came: a
    one-session export of many small monologues stays small."""
    conv = Conversation()
    conv.handshake()
    for k in range(5000):
        conv.send(k % 2 == 0, b"x")
    conv.close()
    path = write_pcap(tmp_path / "x.pcap", conv.frames)
    gc.collect()
    before = sum(isinstance(o, Monologue) for o in gc.get_objects())
    session, read = _one_session(path, hydrated=True)
    assert len(read) == 5000
    assert sum(isinstance(o, Monologue) for o in gc.get_objects()) == before
    refs = [weakref.ref(m) for m in session.monologues]
    assert len(refs) == 5000 and all(r() is None for r in refs)
