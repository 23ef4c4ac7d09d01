"""Property tests: any byte string, cut into segments that are reordered,
duplicated and overlapped, reassembles to the original; dropped segments
become gaps of the right size at the right offsets.

The captures are real pcap files (dpkt builds the frames), read back through
the whole pipeline, with random initial sequence numbers so that wrap-around
at 2**32 is exercised too.  ``MONOVIEW_EXAMPLES=5000`` makes a long run.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monoview.core.analyse import analyse
from monoview.core.streambytes import GapPolicy, direction_bytes
from monoview.core.tcp.records import GapCause
from tests.pcapgen import ACK, FIN, Conversation, write_pcap

SETTINGS = settings(
    max_examples=int(os.environ.get("MONOVIEW_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def segmented(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int]], int]:
    """A payload, a list of (start, end) segments covering it, and an ISN."""
    data = draw(st.binary(min_size=1, max_size=3000))
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=12))) if len(data) > 1 else []
    bounds = [0, *cuts, len(data)]
    segments = list(zip(bounds, bounds[1:], strict=False))
    # Overlapping retransmissions: arbitrary ranges of the same bytes.
    extra = draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 400)), max_size=4))
    segments += [(a, min(len(data), a + n)) for a, n in extra]
    # Plain duplicates.
    segments += draw(st.lists(st.sampled_from(segments), max_size=3))
    isn = draw(st.one_of(st.integers(0, 2**32 - 1), st.integers(2**32 - 3000, 2**32 - 1)))
    return data, segments, isn


def _capture(tmp: Path, data: bytes, segments: list[tuple[int, int]], isn: int, ack_at: int) -> Path:
    """The segments in the given order; the server acknowledges all the data after
    ``ack_at`` of them (as a tap that sees the ACK before some retransmissions would)."""
    conv = Conversation(client_isn=isn, server_isn=(isn * 7 + 12345) % 2**32)
    conv.handshake()
    for i, (start, end) in enumerate(segments):
        if i == ack_at:
            conv.c_next += len(data)
            conv.ack(False)
            conv.c_next -= len(data)
        conv.segment(True, start, data[start:end])
    conv.c_next += len(data)
    conv.ack(False)
    conv.segment(True, len(data), b"", flags=FIN | ACK)
    conv.c_next += 1
    conv.ack(False)
    return write_pcap(tmp / "p.pcap", conv.frames)


def _covered(segments: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(segments):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


@SETTINGS
@given(case=segmented(), order=st.randoms(use_true_random=False), ack_at=st.integers(0, 40))
def test_any_segmentation_reassembles_to_the_original(tmp_path: Path, case, order, ack_at) -> None:  # type: ignore[no-untyped-def]
    data, segments, isn = case
    order.shuffle(segments)
    (session,) = analyse(_capture(tmp_path, data, segments, isn, ack_at)).sessions
    assert direction_bytes(session, "c2s") == data
    assert session.gaps("c2s") == []
    assert session.conflicts("c2s") == []
    assert session.client_basis == "syn"
    assert sum(m.length for m in session.monologues) == len(data)


@SETTINGS
@given(
    case=segmented(),
    order=st.randoms(use_true_random=False),
    drop=st.sets(st.integers(0, 30), min_size=1),
    ack_at=st.integers(0, 40),
)
def test_dropped_segments_become_gaps(tmp_path: Path, case, order, drop, ack_at) -> None:  # type: ignore[no-untyped-def]
    data, segments, isn = case
    kept = [s for i, s in enumerate(segments) if i not in drop]
    order.shuffle(kept)
    covered = _covered([s for s in kept if s[1] > s[0]])
    expected_gaps = []
    pos = 0
    for a, b in [*covered, (len(data), len(data))]:
        if a > pos:
            expected_gaps.append((pos, a - pos))
        pos = max(pos, b)
    (session,) = analyse(_capture(tmp_path, data, kept, isn, ack_at)).sessions
    gaps = session.gaps("c2s")
    assert [(g.offset, g.length) for g in gaps] == expected_gaps
    # The server acknowledged everything, so every hole is one the receiver got.
    assert all(g.acked for g in gaps)
    # A hole after the last captured byte is known only from the FIN.
    for g in gaps:
        assert (g.cause is GapCause.END) == (
            g.offset + g.length == len(data) and g.offset >= (covered[-1][1] if covered else 0)
        )
    assert direction_bytes(session, "c2s") == b"".join(data[a:b] for a, b in covered)
    zero = direction_bytes(session, "c2s", GapPolicy.ZERO)
    assert len(zero) == len(data)
    for a, b in covered:
        assert zero[a:b] == data[a:b]
    for offset, length in expected_gaps:
        assert zero[offset : offset + length] == bytes(length)


def test_many_waiting_segments_are_released_by_offset(tmp_path: Path) -> None:
    """Hundreds of segments behind a hole (more than the arrival-order scan handles)."""
    import random

    rng = random.Random(7)
    data = rng.randbytes(200_000)
    segments = [(a, min(a + 400, len(data))) for a in range(0, len(data), 400)]
    first, rest = segments[0], segments[1:]
    rng.shuffle(rest)
    conv = Conversation()
    conv.handshake()
    for start, end in [*rest, first]:  # the first segment arrives last
        conv.segment(True, start, data[start:end])
    conv.close()
    (session,) = analyse(write_pcap(tmp_path / "many.pcap", conv.frames)).sessions
    assert direction_bytes(session, "c2s") == data
    assert session.gaps("c2s") == []


def test_one_sided_capture_with_a_lost_segment(tmp_path: Path) -> None:
    """No ACKs in the capture: the hole is given up at the end, every later byte kept."""
    data = bytes(range(256)) * 400
    conv = Conversation()
    conv.handshake()
    conv.frames.pop(1)  # only the client's side was captured
    for start in range(0, len(data), 500):
        if start != 1000:
            conv.segment(True, start, data[start : start + 500])
    (session,) = analyse(write_pcap(tmp_path / "one.pcap", conv.frames)).sessions
    assert direction_bytes(session, "c2s") == data[:1000] + data[1500:]
    assert [(g.offset, g.length, g.acked) for g in session.gaps("c2s")] == [(1000, 500, False)]
