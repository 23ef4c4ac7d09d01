"""802.11 A-MSDU aggregates: one frame holds several IP packets, and each one counts.

An 802.11n QoS data frame with the "A-MSDU present" bit carries subframes, each
an IP packet in LLC/SNAP (Zeek's ``tunnels/gre-aruba-amsdu``: two TLS segments of
one connection in one frame of an Aruba access point's GRE tunnel).  Two HTTP
exchanges, their packets interleaved and packed one, two or three to a frame
(so a frame mixes connections and directions), go through the link types and the
tunnel that carry 802.11; tshark, where installed, must follow both streams with
every byte, so the frames are known to be right.  The per-packet analysis and
the document must then find both sessions whole, count every packet (and no frame
as skipped), and the vectorised scanner must agree with the per-frame decoder.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from itertools import cycle
from pathlib import Path
from xml.etree import ElementTree

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, conversation
from tests.core.test_scan import _compare
from tests.encapgen import ethertype_of, gre, over_ipv4
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")
LLC_SNAP = b"\xaa\xaa\x03\x00\x00\x00"
ADDRESSES = b"\x02" * 6 + b"\x04" * 6 + b"\x06" * 6
GROUPS = (1, 2, 3)  # packets per frame, in turn


def subframe(ip: bytes, length: int | None = None) -> bytes:
    """One A-MSDU subframe: destination, source, the MSDU's length, LLC/SNAP and the packet."""
    msdu = LLC_SNAP + struct.pack(">H", ethertype_of(ip)) + ip
    return b"\x04" * 6 + b"\x02" * 6 + struct.pack(">H", len(msdu) if length is None else length) + msdu


def amsdu(subframes: list[bytes]) -> bytes:
    """A QoS data frame (to the distribution system) whose QoS control says A-MSDU; each
    subframe but the last padded to a multiple of 4 bytes."""
    body = b"".join(s + b"\x00" * (-len(s) % 4) for s in subframes[:-1]) + subframes[-1]
    return b"\x88\x01\x00\x00" + ADDRESSES + b"\x10\x00" + b"\x80\x00" + body


# name -> (link type, frame from the 802.11 frame)
CARRIERS: dict[str, tuple[int, Callable[[bytes], bytes]]] = {
    "ieee802_11": (105, lambda dot11: dot11),
    "radiotap": (127, lambda dot11: b"\x00\x00" + struct.pack("<H", 12) + b"\x00" * 8 + dot11),
    "ppi": (192, lambda dot11: struct.pack("<BBHI", 0, 0, 8, 105) + dot11),
    "aruba-gre": (1, lambda dot11: over_ipv4(47, gre(0x8200, dot11))),
}


def two_exchanges() -> list[Frame]:
    """Two HTTP exchanges (client ports 40000 and 40001), their frames interleaved in time."""
    first = conversation()
    second = conversation(client=("10.0.0.3", 40001), start_ns=first.start_ns + 500_000)
    return sorted(first.frames + second.frames, key=lambda f: f.ts_ns)


def aggregated(
    tmp_path: Path, carrier: str, last: Callable[[bytes], bytes] = subframe
) -> tuple[Path, list[int]]:
    """The two exchanges' IP packets, one, two or three to a frame, through ``carrier``; the
    last subframe of each frame made by ``last``.  Returns the file and each frame's packets."""
    linktype, wrap = CARRIERS[carrier]
    packets = [f.data[14:] for f in two_exchanges()]
    frames, groups, sizes = [], [], cycle(GROUPS)
    while sum(groups) < len(packets):
        at = sum(groups)
        group = packets[at : at + next(sizes)]
        subframes = [subframe(ip) for ip in group[:-1]] + [last(group[-1])]
        frames.append(Frame(1_700_000_000_000_000_000 + at * 1000, wrap(amsdu(subframes))))
        groups.append(len(group))
    path = tmp_path / f"{carrier}.pcap"
    path.write_bytes(pcap_bytes(frames, linktype=linktype))
    return path, groups


def tshark_payloads(path: Path) -> tuple[int, dict[tuple[str, int], bytes]]:
    """How many TCP packets tshark finds, and its TCP payload per (stream, source port) in
    frame and subframe order: every TCP layer of its packet details (PDML), since one frame
    holds several (``-T fields`` would print their values together, and follow's tap takes
    one direction for a whole frame)."""
    pdml = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-T", "pdml"], capture_output=True, text=True, check=True
    ).stdout
    layers = [p for p in ElementTree.fromstring(pdml).iter("proto") if p.get("name") == "tcp"]
    payloads: dict[tuple[str, int], bytes] = {}
    for layer in layers:
        fields = {f.get("name"): f for f in layer.iter("field")}
        key = (str(fields["tcp.stream"].get("show")), int(str(fields["tcp.srcport"].get("show"))))
        payload = fields.get("tcp.payload")
        data = bytes.fromhex(str(payload.get("value"))) if payload is not None else b""
        payloads[key] = payloads.get(key, b"") + data
    return len(layers), payloads


EXPECTED = {("0", 40000): REQUEST, ("0", 80): RESPONSE, ("1", 40001): REQUEST, ("1", 80): RESPONSE}


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_every_packet_of_an_aggregate_counts(tmp_path: Path, carrier: str) -> None:
    path, groups = aggregated(tmp_path, carrier)
    packets = sum(groups)
    assert max(groups) == 3
    if TSHARK:
        assert tshark_payloads(path) == (packets, EXPECTED)
    analysis = analyse(path)
    assert analysis.stats.tcp_packets == packets
    assert analysis.stats.non_tcp == 0 and not analysis.stats.skipped
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.tcp_packets == packets
        assert document.stats.non_tcp == 0 and not document.stats.skipped
        conversations = document.conversations()
        assert [str(s.client) for s in conversations] == ["10.0.0.1:40000", "10.0.0.3:40001"]
        assert [str(s.client) for s in analysis.sessions] == ["10.0.0.1:40000", "10.0.0.3:40001"]
        for session in (*analysis.sessions, *conversations):
            assert direction_bytes(session, "c2s") == REQUEST
            assert direction_bytes(session, "s2c") == RESPONSE
            assert session.state == "closed"
    assert _compare(path.read_bytes(), path.name) == packets


def test_a_subframe_longer_than_its_frame_holds_what_the_frame_has(tmp_path: Path) -> None:
    """Each frame's last subframe says 500 bytes more than the frame holds: tshark still
    decodes the packet in it (its IP length is inside the frame), and so does monoview."""
    path, groups = aggregated(tmp_path, "aruba-gre", lambda ip: subframe(ip, length=len(ip) + 500))
    if TSHARK:
        assert tshark_payloads(path) == (sum(groups), EXPECTED)
    analysis = analyse(path)
    with CaptureDocument(path, workers=1) as document:
        for stats in (analysis.stats, document.stats):
            assert stats.tcp_packets == sum(groups)
            assert not stats.skipped and not stats.cut
        for session in (*analysis.sessions, *document.conversations()):
            assert direction_bytes(session, "s2c") == RESPONSE
    _compare(path.read_bytes(), path.name)


def test_a_subframe_header_not_captured_is_malformed(tmp_path: Path) -> None:
    """The capture cut each frame inside its last subframe's header: that subframe is
    malformed (tshark: an exception); the others count, and a frame of one is skipped."""
    packets = [f.data[14:] for f in two_exchanges()]
    frames, groups = [], []
    for size in cycle(GROUPS):
        at = sum(groups)
        if at >= len(packets):
            break
        subframes = [subframe(ip) for ip in packets[at : at + size]]
        groups.append(len(subframes))
        dot11 = amsdu(subframes)
        last = len(dot11) - len(subframes[-1])  # where the last subframe starts
        frames.append(Frame(1_700_000_000_000_000_000 + at * 1000, dot11[: last + 10], origlen=len(dot11)))
    path = tmp_path / "cut.pcap"
    path.write_bytes(pcap_bytes(frames, linktype=105))
    kept = sum(groups) - len(groups)
    if TSHARK:
        assert tshark_payloads(path)[0] == kept
    analysis = analyse(path)
    with CaptureDocument(path, workers=1) as document:
        for stats in (analysis.stats, document.stats):
            assert stats.tcp_packets == kept
            assert stats.skipped == {"malformed or truncated header": groups.count(1)}
    _compare(path.read_bytes(), path.name)
