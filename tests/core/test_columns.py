"""The session list's columns say what the exact reassembly says, and sort as a stable sort does.

Each column of ``SessionColumns`` (vectorised over the session rows) is
checked against the replayed ``TcpSession`` of every session of every shared
capture: endpoints, byte counts, state, the status flags and the verdict (the dot's colour).
Sort orders are checked against Python's stable ``sorted`` on keys built from
those sessions, ascending and descending (ties in id order both ways).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.flows.columns import Column, SessionColumns
from monoview.core.stats import STATES
from monoview.core.tcp.session import TcpSession
from monoview.core.verdict import VERDICTS, session_verdict
from tests.conftest import CAPTURES
from tests.core.test_walk import CAPTURE_FILES


def _flags(s: TcpSession) -> list[str]:
    """What the window showed for a session before it read columns (the old model's text)."""
    flags = [s.state]
    if not s.handshake:
        flags.append("no handshake")
    gaps = sum(len(s.gaps(d)) for d in ("c2s", "s2c"))
    if gaps:
        flags.append(f"{gaps} gap" + ("s" if gaps > 1 else ""))
    conflicts = sum(len(s.conflicts(d)) for d in ("c2s", "s2c"))
    if conflicts:
        flags.append(f"{conflicts} conflict" + ("s" if conflicts > 1 else ""))
    if s.truncated:
        flags.append("truncated")
    return flags


def _verdict(s: TcpSession) -> str:
    """The verdict as ``core.verdict`` documents it, written out on the replayed session."""
    if any(s.gaps(d) for d in ("c2s", "s2c")):
        return "bytes missing"
    if s.state == "reset":
        return "reset"
    if s.state != "closed":
        return "open"
    return "complete" if s.handshake else "no handshake"


def _key(s: TcpSession, column: Column) -> object:
    endpoint = {Column.CLIENT: s.client, Column.SERVER: s.server}.get(column)
    if endpoint is not None:
        return (len(endpoint.ip), endpoint.ip, endpoint.port)
    return {
        Column.STREAM: s.id,
        Column.VLAN: s.context,
        Column.BYTES: s.stream("c2s").kept + s.stream("s2c").kept,
        Column.DATA_C2S: s.data_packets[s.client_side],
        Column.DATA_S2C: s.data_packets[1 - s.client_side],
        Column.START: s.first_ts_ns,
        Column.DURATION: s.duration_ns,
        Column.PACKETS: s.packets,
        Column.C2S: s.stream("c2s").kept,
        Column.S2C: s.stream("s2c").kept,
    }[column]


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_columns_say_what_the_reassembly_says(path: Path) -> None:
    with CaptureDocument(path, workers=1) as document:
        columns = SessionColumns(document.rows, document.flows)
        sessions = [document.conversation(i) for i in range(1, len(document) + 1)]
        for i, s in enumerate(sessions):
            assert columns.endpoint(i, True) == s.client
            assert columns.endpoint(i, False) == s.server
            assert int(columns.c2s_bytes[i]) == s.stream("c2s").kept
            assert int(columns.s2c_bytes[i]) == s.stream("s2c").kept
            assert int(columns.duration_ns[i]) == s.duration_ns
            assert STATES[int(columns.state[i])] == s.state
            assert columns.flags(i) == _flags(s)
            assert VERDICTS[int(columns.verdict[i])] == _verdict(s) == session_verdict(s)
            client_side = s.client_side
            assert int(columns.c2s_data_packets[i]) == s.data_packets[client_side]
            assert int(columns.s2c_data_packets[i]) == s.data_packets[1 - client_side]
            assert columns.context_text(i) == ".".join(str(tag) for tag in s.context)
        for column in (Column.CLIENT, Column.SERVER, Column.START, Column.DURATION, Column.PACKETS,
                       Column.C2S, Column.S2C, Column.BYTES, Column.DATA_C2S, Column.DATA_S2C,
                       Column.STREAM, Column.VLAN):  # fmt: skip
            keys = [_key(s, column) for s in sessions]
            ascending = sorted(range(len(keys)), key=keys.__getitem__)
            descending = sorted(range(len(keys)), key=keys.__getitem__, reverse=True)
            assert columns.sort_order(column).tolist() == ascending, column
            assert columns.sort_order(column, descending=True).tolist() == descending, column


def test_status_sorts_worst_first_when_descending() -> None:
    path = next((p for p in CAPTURE_FILES if p.name == "suricata_http-mime-truncated.pcap"), None)
    if path is None:
        pytest.skip("capture not available")
    with CaptureDocument(path, workers=1) as document:
        columns = SessionColumns(document.rows, document.flows)
        verdict = columns.verdict[columns.sort_order(Column.STATUS, descending=True)]
        assert verdict.tolist() == sorted(verdict.tolist(), reverse=True)


@pytest.mark.skipif(not CAPTURES.exists(), reason="the shared captures are not beside the checkout")
def test_packets_by_direction_count_every_packet_of_each_side() -> None:
    import json

    checked = 0
    for path in CAPTURE_FILES[:25]:
        oracle_path = path.with_name(path.name.rsplit(".", 1)[0] + ".oracle.json")
        if not oracle_path.exists():
            continue
        streams = json.loads(oracle_path.read_text())["streams"]
        with CaptureDocument(path, workers=1) as document:
            if len(document) != len(streams):
                continue
            for stream in streams:
                number = stream["tshark_stream"] + 1
                session = document.conversation(number)
                client, server = document.packets_by_direction(number)
                assert client + server == session.packets == stream["packets"]
                if str(session.client) == _endpoint(stream["client"]):  # both chose the same client
                    assert (client, server) == (stream["c2s"]["packets"], stream["s2c"]["packets"]), path.name
                    checked += 1
    assert checked > 20


def _endpoint(e: dict) -> str:
    return f"[{e['ip']}]:{e['port']}" if ":" in e["ip"] else f"{e['ip']}:{e['port']}"
