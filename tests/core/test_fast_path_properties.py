"""Property tests: the fast paths give exactly the exact path's sessions.

Hypothesis writes captures of one or two connections on a 4-tuple, built from
random steps around the clean pattern and away from it: SYNs and SYN/ACKs
repeated or with other ISNs, missing handshakes, data in order, repeated,
overlapping, ahead of a hole, keep-alives, cut by snaplen; ACKs right, old or
far beyond anything sent; FIN and RST anywhere; pauses longer than the linger
time; sequence numbers near 2**32.  For each capture the session list is
computed three ways (vectorised clean flows + fast lane, fast lane only, exact
replay only) and from the per-packet pipeline; all must agree on every field.
``MONOVIEW_EXAMPLES`` sets the number of examples (default 200).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monoview.core.analyse import analyse
from monoview.core.capture.index import build_index
from monoview.core.capture.source import CaptureFile
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.summary import SESSION, summarise
from monoview.core.flows.table import endpoints_of
from monoview.core.tcp.replay import replay_flow
from tests.core.test_replay import fingerprint
from tests.core.test_session_table import _all_paths, _comparable
from tests.pcapgen import ACK, FIN, PSH, RST, SYN, Frame, ethernet, tcp_ip, write_pcap

SETTINGS = settings(
    max_examples=int(os.environ.get("MONOVIEW_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)
STEP = 1_000_000
LINGER = 61 * 10**9

ACK_VALUES = ["right", "right", "old", "far", "zero", "handshake", "handshake"]


def _steps(clean: bool) -> st.SearchStrategy[tuple[object, ...]]:
    """Steps of a connection; ``clean`` keeps to those a clean flow may have (ACKs,
    FINs, RSTs and pauses of any kind stay possible)."""
    placements = (
        ["next"] if clean else ["next", "next", "next", "repeat", "overlap", "ahead", "keepalive", "cut"]
    )
    choices = [
        st.tuples(st.just("syn"), st.sampled_from(["same"] if clean else ["same", "other"])),
        st.tuples(
            st.just("synack"), st.sampled_from(["right"] if clean else ["right", "wrong", "other isn"])
        ),
        st.tuples(st.just("data"), st.booleans(), st.sampled_from(placements), st.integers(1, 120)),
        st.tuples(st.just("data"), st.booleans(), st.sampled_from(placements), st.integers(1, 120)),
        st.tuples(st.just("ack"), st.booleans(), st.sampled_from(ACK_VALUES)),
        st.tuples(st.just("ack"), st.booleans(), st.sampled_from(ACK_VALUES)),
        st.tuples(st.just("fin"), st.booleans(), st.sampled_from(["next", "next", "far"])),
        st.tuples(st.just("rst"), st.booleans()),
        st.tuples(st.just("pause"), st.sampled_from([STEP, 30 * 10**9, LINGER])),
        # A burst: many segments in order from one side, perhaps each ACKed by the other
        # (runs long enough for the run lane), the ACKs perhaps odd.
        st.tuples(
            st.just("burst"), st.booleans(), st.integers(8, 40), st.sampled_from(["none", "right", "mixed"])
        ),
    ]
    return st.one_of(*choices)


def _expand(program: list[tuple[object, ...]], draw: st.DrawFn) -> list[tuple[object, ...]]:
    """Bursts as the data and ACK steps they stand for."""
    out: list[tuple[object, ...]] = []
    for step in program:
        if step[0] != "burst":
            out.append(step)
            continue
        _, from_client, count, acks = step
        for k in range(int(count)):  # type: ignore[call-overload]
            out.append(("data", from_client, "next", draw(st.integers(1, 120))))
            if acks == "right" or (acks == "mixed" and k % 3):
                value = "right" if acks == "right" else draw(st.sampled_from(ACK_VALUES))
                out.append(("ack", not from_client, value))
    return out


@st.composite
def connections(draw: st.DrawFn) -> list[Frame]:
    frames: list[Frame] = []
    t = 1_700_000_000 * 10**9
    for _ in range(draw(st.integers(1, 2))):
        near_wrap = draw(st.booleans())
        c_isn = draw(st.integers(2**32 - 500, 2**32 - 1) if near_wrap else st.integers(0, 2**32 - 1))
        s_isn = draw(st.integers(0, 2**32 - 1))
        c_next, s_next = c_isn + 1, s_isn + 1  # next sequence number each side sends
        c_high, s_high = c_next, s_next
        handshake = draw(st.sampled_from(["full", "full", "full", "no ack", "none"]))
        program: list[tuple[object, ...]] = []
        if handshake != "none":
            program += [("syn", "same"), ("synack", "right")]
            if handshake == "full":
                program.append(("ack", True, "right"))
        program += draw(st.lists(_steps(draw(st.booleans())), max_size=20))
        program = _expand(program, draw)
        for step in program:
            kind = step[0]
            t += STEP
            if kind == "pause":
                t += int(step[1])  # type: ignore[call-overload]
                continue
            if kind == "syn":
                seq = c_isn if step[1] == "same" else (c_isn + 77_777) % 2**32
                packet = tcp_ip(CLIENT, SERVER, seq, 0, SYN)
            elif kind == "synack":
                seq = s_isn if step[1] != "other isn" else (s_isn + 99_999) % 2**32
                ack = c_isn + 1 if step[1] != "wrong" else c_isn + 5
                packet = tcp_ip(SERVER, CLIENT, seq, ack, SYN | ACK)
            elif kind == "data":
                _, from_client, where, size = step
                nxt = c_next if from_client else s_next
                payload = bytes([65 + size % 26]) * int(size)  # type: ignore[call-overload]
                origlen = None
                if where == "repeat":
                    seq = nxt - len(payload)
                elif where == "overlap":
                    seq = nxt - len(payload) // 2
                elif where == "ahead":
                    seq = nxt + 50
                elif where == "back":  # far below: into a hole passed over, or before the first byte
                    seq = nxt - 60 - 3 * len(payload)
                elif where == "keepalive":
                    seq, payload = nxt - 1, b"\x00"
                else:
                    seq = nxt
                peer = s_next if from_client else c_next
                src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
                packet = tcp_ip(src, dst, seq % 2**32, peer % 2**32, PSH | ACK, payload)
                if where == "cut":
                    origlen = len(ethernet(packet)) + 0
                    packet = packet[: max(40, len(packet) - 10)]
                    origlen += 0
                end = seq + len(payload)
                if where in ("next", "cut"):
                    if from_client:
                        c_next = max(c_next, end)
                    else:
                        s_next = max(s_next, end)
                if from_client:
                    c_high = max(c_high, end)
                else:
                    s_high = max(s_high, end)
                frame = ethernet(packet)
                full = ethernet(tcp_ip(src, dst, seq % 2**32, peer % 2**32, PSH | ACK, payload))
                frames.append(Frame(t, frame, origlen=len(full) if where == "cut" else None))
                continue
            elif kind == "ack":
                _, from_client, value = step
                peer_high = s_high if from_client else c_high
                peer_isn = s_isn if from_client else c_isn
                ack = {"right": peer_high, "old": peer_high - 40, "far": peer_high + (1 << 28), "zero": 0,
                       "handshake": peer_isn + 1}[value]  # type: ignore[index]  # fmt: skip
                own = c_next if from_client else s_next
                src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
                packet = tcp_ip(src, dst, own % 2**32, ack % 2**32, ACK)
            elif kind == "fin":
                _, from_client, where = step
                own, peer = (c_next, s_next) if from_client else (s_next, c_next)
                if where == "far":  # a FIN far beyond the data: what the peer then ACKs is past a hole
                    own += 100 << 20
                src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
                packet = tcp_ip(src, dst, own % 2**32, peer % 2**32, FIN | ACK)
                if from_client:
                    c_high = max(c_high, own + 1)
                    c_next += where != "far"
                else:
                    s_high = max(s_high, own + 1)
                    s_next += where != "far"
            else:  # rst
                from_client = step[1]
                own = c_next if from_client else s_next
                src, dst = (CLIENT, SERVER) if from_client else (SERVER, CLIENT)
                packet = tcp_ip(src, dst, own % 2**32, 0, RST)
            frames.append(Frame(t, ethernet(packet)))
        t += draw(st.sampled_from([STEP, LINGER]))
    return frames


@SETTINGS
@given(frames=connections())
def test_fast_paths_equal_the_exact_path(tmp_path: Path, frames: list[Frame]) -> None:
    if not frames:
        return
    path = write_pcap(tmp_path / "p.pcap", frames)
    *fast, exact = _all_paths(path)
    for rows in fast:
        assert np.array_equal(rows, exact)
    reference = np.array([summarise(s, 0, 0, 0, 0) for s in analyse(path).sessions], dtype=SESSION)
    assert _comparable(exact) == _comparable(reference)


@SETTINGS
@given(frames=connections())
def test_the_fast_lane_builds_the_same_sessions(tmp_path: Path, frames: list[Frame]) -> None:
    """Not only the summary: every piece, gap, conflict, monologue and event."""
    if not frames:
        return
    path = write_pcap(tmp_path / "p.pcap", frames)
    index = build_index(path, workers=1)
    buf = CaptureFile.open(path).buffer
    grouped = GroupedRows.of_index(index)
    groups = list(range(len(grouped)))
    rows, spans, columns = grouped.flow_rows(groups)
    hints = run_hints(columns, spans, set(grouped.parts))
    for span, (start, stop) in enumerate(spans):
        flow = int(grouped.flows[span])
        context, endpoints = index.flows.context(flow), endpoints_of(index.flows, flow)
        common = {"start": start, "stop": stop}
        slow = replay_flow(buf, rows, context, endpoints, fast=False, **common)  # type: ignore[arg-type]
        for lane in (
            replay_flow(buf, rows, context, endpoints, fast=True, **common),  # type: ignore[arg-type]
            replay_flow(buf, rows, context, endpoints, fast=True, hints=hints, span=span, **common),  # type: ignore[arg-type]
        ):
            assert [fingerprint(r.session) for r in lane] == [fingerprint(r.session) for r in slow]
            assert [_events(r) for r in lane] == [_events(r) for r in slow]


def _events(replayed: object) -> list[tuple[str, object]]:
    out = []
    for name, args in replayed.events:  # type: ignore[attr-defined]
        what = args["monologue"].index if name == "tcp_monologue" else args.get("packet")
        out.append((name, what))
    return out
