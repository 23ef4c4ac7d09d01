"""Sessions replayed flow by flow from the packet index are the sessions the
per-packet path builds: same state, same pieces, gaps, conflicts, monologues
and events, on every shared capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monoview.core.analyse import Analysis
from monoview.core.capture.index import PacketIndex, build_index
from monoview.core.capture.source import CaptureFile
from monoview.core.export import stream_json
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.replay import FlowRows, Replayed, replay_flow
from monoview.core.tcp.session import Endpoint, TcpSession
from tests.conftest import CAPTURES
from tests.core.test_walk import CAPTURE_FILES


def flow_rows(index: PacketIndex) -> list[tuple[int, FlowRows]]:
    order = np.argsort(index.columns["flow"], kind="stable")
    counts = np.bincount(index.columns["flow"], minlength=len(index.flows))
    bounds = np.concatenate([[0], np.cumsum(counts)])
    names = ("frame", "ts", "flags", "seq", "ack", "payload", "caplen", "wirelen", "dir")
    sorted_columns = {name: index.columns[name][order].tolist() for name in names}
    out = []
    for flow in range(len(index.flows)):
        a, b = int(bounds[flow]), int(bounds[flow + 1])
        rows = FlowRows(**{name: values[a:b] for name, values in sorted_columns.items()}, parts=index.parts)
        out.append((flow, rows))
    return out


def replay_capture(path: Path, index: PacketIndex) -> list[tuple[Replayed, FlowRows]]:
    capture = CaptureFile.open(path)
    found = []
    for flow, rows in flow_rows(index):
        (a_ip, a_port), (b_ip, b_port) = index.flows.endpoints(flow)
        endpoints = (Endpoint(a_ip, a_port), Endpoint(b_ip, b_port))
        for replayed in replay_flow(capture.buffer, rows, index.flows.context(flow), endpoints):
            # The outer path is the flow table's context, as the document gives it its sessions.
            replayed.session.path_set = index.flows.outer_path_set(flow)
            found.append((replayed, rows))
    found.sort(key=lambda pair: pair[0].session.first_frame)
    for number, (replayed, _rows) in enumerate(found, 1):
        replayed.session.id = number
    return found


def fingerprint(session: TcpSession) -> dict[str, Any]:
    out = stream_json(session)
    for side, stream in enumerate(session.streams):
        out[f"stream{side}"] = (
            list(stream.p_start), list(stream.p_len), list(stream.p_file), list(stream.p_frame),
            list(stream.p_ts), stream.gaps, stream.conflicts, stream.kept, stream.bytes_seen,
            stream.cut_at, stream.origin(), list(stream.order()), stream.next, stream.max_ack,
            stream._last_ack, stream._highest, stream.fin_offset,
        )  # fmt: skip
    out["monologues"] = [(m.side, m.index, m.first, m.stop) for m in session.monologues]
    out["endpoints"] = session.endpoints
    out["data_packets"] = session.data_packets
    out["first_frame"], out["last_frame"] = session.first_frame, session.last_frame
    return out


class EventLog(Listener):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def tcp_session_start(self, session: TcpSession, packet: TcpPacket | None) -> None:
        self.events.append(("start", session.id, None if packet is None else packet.frame))

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        self.events.append(("monologue", session.id, monologue.index))

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        self.events.append(("end", session.id, None if packet is None else packet.frame))


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_replayed_sessions_are_the_per_packet_sessions(path: Path) -> None:
    log = EventLog()
    analysis = Analysis(path, listeners=[log]).run_to_end()
    replayed = replay_capture(path, build_index(path, workers=1))
    assert [fingerprint(r.session) for r, _rows in replayed] == [fingerprint(s) for s in analysis.sessions]
    # Each session's events, in order, naming the same packets.
    events = []
    for r, rows in replayed:
        for name, args in r.events:
            ref = args.get("packet")
            frame = None if ref is None else rows.frame[ref]
            what = args["monologue"].index if name == "tcp_monologue" else frame
            events.append((name.removeprefix("tcp_").removeprefix("session_"), r.session.id, what))
    by_session = sorted(log.events, key=lambda e: e[1])  # stable: each session's own order kept
    assert events == by_session


@pytest.mark.skipif(not CAPTURES.exists(), reason="the shared captures are not beside the checkout")
def test_one_session_replays_alone() -> None:
    """A session replayed from its own rows (not its whole flow) is the same session."""
    checked = 0
    for path in CAPTURE_FILES:
        index = build_index(path, workers=1)
        capture = CaptureFile.open(path)
        for flow, rows in flow_rows(index):
            (a_ip, a_port), (b_ip, b_port) = index.flows.endpoints(flow)
            endpoints = (Endpoint(a_ip, a_port), Endpoint(b_ip, b_port))
            whole = replay_flow(capture.buffer, rows, index.flows.context(flow), endpoints)
            if len(whole) < 2:
                continue
            for r in whole:
                reason = "reused" if r.stop < len(rows) else "capture end"
                (alone,) = replay_flow(
                    capture.buffer, rows, index.flows.context(flow), endpoints, start=r.first, stop=r.stop,
                    end_reason=reason,
                )  # fmt: skip
                assert fingerprint(alone.session) == fingerprint(r.session)
                checked += 1
    assert checked >= 4  # the shared captures reuse a 4-tuple in a few places
