"""A TCP header that goes past the end of its IP packet: tshark's "short segment".

tshark reads the ports, sequence numbers, flags and window (the header's first 16
bytes) and puts the segment in its stream, with no payload ("Segment/fragment does
not contain a full TCP header"), so a SYN whose options lie past the IP length
(``suricata_mac-eve-packet-test``) or whose last 4 bytes FabricPath takes for its FCS
(``zeek_cisco-fabric-path``) still opens the connection.  monoview does the same and
counts such packets apart, in a warning; the scanner leaves them to the per-frame
decoder, so both paths agree.  Each capture is one HTTP exchange whose SYN is the
odd one; tshark, where installed, must put every frame in one stream.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.capture.ethernet import ETH_FABRICPATH
from monoview.core.document import CaptureDocument
from tests.core.test_readers import check, conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnels import TSHARK
from tests.encapgen import MACS, ether, ipv4
from tests.pcapgen import Frame, pcap_bytes


def _options_past_the_ip_length(frame: bytes) -> bytes:
    """The SYN again with a 4-byte MSS option its IP total length leaves out: the option's
    bytes are the frame's padding (as a 60-byte Ethernet frame holds them)."""
    ip = frame[14:]
    (sport, dport, seq, ack) = struct.unpack(">HHII", ip[20:32])
    src, dst = ip[12:16], ip[16:20]
    header = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 6 << 4, ip[33], 65535, 0, 0)
    packet = ipv4(6, header, src=src, dst=dst)  # total length 40: 20 of the 24 header bytes
    return ether(0x0800, packet) + b"\x02\x04\x05\xb4"


def _fabricpath_without_fcs(frame: bytes) -> bytes:
    """The SYN again inside FabricPath, captured without FabricPath's FCS: tshark takes the
    TCP header's last 4 bytes for it."""
    return MACS + struct.pack(">HH", ETH_FABRICPATH, 0) + frame


ODD_SYNS: dict[str, Callable[[bytes], bytes]] = {
    "options-past-ip-length": _options_past_the_ip_length,
    "fabricpath-without-fcs": _fabricpath_without_fcs,
}


def _tshark_streams(path: Path) -> list[str]:
    out = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-T", "fields", "-e", "tcp.stream"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split()


@pytest.mark.parametrize("case", sorted(ODD_SYNS))
def test_a_short_tcp_header_still_opens_the_connection(tmp_path: Path, case: str) -> None:
    conv = conversation()
    first = conv.frames[0]
    frames = [Frame(first.ts_ns, ODD_SYNS[case](first.data)), *conv.frames[1:]]
    path = tmp_path / "short.pcap"
    path.write_bytes(pcap_bytes(frames))
    if TSHARK:
        assert _tshark_streams(path) == ["0"] * len(frames)
    check(path, conv)  # the SYN opened it: the handshake, the first time, both directions' bytes
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.tcp_packets == len(frames)
        assert document.stats.short_headers == 1
        assert document.stats.skipped == {}
        (warning,) = document.stats.warnings()
        assert warning.startswith("1 TCP headers went past the end of their IP packet")
        assert warning.endswith("(the first is frame 1)")
    assert _compare(path.read_bytes(), path.name) == len(frames)


def test_fewer_than_the_header_fields_is_malformed(tmp_path: Path) -> None:
    """An IP packet that ends before the TCP window field: no segment (tshark's exception)."""
    conv = conversation()
    syn = conv.frames[0].data
    packet = ipv4(6, syn[34:46], src=syn[26:30], dst=syn[30:34])  # 12 of the TCP header's bytes
    frames = [Frame(1, ether(0x0800, packet) + syn[46:54]), *conv.frames[1:]]
    path = tmp_path / "shorter.pcap"
    path.write_bytes(pcap_bytes(frames))
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.skipped == {"malformed or truncated header": 1}
        assert document.stats.short_headers == 0
    assert _compare(path.read_bytes(), path.name) == len(frames) - 1
