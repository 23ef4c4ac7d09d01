"""Property tests for reordered flows: segments that arrive out of order, perhaps
more than once, must give the exact path's sessions whichever path takes them.

Hypothesis writes a conversation of turns (each side sending a few segments,
the peer perhaps ACKing), then moves data segments and ACKs a few places
away from where they were sent, and repeats some segments (the same bytes, or
other bytes: a conflict; or a one-byte keep-alive).  Some of these flows tile
their streams and go to the vectorised path, some ACK past a hole and go to
the replay; every path must give the per-packet pipeline's sessions.  (About
half the examples go through the vectorised path's reordered case; the
scenarios in ``test_session_table.py`` pin down which flows it must take.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monoview.core.analyse import analyse
from monoview.core.flows.summary import SESSION, summarise
from tests.core.test_fast_path_properties import CLIENT, SERVER, SETTINGS, STEP
from tests.core.test_session_table import _all_paths, _comparable
from tests.pcapgen import ACK, FIN, PSH, SYN, Frame, ethernet, tcp_ip, write_pcap


@st.composite
def reordered(draw: st.DrawFn) -> tuple[list[Frame], bool]:
    """Frames of one connection, and whether its acknowledgements never pass a hole
    (so that, without copies that differ in length, the flow should tile)."""
    c_isn = draw(st.integers(0, 2**32 - 1))
    s_isn = draw(st.integers(0, 2**32 - 1))
    nxt = {True: c_isn + 1, False: s_isn + 1}
    packets: list[tuple[float, bytes]] = []  # (place in the capture, IP packet)
    position = 0.0

    def add(packet: bytes, displacement: float = 0.0) -> None:
        nonlocal position
        position += 1
        packets.append((position + displacement, packet))

    add(tcp_ip(CLIENT, SERVER, c_isn, 0, SYN))
    add(tcp_ip(SERVER, CLIENT, s_isn, c_isn + 1, SYN | ACK))
    add(tcp_ip(CLIENT, SERVER, (c_isn + 1) % 2**32, (s_isn + 1) % 2**32, ACK))
    acks_wait = draw(st.booleans())  # ACKs move with the data (never ahead of it)
    for _turn in range(draw(st.integers(1, 5))):
        from_client = draw(st.booleans())
        src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
        for _segment in range(draw(st.integers(1, 6))):
            size = draw(st.integers(1, 90))
            seq = nxt[from_client]
            payload = bytes([65 + (seq + size) % 26]) * size
            packet = tcp_ip(src, dst, seq % 2**32, nxt[not from_client] % 2**32, PSH | ACK, payload)
            add(packet, draw(st.sampled_from([0.0, 0.0, 0.5, 1.5, 2.5, 4.5, -1.5])))
            copy = draw(st.sampled_from(["none", "none", "none", "same", "other bytes", "keepalive"]))
            if copy == "same":
                add(packet, draw(st.sampled_from([0.5, 2.5, 6.5])))
            elif copy == "other bytes":
                other = tcp_ip(src, dst, seq % 2**32, nxt[not from_client] % 2**32, PSH | ACK, b"#" * size)
                add(other, draw(st.sampled_from([0.5, 2.5])))
            elif copy == "keepalive" and size == 1:
                add(packet, 0.5)
            nxt[from_client] = seq + size
        if draw(st.booleans()):
            ack = tcp_ip(dst, src, nxt[not from_client] % 2**32, nxt[from_client] % 2**32, ACK)
            add(ack, 8.0 if acks_wait else draw(st.sampled_from([0.0, -0.5, -2.5])))
    if draw(st.booleans()):
        add(tcp_ip(CLIENT, SERVER, nxt[True] % 2**32, nxt[False] % 2**32, FIN | ACK), 9.0)
        add(tcp_ip(SERVER, CLIENT, nxt[False] % 2**32, (nxt[True] + 1) % 2**32, FIN | ACK), 9.0)
    packets.sort(key=lambda p: p[0])
    t = 1_700_000_000 * 10**9
    frames = [Frame(t + k * STEP, ethernet(packet)) for k, (_place, packet) in enumerate(packets)]
    return frames, acks_wait


@SETTINGS
@given(case=reordered())
def test_reordered_flows_give_the_exact_sessions(tmp_path: Path, case: tuple[list[Frame], bool]) -> None:
    frames, _acks_wait = case
    path = write_pcap(tmp_path / "r.pcap", frames)
    *fast, exact = _all_paths(path)
    for rows in fast:
        assert np.array_equal(rows, exact), _differences(rows, exact)
    reference = np.array([summarise(s, 0, 0, 0, 0) for s in analyse(path).sessions], dtype=SESSION)
    assert _comparable(exact) == _comparable(reference)


def _differences(rows: np.ndarray, exact: np.ndarray) -> list[tuple[str, object, object]]:
    if len(rows) != len(exact):
        return [("sessions", len(rows), len(exact))]
    names = exact.dtype.names or ()
    return [(n, rows[n].tolist(), exact[n].tolist()) for n in names if not np.array_equal(rows[n], exact[n])]
