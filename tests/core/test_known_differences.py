"""Where monoview and tshark's oracle differ on purpose, and why monoview is right.

Each test takes one capture listed in test_conformance.KNOWN_DIFFERENCES (or a
difference class from shared/captures/README.md) and checks monoview's answer
against evidence in the capture itself, not against monoview's own output.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.packet import ACK, SYN
from monoview.core.streambytes import direction_bytes
from monoview.core.tcp.records import GapCause
from tests.conformance import load_compare, manifest_for, oracle_for
from tests.conftest import shared_capture


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_vlan_collisions_are_three_sessions() -> None:
    """The same 4-tuple untagged, in VLAN 42 and in QinQ 10/20 are three conversations."""
    capture = shared_capture("wild/zeek_vlan-collisions.pcap")
    oracle = oracle_for(capture)["streams"]
    assert len(oracle) == 1  # tshark merges them
    sessions = analyse(capture).sessions
    assert sorted(s.context for s in sessions) == [(), (10, 20), (42,)]
    # Together they hold every packet tshark put in its one stream...
    assert sum(s.packets for s in sessions) == oracle[0]["packets"]
    # ...and each is a complete exchange of its own: the bytes tshark kept once.
    for session in sessions:
        assert session.handshake and session.state == "closed"
        assert sha(direction_bytes(session, "c2s")) == oracle[0]["c2s"]["sha256"]
        assert sha(direction_bytes(session, "s2c")) == oracle[0]["s2c"]["sha256"]
        assert not session.gaps("c2s") and not session.gaps("s2c")


def test_segment_stored_before_a_later_one_is_kept() -> None:
    """tcpflow's test1: two server segments in reverse order; tshark drops the earlier one."""
    capture = shared_capture("wild/tcpflow_test1-out-of-order.pcap")
    oracle = oracle_for(capture)["streams"][0]
    session = analyse(capture).sessions[0]
    served = direction_bytes(session, "s2c")
    # What tshark kept is the end of the stream; monoview has the earlier segment before it.
    tshark_bytes = oracle["c2s"]  # tshark calls the first sender (the server) the client
    assert sha(served[-tshark_bytes["len"] :]) == tshark_bytes["sha256"]
    payloads = sorted(p.payload_len for p in _packets(capture))
    assert len(served) == sum(payloads)  # every captured payload byte is in the stream
    # The sequence numbers leave 22 bytes between the two segments: one gap, not acknowledged.
    (gap,) = session.gaps("s2c")
    assert gap.cause is GapCause.NOT_CAPTURED and not gap.acked


def _packets(capture: Path) -> list:
    from monoview.core.listener import Listener

    seen = []

    class Keep(Listener):
        def tcp_packet(self, packet, session) -> None:  # type: ignore[no-untyped-def]
            seen.append(packet)

    analyse(capture, listeners=[Keep()])
    return seen


def test_shuffled_capture_is_one_complete_connection() -> None:
    """tcpflow's test5: an HTTP fetch with its packets shuffled, SYN among the last."""
    capture = shared_capture("wild/tcpflow_test5-lines-randomized.pcap")
    oracle = oracle_for(capture)["streams"]
    assert len(oracle) == 2  # tshark splits at the late SYN and loses the request
    (session,) = analyse(capture).sessions
    packets = _packets(capture)
    assert session.packets == len(packets) == sum(s["packets"] for s in oracle)
    request, response = direction_bytes(session, "c2s"), direction_bytes(session, "s2c")
    # Every payload byte on the wire is there once, nothing is missing.
    for direction, data in (("c2s", request), ("s2c", response)):
        side = session.client_side if direction == "c2s" else 1 - session.client_side
        wire = sum(p.payload_len for p in packets if session.side_of(p.src, p.sport) == side)
        assert len(data) == wire
        assert session.gaps(direction) == []
    assert request.startswith(b"GET /lines.txt HTTP/1.") and request.endswith(b"\r\n\r\n")
    head, _, body = response.partition(b"\r\n\r\n")
    length = int(
        next(
            v
            for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n"))
            if k.lower() == b"content-length"
        )
    )
    assert len(body) == length
    # tshark's bytes are all in monoview's stream.
    assert sha(response[-oracle[0]["s2c"]["len"] :]) == oracle[0]["s2c"]["sha256"]
    assert session.client_basis == "syn"


def test_out_of_range_microseconds_do_not_lose_the_stream() -> None:
    """tcpflow's bug8: frame 1 says 8,915,240 microseconds; tshark overflows it to .325305408."""
    capture = shared_capture("wild/tcpflow_bug8.pcap")
    raw = capture.read_bytes()
    _sec, usec = struct.unpack_from("<II", raw, 24)
    assert usec >= 1_000_000
    oracle = oracle_for(capture)
    manifest = manifest_for(capture)
    compare = load_compare()
    # Matched by endpoints with a tolerance that covers the corrupt field, all bytes agree.
    assert compare.compare(oracle, manifest, ts_tol=10.0, ignore=["last_ts"]) == []


def _nothing_missing(oracle_stream: dict) -> bool:
    return all(
        oracle_stream[d]["len"] == oracle_stream[d]["seq_span"] and not oracle_stream[d]["gaps"]
        for d in ("c2s", "s2c")
    )


def test_acked_unseen_segment_warning_is_not_missing_data(tmp_path: Path) -> None:
    """tshark sets missing_data from an expert hint; the oracle's own lengths show nothing missing."""
    for name in (
        "wild/zeek_http-206_example_b.pcap",
        "wild/zeek_smtp.pcap",
        "wild/suricata_with_evasion_windows.pcap",
    ):
        capture = shared_capture(name)
        oracle = oracle_for(capture)
        manifest = manifest_for(capture)
        flagged = [s for s in oracle["streams"] if s["missing_data"]]
        assert flagged
        for stream in flagged:
            assert _nothing_missing(stream), name
            assert stream["expert"]["ack_lost_segment"] >= 1
        assert not any(s["missing_data"] for s in manifest["streams"])


def test_fast_open_data_on_syn_is_complete() -> None:
    """TFO: the SYN carries 86 bytes; tshark's span counts the SYN's own sequence number."""
    capture = shared_capture("wild/zeek_tcp-fast-open.pcap")
    oracle = [s for s in oracle_for(capture)["streams"] if s["missing_data"]][0]
    assert oracle["c2s"]["seq_span"] == oracle["c2s"]["len"] + 1
    analysis = analyse(capture)
    session = next(s for s in analysis.sessions if s.client.port == oracle["client"]["port"])
    syn = next(p for p in _packets(capture) if p.flags & SYN and not p.flags & ACK and p.payload_len)
    synack = next(p for p in _packets(capture) if p.flags & SYN and p.flags & ACK and p.dport == syn.sport)
    assert synack.ack == (syn.seq + 1 + syn.payload_len) % 2**32  # the server took all of it
    data = direction_bytes(session, "c2s")
    assert len(data) == syn.payload_len == oracle["c2s"]["len"]
    assert sha(data) == oracle["c2s"]["sha256"]
    assert session.gaps("c2s") == []


def test_conflicting_retransmissions_are_recorded() -> None:
    """Suricata's crafted overlaps: the first copy is kept (as tshark does) and the conflict shown."""
    for name in ("wild/suricata_tcp-overlap-exact.pcap", "wild/suricata_tcp-overlap-partial.pcap"):
        capture = shared_capture(name)
        oracle = oracle_for(capture)["streams"][0]
        (session,) = analyse(capture).sessions
        data = direction_bytes(session, "c2s")
        assert sha(data) == oracle["c2s"]["sha256"]
        (conflict,) = session.conflicts("c2s")
        kept = session.read(conflict.kept_file_offset, conflict.length)
        other = session.read(conflict.other_file_offset, conflict.length)
        assert kept != other
        assert data[conflict.offset : conflict.offset + conflict.length] == kept
        assert conflict.kept_frame < conflict.other_frame


def test_trailing_hole_is_a_gap_the_peer_acked() -> None:
    """lab/gaps.pcap: the last server segment was deleted after capture; its ACK is still there."""
    capture = shared_capture("lab/gaps.pcap")
    oracle = oracle_for(capture)["streams"][0]
    session = analyse(capture).sessions[0]
    end = [g for g in session.gaps("s2c") if g.cause is GapCause.END]
    assert [g.length for g in end] == [oracle["s2c"]["missing_unmarked"]] == [904]
    assert end[0].acked
    marked = [(g.offset, g.length) for g in session.gaps("s2c") if g.cause is GapCause.NOT_CAPTURED]
    assert len(marked) == len(oracle["s2c"]["gaps"])


def test_snaplen_cut_bytes_are_gaps() -> None:
    """lab/snaplen96.pcap: the cut bytes are gaps at the right offsets, the captured bytes tshark's."""
    capture = shared_capture("lab/snaplen96.pcap")
    oracle = oracle_for(capture)
    for session in analyse(capture).sessions:
        o = next(s for s in oracle["streams"] if s["client"]["port"] == session.client.port)
        assert session.truncated and o["truncated"]
        for d in ("c2s", "s2c"):
            snap = [g for g in session.gaps(d) if g.cause is GapCause.SNAPLEN]
            assert sum(g.length for g in snap) == o[d]["seq_span"] - o[d]["len"]
            assert sha(direction_bytes(session, d)) == o[d]["sha256"]
            # A snaplen gap starts where a segment's captured bytes end, so the
            # bytes before each one belong to one frame and the stream goes on after it.
            assert all(g.offset > 0 for g in snap)


def test_damaged_file_keeps_what_was_read(tmp_path: Path) -> None:
    """A record claiming 3.9 GB: the error names file and frame; the 18 good packets are kept."""
    capture = shared_capture("wild/suricata_smtp-to-comma.pcap")
    oracle = oracle_for(capture)
    analysis = analyse(capture)
    assert analysis.read_error is not None
    assert capture.name in analysis.read_error and "frame 19" in analysis.read_error
    assert analysis.stats.frames == oracle["capture"]["frames"]
    manifest = manifest_for(capture)
    assert manifest["capture"]["read_error"] == analysis.read_error
    assert load_compare().compare(oracle, manifest) == []
    json.dumps(manifest)


def test_retransmission_of_bytes_sent_before_the_capture_is_kept() -> None:
    """tests/data/midstream_lossy.pcap (scripts/extra_captures.sh, seed 2): capture started
    mid-conversation under loss; the client's first 166 bytes were sent before the capture
    began, lost, and retransmitted after a later segment was captured.  tshark drops them;
    monoview puts them first, and everything after them is exactly tshark's stream."""
    from tests.conftest import DATA

    capture = DATA / "midstream_lossy.pcap"
    oracle = oracle_for(capture)["streams"][0]
    (session,) = analyse(capture).sessions
    client_bytes = direction_bytes(session, "c2s")
    # The oracle calls the first sender (the server) the client: its s2c is the real client's.
    tshark = oracle["s2c"]
    assert session.client.port == oracle["server"]["port"] and session.client_basis == "port"
    assert len(client_bytes) == tshark["len"] + 166 == tshark["seq_span"]
    assert sha(client_bytes[166:]) == tshark["sha256"]
    assert session.gaps("c2s") == []  # the sequence numbers leave nothing out
