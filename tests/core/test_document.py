"""The capture document against the per-packet analysis: the same session list,
the same conversations, the same events (session by session), on every shared
capture; and the same document whatever the number of worker processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monoview.core.analyse import Analysis, analyse
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor, local_executor
from monoview.core.export import stream_json
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from tests.core.test_replay import fingerprint
from tests.core.test_walk import CAPTURE_FILES


class Log(Listener):
    """Every event, with the packet fields that matter and the session as it was then."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    @staticmethod
    def _now(session: TcpSession) -> tuple[Any, ...]:
        return (session.describe(), session.packets, session.kept("c2s"), session.kept("s2c"))

    @staticmethod
    def _packet(packet: TcpPacket | None) -> tuple[Any, ...] | None:
        if packet is None:
            return None
        return (
            packet.frame, packet.ts_ns, packet.interface, packet.vlan, packet.src, packet.dst, packet.sport,
            packet.dport, packet.seq, packet.ack, packet.flags, packet.window, packet.payload_offset,
            packet.payload_caplen, packet.payload_len, packet.payload_parts, packet.kind,
        )  # fmt: skip

    def tcp_packet(self, packet: TcpPacket, session: TcpSession) -> None:
        assert packet.session is session
        self.events.append((session.id, "packet", self._packet(packet), self._now(session)))

    def tcp_session_start(self, session: TcpSession, packet: TcpPacket | None) -> None:
        self.events.append((session.id, "start", self._packet(packet), self._now(session)))

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        self.events.append(
            (session.id, "monologue", monologue.index, monologue.first, monologue.stop, self._now(session))
        )

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        self.events.append((session.id, "end", self._packet(packet), self._now(session)))


class EventsOnly(Log):
    """The same log without ``tcp_packet`` (so the document need not make packets)."""

    tcp_packet = Listener.tcp_packet  # type: ignore[assignment]


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES[::3], ids=[p.name for p in CAPTURE_FILES[::3]])
def test_listeners_without_packets_see_sessions_as_they_were(path: Path) -> None:
    log = EventsOnly()
    Analysis(path, listeners=[log]).run_to_end()
    document = CaptureDocument(path, workers=1)
    replayed = EventsOnly()
    document.dispatch([replayed])
    assert replayed.events == sorted(log.events, key=lambda e: e[0])
    document.close()


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_document_is_the_per_packet_analysis(path: Path) -> None:
    log = Log()
    analysis = Analysis(path, listeners=[log]).run_to_end()
    document = CaptureDocument(path, workers=1)
    assert [stream_json(s) for s in document.sessions] == [stream_json(s) for s in analysis.sessions]
    for info, session in zip(document.sessions, analysis.sessions, strict=True):
        for direction in ("c2s", "s2c"):
            assert info.kept(direction) == session.kept(direction)
            assert info.gap_count(direction) == session.gap_count(direction)
        assert info.monologues == len(session.monologues)
    assert [fingerprint(c) for c in document.conversations()] == [fingerprint(s) for s in analysis.sessions]
    assert document.stats.frames == analysis.stats.frames
    assert document.read_error == analysis.read_error
    replayed = Log()
    document.dispatch([replayed])
    # The per-packet path interleaves sessions; the document gives them one after another.
    assert replayed.events == sorted(log.events, key=lambda e: e[0])
    document.close()


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_document_does_not_depend_on_the_number_of_workers() -> None:
    for path in CAPTURE_FILES[::7]:
        one = CaptureDocument(path, workers=1)
        with local_executor(2) as pool:
            two = CaptureDocument(path, workers=2, executor=pool)
        three = CaptureDocument(path, workers=3, executor=InlineExecutor())
        for other in (two, three):
            assert np.array_equal(one.rows, other.rows)
            assert [stream_json(s) for s in one.sessions] == [stream_json(s) for s in other.sessions]
        one.close()
        two.close()
        three.close()


def test_analyse_and_the_document_agree_on_a_small_capture() -> None:
    path = CAPTURE_FILES[0] if CAPTURE_FILES else pytest.skip("no captures")
    assert len(CaptureDocument(path, workers=1)) == len(analyse(path).sessions)
