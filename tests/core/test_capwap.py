"""CAPWAP's data channel: an access point's clients' 802.11 frames, as tshark reads them.

A CAPWAP access point (RFC 5415/5416) sends its clients' frames to the controller in
UDP to port 5247, each a native 802.11 frame with LLC/SNAP (or an Ethernet frame).
tshark decodes the TCP inside; monoview took the datagrams for plain UDP and lost the
sessions.  The cases of ``tests/encapgen.py`` (802.11, with a radio MAC address,
Ethernet) run through ``test_tunnels`` and ``test_outer_path`` against tshark; here:
tshark reads the 802.11 frame control byte-swapped (its default "Swap Frame Control",
as Cisco's access points send it), so a frame sent in the standard order is no data
frame to it, nor to monoview; and ``tests/data/capwap-802.11.pcap`` is the 802.11 case
with its oracle (``test_corpus_differences`` holds it to it).

An access point also cuts a frame too big for the path into CAPWAP fragments (F, a
fragment ID, an offset in 8-byte units, L on the last), each with the whole header:
tshark reassembles them and decodes the frame; so does monoview, with the IP fragments'
reassembler (``tests/data/capwap-fragments.pcap``: 24-byte pieces, last first).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from tests.conftest import DATA
from tests.core.test_fragments import fragment_ipv4
from tests.core.test_readers import conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnel_fragments import assert_the_whole_conversation
from tests.core.test_tunnels import TSHARK, tshark_payloads
from tests.encapgen import IPV4, capwap, capwap_802_11, ether, ethertype_of, inner_ether, over_udp
from tests.pcapgen import Frame, pcap_bytes


def capwap_capture(wrap: Callable[[bytes], bytes] = capwap_802_11) -> bytes:
    """The HTTP exchange of ``test_readers`` through ``wrap`` (CAPWAP 802.11 by default)."""
    return pcap_bytes([Frame(f.ts_ns, wrap(f.data[14:])) for f in conversation().frames])


def _unswapped(ip: bytes) -> bytes:
    """An 802.11 QoS data frame in CAPWAP with its frame control in the standard order."""
    dot11 = b"\x88\x01\x00\x00" + b"\x02" * 6 + b"\x04" * 6 + b"\x06" * 6 + b"\x10\x00" + b"\x00\x00"
    return capwap(dot11 + b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", ethertype_of(ip)) + ip)


def test_a_frame_control_in_the_standard_order_is_no_data_frame(tmp_path: Path) -> None:
    path = tmp_path / "capwap-unswapped.pcap"
    path.write_bytes(capwap_capture(_unswapped))
    if TSHARK:
        assert tshark_payloads(path) == {}
    assert analyse(path).stats.tcp_packets == 0
    with CaptureDocument(path, workers=1) as document:
        assert document.sessions == []
    _compare(path.read_bytes(), path.name)


def _dot11(ip: bytes) -> bytes:
    """``capwap_802_11``'s 802.11 frame (its frame control swapped), without the CAPWAP header."""
    return capwap_802_11(ip)[14 + 20 + 8 + 8 :]


def capwap_fragments(native: bool = True, last_first: bool = True, size: int = 24, ip_size: int = 0) -> bytes:
    """The exchange's frames (802.11 if ``native``, else Ethernet) each in CAPWAP fragments of
    ``size`` bytes, each with the whole header (T and the binding in every one); each of
    those in IPv4 fragments of ``ip_size`` bytes if given."""
    frames = []
    for n, f in enumerate(conversation().frames):
        carried = _dot11(f.data[14:]) if native else inner_ether(f.data[14:])
        pieces = []
        for at in range(0, len(carried), size):
            last = at + size >= len(carried)
            word = 2 << 19 | 1 << 14 | (1 << 9 | 1 << 8 if native else 0) | 0x80 | (0x40 if last else 0)
            header = struct.pack(">BBHHH", 0, word >> 16, word & 0xFFFF, 500 + n, at // 8 << 3)
            pieces.append(over_udp(5247, header + carried[at : at + size], sport=12222))
        for piece in pieces[::-1] if last_first else pieces:
            if ip_size:
                cut = fragment_ipv4(piece[14:], ip_size, len(frames))
                frames += [Frame(f.ts_ns, ether(IPV4, p)) for p in cut]
            else:
                frames.append(Frame(f.ts_ns, piece))
    return pcap_bytes(frames)


@pytest.mark.parametrize(
    ("native", "last_first", "ip_size"),
    [(True, False, 0), (True, True, 0), (False, True, 0), (True, False, 16)],
)
def test_capwap_fragments_are_reassembled(
    tmp_path: Path, native: bool, last_first: bool, ip_size: int
) -> None:
    """Before, the pieces were plain UDP: no packet of the session was found.  Last: each
    piece in 16-byte IPv4 fragments too (found inside the reassembled IP datagram)."""
    path = tmp_path / "capwap-fragments.pcap"
    path.write_bytes(capwap_fragments(native, last_first, ip_size=ip_size))
    assert_the_whole_conversation(path)
    _compare(path.read_bytes(), path.name)  # the scanner's rows (fragments aside) agree


STORED: dict[str, Callable[[], bytes]] = {
    "capwap-802.11.pcap": capwap_capture,
    "capwap-fragments.pcap": capwap_fragments,
}


@pytest.mark.parametrize(("name", "make"), sorted(STORED.items()))
def test_the_stored_capture_is_the_generated_one(name: str, make: Callable[[], bytes]) -> None:
    """tests/data's copies (beside their tshark oracles) are what this module makes."""
    assert (DATA / name).read_bytes() == make()
