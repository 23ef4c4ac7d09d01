"""Stream graphs of a session: checked on connections made here with known times, losses,
retransmissions and window scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monoview.core.document import CaptureDocument
from monoview.core.graphs import stream_graphs
from tests.pcapgen import ACK, SYN, Conversation, Frame, tcp_ip, write_pcap

MS = 1_000_000


def _handshake(conv: Conversation, client_shift: int | None, server_shift: int | None) -> None:
    def wscale(shift: int | None) -> bytes:
        return b"" if shift is None else bytes([1, 3, 3, shift])  # NOP, window scale

    conv._frame(tcp_ip(conv.client, conv.server, conv.client_isn, 0, SYN, options=wscale(client_shift)))
    conv._frame(
        tcp_ip(
            conv.server,
            conv.client,
            conv.server_isn,
            conv.client_isn + 1,
            SYN | ACK,
            options=wscale(server_shift),
        )
    )
    conv._frame(tcp_ip(conv.client, conv.server, conv.c_next, conv.s_next, ACK))


def _document(tmp_path: Path, frames: list[Frame]) -> CaptureDocument:
    return CaptureDocument(write_pcap(tmp_path / "g.pcap", frames), workers=1)


def test_sequence_round_trips_and_throughput(tmp_path: Path) -> None:
    conv = Conversation(step_ns=MS, client_isn=4_294_967_000)  # the sequence numbers wrap
    _handshake(conv, None, None)
    conv.send(True, b"a" * 3000, mss=1000)  # three segments 1 ms apart, then one ACK
    with _document(tmp_path, conv.frames) as document:
        c2s = stream_graphs(document, 1)["c2s"]
    assert c2s.seq.tolist() == [0, 1000, 2000] and c2s.end.tolist() == [1000, 2000, 3000]
    assert not c2s.retransmitted.any() and not c2s.out_of_order.any() and c2s.holes == []
    assert np.allclose(c2s.rtt, [0.003, 0.002, 0.001])  # each waited for the one ACK
    assert np.isclose(c2s.throughput.sum() * (c2s.throughput_seconds[1] - c2s.throughput_seconds[0]), 3000)
    assert c2s.in_flight.tolist() == [1000, 2000, 3000]


def test_retransmissions_late_segments_and_holes(tmp_path: Path) -> None:
    conv = Conversation(step_ns=MS)
    _handshake(conv, None, None)
    conv.segment(True, 0, b"x" * 1000)
    conv.segment(True, 2000, b"z" * 1000)  # 1000..2000 not yet seen
    conv.segment(True, 0, b"x" * 1000)  # all seen: a retransmission
    conv.segment(True, 1000, b"y" * 500)  # fills half the hole: late
    conv.segment(True, 5000, b"w" * 10)  # 3000..5000 never seen
    with _document(tmp_path, conv.frames) as document:
        c2s = stream_graphs(document, 1)["c2s"]
    assert c2s.retransmitted.tolist() == [False, False, True, False, False]
    assert c2s.out_of_order.tolist() == [False, False, False, True, False]
    assert [(offset, size) for _t, offset, size in c2s.holes] == [(1500, 500), (3000, 2000)]
    assert len(c2s.rtt) == 0  # nothing was acknowledged


def test_windows_are_scaled_only_when_both_sides_offer_scaling(tmp_path: Path) -> None:
    for shifts, expected in (((7, 3), 512 << 3), ((None, 3), 512)):
        conv = Conversation(step_ns=MS)
        _handshake(conv, *shifts)
        conv.segment(True, 0, b"q" * 100)
        conv._frame(tcp_ip(conv.server, conv.client, conv.s_next, conv.c_next + 100, ACK, window=512))
        with _document(tmp_path, conv.frames) as document:
            graphs = stream_graphs(document, 1)
        c2s = graphs["c2s"]
        assert c2s.window.tolist()[-1] == expected, shifts
        assert c2s.window_scale == (3 if shifts[0] is not None else None)
        (tmp_path / "g.pcap").unlink()
