"""Where the widened public corpus (tests/corpus.md) and tshark differ, and why monoview is right.

Each test takes one capture copied into tests/data (provenance in
tests/data/PROVENANCE.md) and checks monoview's answer against evidence in the
capture itself: sequence numbers, IP lengths, record headers, the ACKs.
test_tests_data_matches_its_oracle holds every other capture of tests/data to
its tshark oracle exactly.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.streambytes import direction_bytes
from monoview.core.tcp.records import GapCause
from monoview.core.tcp.session import TcpSession
from tests.conformance import (
    client_ignored,
    extra_gaps_explained,
    load_compare,
    manifest_for,
    oracle_for,
    tshark_view,
)
from tests.conftest import DATA

# capture in tests/data -> why it differs from its oracle (each has a test below)
DIFFERING = {
    "tcpdump_of10-s4810.pcap": "tshark's follow loses an OpenFlow segment that carries a frame",
    "tcpdump_bgp-cease-hard-reset.pcap": "bytes after a hole nobody ACKed are kept",
    "tcpdump_bgp-as-path-oobr.pcap": "a whole IP datagram in a frame cut after it is not truncated",
    "zeek_contentline-contentline-irc-5k-line.pcap": "no 1-byte gap before a mid-stream start",
    "tcpdump_timestamp-invalid-micro.pcap": "a microsecond field of 2^31 is 2147 s, not 0",
}
CAPTURES = sorted(p for p in DATA.iterdir() if p.suffix in (".pcap", ".pcapng"))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _packets(capture: Path) -> list[tuple[TcpPacket, TcpSession]]:
    seen = []

    class Keep(Listener):
        def tcp_packet(self, packet: TcpPacket, session: TcpSession) -> None:
            seen.append((packet, session))

    analyse(capture, listeners=[Keep()])
    return seen


def _records(capture: Path) -> list[tuple[int, int, int, int, bytes]]:
    """(seconds, fraction, captured, wire length, data) of each record of a little-endian pcap."""
    raw = capture.read_bytes()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1"
    out, offset = [], 24
    while offset < len(raw):
        sec, frac, caplen, wirelen = struct.unpack_from("<IIII", raw, offset)
        out.append((sec, frac, caplen, wirelen, raw[offset + 16 : offset + 16 + caplen]))
        offset += 16 + caplen
    return out


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name for p in CAPTURES])
def test_tests_data_matches_its_oracle(capture: Path) -> None:
    if not capture.with_name(capture.name.rsplit(".", 1)[0] + ".oracle.json").exists():
        pytest.skip("no oracle")
    oracle, manifest = oracle_for(capture), manifest_for(capture)
    compare = load_compare()
    diffs = compare.compare(oracle, tshark_view(manifest), ignore=client_ignored(oracle))
    if capture.name in DIFFERING or capture.name == "midstream_lossy.pcap":
        assert diffs, f"{capture.name} is listed as differing, but now matches"
        return
    assert diffs == []
    assert extra_gaps_explained(oracle, manifest) == []


def test_openflow_segment_carrying_a_frame_is_kept() -> None:
    """tcpdump's of10_s4810: tshark's follow marks 137 bytes missing (frame 47, a packet-in
    carrying an STP frame) and loses 274, though every sequence number is captured once."""
    capture = DATA / "tcpdump_of10-s4810.pcap"
    oracle = next(s for s in oracle_for(capture)["streams"] if s["client"]["port"] == 56068)
    assert oracle["c2s"]["gaps"] == [{"offset": 10212, "missing": 137}]
    assert oracle["c2s"]["len"] == oracle["c2s"]["seq_span"] - 2 * 137
    packets = [(p, s) for p, s in _packets(capture) if s.client.port == 56068]
    session = packets[0][1]
    sent = sorted((p.seq, p) for p, _ in packets if p.sport == 56068 and p.payload_len)
    # The client's segments tile its stream: each starts where the previous ended.
    wire = b""
    for (seq, packet), (next_seq, _) in zip(sent, sent[1:] + [(None, None)], strict=True):
        if next_seq is not None:
            assert next_seq == seq + packet.payload_len
        assert packet.payload_caplen == packet.payload_len
        wire += session.read(packet.payload_offset, packet.payload_len)
    assert len(wire) == oracle["c2s"]["seq_span"]
    assert direction_bytes(session, "c2s") == wire
    assert session.gaps("c2s") == []
    assert sha(direction_bytes(session, "s2c")) == oracle["s2c"]["sha256"]


def test_bytes_after_a_hole_nobody_acked_are_kept() -> None:
    """tcpdump's bgp-cease-hard-reset: the server's last 23 bytes come 61 bytes after its first
    65; nobody ACKs the hole, so tshark drops them.  The client's bytes 50..155 were not
    captured, but the server ACKs them: an end gap the peer ACKed."""
    capture = DATA / "tcpdump_bgp-cease-hard-reset.pcap"
    oracle = oracle_for(capture)["streams"][0]
    (session,) = analyse(capture).sessions
    served = direction_bytes(session, "s2c")
    assert sha(served[:65]) == oracle["s2c"]["sha256"] and oracle["s2c"]["len"] == 65
    from_server = [p for p, _ in _packets(capture) if p.sport == session.server.port]
    last = from_server[-1]
    assert (last.seq - from_server[0].seq) % 2**32 == 65 + 61
    assert served[65:] == session.read(last.payload_offset, last.payload_len)
    (hole,) = session.gaps("s2c")
    assert (hole.offset, hole.length, hole.acked) == (65, 61, False)
    assert sha(direction_bytes(session, "c2s")) == oracle["c2s"]["sha256"]
    (end,) = session.gaps("c2s")
    assert end.cause is GapCause.END and end.acked and end.length == 106
    assert (last.ack - from_server[0].ack) % 2**32 == 106


def test_whole_datagram_in_a_frame_cut_after_it_is_not_truncated() -> None:
    """tcpdump's bgp-as-path-oobr: frame 4 is 65,549 bytes on the wire, 65,535 captured, but its
    IP datagram (65,521 bytes) is all there: only bytes after it were cut.  The oracle calls the
    stream truncated from the frame lengths alone."""
    capture = DATA / "tcpdump_bgp-as-path-oobr.pcap"
    *_, (_sec, _frac, caplen, wirelen, data) = _records(capture)
    total = struct.unpack_from(">H", data, 14 + 2)[0]
    assert wirelen > caplen and 14 + total == caplen
    oracle = next(s for s in oracle_for(capture)["streams"] if s["truncated"])
    far = f"{oracle['server']['ip']}:{oracle['server']['port']}"
    session = next(s for s in analyse(capture).sessions if far in (str(s.client), str(s.server)))
    assert not session.truncated
    sent = "c2s" if session.client.port == oracle["client"]["port"] else "s2c"  # by port 179
    assert sha(direction_bytes(session, sent)) == oracle["c2s"]["sha256"]
    assert session.gaps(sent) == []


def test_no_gap_before_the_first_byte_of_a_mid_stream_direction() -> None:
    """zeek's contentline-irc-5k-line: the capture starts mid-connection; tshark marks one byte
    missing before the client's first byte, although its own sequence span says none is."""
    capture = DATA / "zeek_contentline-contentline-irc-5k-line.pcap"
    oracle = next(s for s in oracle_for(capture)["streams"] if s["client"]["port"] == 61556)
    assert oracle["c2s"]["gaps"] == [{"offset": 0, "missing": 1}]
    assert oracle["c2s"]["len"] == oracle["c2s"]["seq_span"]
    session = next(s for s in analyse(capture).sessions if 61556 in (s.client.port, s.server.port))
    direction = "c2s" if session.client.port == 61556 else "s2c"
    assert sha(direction_bytes(session, direction)) == oracle["c2s"]["sha256"]
    assert session.gaps(direction) == []


def test_out_of_range_microseconds_are_carried_into_seconds() -> None:
    """tcpdump's timestamp_invalid_micro: the last record's microsecond field is 2^31; tshark
    multiplies it into a 32-bit overflow and prints .000000."""
    capture = DATA / "tcpdump_timestamp-invalid-micro.pcap"
    sec, frac, *_ = _records(capture)[-1]
    assert frac == 2**31
    (session,) = analyse(capture).sessions
    assert session.last_ts_ns == sec * 10**9 + frac * 1000
    oracle = oracle_for(capture)
    assert load_compare().compare(oracle, manifest_for(capture), ignore=["last_ts"]) == []
