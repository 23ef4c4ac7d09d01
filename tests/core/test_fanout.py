"""Listeners in worker processes give what one dispatch in one process gives.

``fanout.map_sessions`` splits a document's sessions by flow across workers;
its results must be those of the per-packet pipeline, in session order,
whatever the number of workers, and a listener's failures are counted over
all of them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from monoview.core import fanout
from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.http import HttpListener, HttpRow, http_listeners, http_rows
from monoview.core.listener import Listener
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.core.tcp.trace import TraceOptions, kept_trace_listeners, trace_lines, trace_listener
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, write_pcap

HTTP_CAPTURES = [p for p in CAPTURE_FILES if b"HTTP/1." in p.read_bytes()]


def _reference(path: Path) -> list[HttpRow]:
    """The per-packet pipeline's transactions, in session order."""
    http = HttpListener()
    analyse(path, listeners=[http])
    rows = [row for _id, row in http_rows([http])]
    return sorted(rows, key=lambda r: r.session)  # stable: each session's in its own order


@pytest.mark.skipif(not HTTP_CAPTURES, reason="no captures with HTTP")
@pytest.mark.parametrize("path", HTTP_CAPTURES, ids=[p.name for p in HTTP_CAPTURES])
def test_http_in_workers_is_the_per_packet_http(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "PARALLEL_SESSIONS", 1)  # workers even for a few sessions
    reference = _reference(path)
    document = CaptureDocument(path, workers=1)
    try:
        for workers in (1, 2):
            rows, failures = fanout.map_sessions(document, http_listeners, http_rows, workers=workers)
            assert rows == reference, workers
            assert not failures
    finally:
        document.close()


class _Fails(Listener):
    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        raise ValueError("no")


def _failing() -> list[Listener]:
    return [_Fails()]


def _nothing(listeners: list[Listener]) -> list[tuple[int, object]]:
    return []


def test_failures_are_counted_over_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "PARALLEL_SESSIONS", 1)
    frames = []
    for k in range(6):
        conv = Conversation(client=("10.0.0.1", 40000 + k), start_ns=1_700_000_000 * 10**9 + k * 10**6)
        conv.handshake().send(True, b"hello").send(False, b"world").close()
        frames += conv.frames
    frames.sort(key=lambda f: f.ts_ns)
    document = CaptureDocument(write_pcap(tmp_path / "x.pcap", frames), workers=1)
    try:
        _rows, failures = fanout.map_sessions(document, _failing, _nothing, workers=2)
    finally:
        document.close()
    (failure,) = failures.values()
    assert failure.count == 12  # two monologues in each of six sessions
    assert failure.event == "tcp_monologue" and "no" in failure.error


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES[::4], ids=[p.name for p in CAPTURE_FILES[::4]])
def test_trace_in_workers_is_the_trace_of_one_dispatch(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every verbosity at once, in two workers: the lines of one sequential dispatch."""
    monkeypatch.setattr(fanout, "PARALLEL_SESSIONS", 1)
    document = CaptureDocument(path, workers=1)
    try:
        expected: list[str] = []
        document.dispatch([trace_listener(TraceOptions(7), trace=expected.append)])
        make = functools.partial(kept_trace_listeners, TraceOptions(7))
        lines, failures = fanout.map_sessions(document, make, trace_lines, workers=2)
    finally:
        document.close()
    assert lines == expected
    assert not failures


def _conversation_facts(session: TcpSession) -> list[tuple[object, ...]]:
    """What a reader sees of a conversation: each monologue's side, place, frames, bytes, gaps."""
    return [
        (
            m.direction,
            m.offset,
            m.length,
            m.frames,
            m.first_ts_ns,
            m.data(),
            [(g.offset, g.length) for g in m.gaps()],
        )
        for m in session.monologues
    ] + [(session.key, session.ended_by, session.packets, [s.kept for s in session.streams])]


REASSEMBLY_CAPTURES = [
    p for p in CAPTURE_FILES if p.stem in {"bulk_loss_reorder", "gaps", "chatter", "reuse", "tso_any"}
]


@pytest.mark.skipif(not REASSEMBLY_CAPTURES, reason="no lab captures")
@pytest.mark.parametrize("path", REASSEMBLY_CAPTURES, ids=[p.name for p in REASSEMBLY_CAPTURES])
def test_a_conversation_reassembled_in_a_worker_is_the_one_made_here(path: Path) -> None:
    """The window asks a worker process for a big session (``fanout.reassemble``) and adopts
    it: across the process boundary and back onto this process's mapping it must read as
    the conversation reassembled here, byte for byte."""
    from monoview.core.executor import local_executor

    here = CaptureDocument(path, workers=1)
    there = CaptureDocument(path, workers=1)
    try:
        ids = list(range(1, len(here) + 1))
        with local_executor(2) as pool:
            futures = [pool.submit(fanout.reassemble, fanout.ConversationTask.of(there, i)) for i in ids]
            adopted = [there.adopt(f.result()) for f in futures]
        for session_id, session in zip(ids, adopted, strict=True):
            assert there.cached_conversation(session_id) is session
            assert _conversation_facts(session) == _conversation_facts(here.conversation(session_id)), (
                session_id
            )
    finally:
        here.close()
        there.close()
