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
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from tests.conftest import DATA
from tests.core.test_readers import conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnels import TSHARK, tshark_payloads
from tests.encapgen import capwap, capwap_802_11, ethertype_of
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


def test_the_stored_capture_is_the_generated_one() -> None:
    """tests/data's copy (beside its tshark oracle) is what this module makes."""
    assert (DATA / "capwap-802.11.pcap").read_bytes() == capwap_capture()
