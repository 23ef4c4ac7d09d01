"""The session list: the vectorised path for clean flows, the fast lane and the
exact replay give the same rows as each other and as the per-packet sessions,
on every shared capture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.index import build_index
from monoview.core.capture.source import CaptureFile
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.simple import clean_sessions
from monoview.core.flows.summary import SESSION, SessionRows, summarise
from monoview.core.flows.table import session_rows
from monoview.core.tcp.table import LINGER_NS
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import ACK, FIN, RST, SYN, Conversation, tcp_ip, write_pcap

# What the per-packet path cannot know: where in its flow's rows a session lies.
_PLACEMENT = ("flow", "first_row", "stop_row", "flipped")


def _comparable(rows: SessionRows) -> list[tuple[object, ...]]:
    names = [n for n in SESSION.names or () if n not in _PLACEMENT]
    return [tuple(r[n].item() for n in names) for r in rows]


def _all_paths(path: Path) -> list[SessionRows]:
    """The session rows by every path: all fast paths, each lane alone, exact replay alone."""
    index = build_index(path, workers=1)
    capture = CaptureFile.open(path)
    grouped = GroupedRows.of_index(index)
    return [
        session_rows(grouped, capture.buffer, index.flows, vectorised=v, fast=f, runs=r)
        for v, f, r in ((True, True, True), (False, True, True), (False, True, False), (False, False, False))
    ]


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_every_path_gives_the_per_packet_sessions(path: Path) -> None:
    *fast, exact = _all_paths(path)
    for rows in fast:
        assert np.array_equal(rows, exact)
    reference = np.array([summarise(s, 0, 0, 0, 0) for s in analyse(path).sessions], dtype=SESSION)
    assert _comparable(exact) == _comparable(reference)


# -- scenarios at the edges of the vectorised path ----------------------------------
# Each is built by hand (random generation meets some of them rarely); ``clean`` says
# whether the vectorised path must take it, so the test shows it really ran.


def _keepalive_after_data(c: Conversation) -> None:
    c.handshake().send(True, b"GET / HTTP/1.1\r\n\r\n").send(False, b"HTTP/1.1 200 OK\r\n\r\n")
    c.segment(True, c.c_next - c.client_isn - 2, b"\x00")  # one garbage byte below next
    c.ack(False)
    c.segment(False, c.s_next - c.server_isn - 2, b"\xff")
    c.ack(True)


def _retransmissions(c: Conversation) -> None:
    c.handshake().send(True, b"A" * 300, mss=100)
    c.segment(True, 100, b"A" * 100)  # the same bytes again
    c.segment(True, 150, b"B" * 100)  # other bytes over delivered ones: a conflict
    c.segment(True, 250, b"C" * 100)  # half repeated (differently), half new
    c.c_next += 50
    c.send(False, b"ok")


def _server_speaks_first(c: Conversation) -> None:
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN))
    c._frame(tcp_ip(c.server, c.client, c.server_isn, c.client_isn + 1, SYN | ACK))
    c.segment(False, 0, b"220 banner\r\n")
    c.s_next += 12
    c.segment(True, 0, b"HELO x\r\n")
    c.c_next += 8
    c._frame(tcp_ip(c.client, c.server, c.c_next, c.server_isn + 1, ACK))  # ACKs only the SYN/ACK


def _far_acks(c: Conversation) -> None:
    c.handshake().send(True, b"request")
    c._frame(tcp_ip(c.server, c.client, c.s_next, c.c_next + (100 << 20), ACK))  # beyond anything sent
    c._frame(tcp_ip(c.server, c.client, c.s_next, c.c_next + 5, ACK))  # past the end: an end gap


def _far_fin(c: Conversation) -> None:
    c.handshake().send(True, b"request").send(False, b"answer")
    c._frame(tcp_ip(c.client, c.server, c.c_next + (80 << 20), c.s_next, FIN | ACK))
    c._frame(tcp_ip(c.server, c.client, c.s_next, c.c_next + (80 << 20) + 1, ACK))


def _repeated_handshake(c: Conversation) -> None:
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN))
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN))
    c._frame(tcp_ip(c.server, c.client, c.server_isn, c.client_isn + 1, SYN | ACK))
    c._frame(tcp_ip(c.server, c.client, c.server_isn, c.client_isn + 1, SYN | ACK))
    c._frame(tcp_ip(c.client, c.server, c.c_next, c.s_next, ACK))
    c.send(True, b"x" * 50).send(False, b"y" * 70).close()


def _reset_then_more(c: Conversation) -> None:
    c.handshake().send(True, b"one")
    c._frame(tcp_ip(c.server, c.client, c.s_next, 0, RST))
    c.send(True, b"two")  # within the linger time: the same session


def _wrapping(c: Conversation) -> None:
    c.client_isn = 2**32 - 20
    c.c_next = c.client_isn + 1
    c.handshake().send(True, bytes(range(200)), mss=30)
    c.segment(True, 10, bytes(range(10, 60)))
    c.send(False, b"done").close()


def _huge_jump(c: Conversation) -> None:
    """A segment 2**31 + 10 bytes below next: unwrapped next to next, it lies ahead (a hole)."""
    c.handshake().send(True, b"x" * 100)
    c.segment(True, 100 - (2**31 + 10), b"y" * 20)
    c.send(False, b"z")


def _reordered(c: Conversation) -> None:
    c.handshake()
    for offset in (0, 200, 100, 300, 500, 400):  # two holes, each filled by the next segment
        c.segment(True, offset, bytes([65 + offset // 100]) * 100)
    c.c_next += 600
    c.ack(False)
    c.send(False, b"ok").close()


def _reordered_copies(c: Conversation) -> None:
    c.handshake().send(True, b"hello")
    c.segment(False, 50, b"B" * 50)  # waits
    c.segment(False, 50, b"X" * 50)  # a copy while it waits: compared when it is delivered
    c.segment(False, 0, b"A" * 50)  # fills the hole
    c.segment(False, 0, b"A" * 50)  # a copy after delivery
    c.s_next += 100
    c.ack(True)
    c.close()


def _reordered_keepalive(c: Conversation) -> None:
    """A keep-alive (one byte just below next) is no copy of a segment: left to the replay."""
    _reordered_copies(c)
    c.segment(False, 99, b"B")


def _ack_past_a_hole(c: Conversation) -> None:
    c.handshake()
    c.segment(True, 100, b"B" * 100)
    c._frame(tcp_ip(c.server, c.client, c.s_next, c.c_next + 200, ACK))  # gives the hole up
    c.segment(True, 0, b"A" * 100)
    c.c_next += 200
    c.close()


def _mid_stream(c: Conversation) -> None:
    c.send(True, b"picked up").send(False, b"late")


SCENARIOS = {
    "keepalive after data": (_keepalive_after_data, True),
    "retransmissions": (_retransmissions, True),
    "server speaks first": (_server_speaks_first, True),
    "far acks": (_far_acks, True),
    "far fin": (_far_fin, True),
    "repeated handshake": (_repeated_handshake, True),
    "reset then more": (_reset_then_more, True),
    "wrapping": (_wrapping, True),
    "reordered": (_reordered, True),
    "reordered with copies": (_reordered_copies, True),
    "reordered, then a keep-alive": (_reordered_keepalive, False),
    "ack past a hole": (_ack_past_a_hole, False),
    "huge jump": (_huge_jump, False),
    "mid stream": (_mid_stream, False),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_edge_scenarios_take_every_path_to_the_same_sessions(name: str, tmp_path: Path) -> None:
    build, clean = SCENARIOS[name]
    conv = Conversation()
    build(conv)
    path = write_pcap(tmp_path / "x.pcap", conv.frames)
    *fast, exact = _all_paths(path)
    for rows in fast:
        assert np.array_equal(rows, exact)
    reference = np.array([summarise(s, 0, 0, 0, 0) for s in analyse(path).sessions], dtype=SESSION)
    assert _comparable(exact) == _comparable(reference)
    grouped = GroupedRows.of_index(build_index(path, workers=1))
    taken, _rows = clean_sessions(grouped, LINGER_NS, path.read_bytes())
    assert bool(taken.all()) == clean
