"""Link types of the widened corpus: FDDI, IP over InfiniBand, ARCNET, Juniper Ethernet.

Each case wraps one HTTP exchange's IP packets in the link type's header, laid
out as libpcap writes it (the corpus's captures of each: ``zeek_llc``,
``tcpdump_ipoib``, ``tcpdump_arcnet-*``, ``tcpdump_bgp-aigp``); tshark must
decode the frames down to the TCP stream and its payload, so the frames are
known to be right, and monoview (per packet, the document, the vectorised
scanner) must find the one session with its bytes.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnels import V6, tshark_payloads
from tests.encapgen import MACS, ethertype_of
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")


def _fddi(ip: bytes) -> bytes:
    return b"\x50" + MACS + b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", ethertype_of(ip)) + ip


def _ipoib(ip: bytes) -> bytes:
    # As in tcpdump's capture: 16 bytes, a queue pair number and a 16-byte address (40 in all).
    address = bytes(16) + bytes.fromhex("2fa3000a80000550fe800000000000000010e000664ab451")
    return address + struct.pack(">HH", ethertype_of(ip), 0) + ip


def _arcnet_1201(ip: bytes) -> bytes:
    protocol = 0xC4 if ip[0] >> 4 == 6 else 0xD4
    return b"\xbe\x50\xa8\xe7" + bytes([protocol, 0]) + b"\x01\x66" + ip


def _juniper(ip: bytes, extensions: bool = True) -> bytes:
    frame = MACS + struct.pack(">H", ethertype_of(ip)) + ip
    if not extensions:
        return b"MGC\x01" + frame
    tlvs = b"\x03\x01\x01\x06\x01\x0e\x01\x02"  # two extension TLVs, as in tcpdump's capture
    return b"MGC\x80" + struct.pack(">H", len(tlvs)) + tlvs + frame


# name -> (link type, wrap, with IPv6 too)
CASES: dict[str, tuple[int, Callable[[bytes], bytes], bool]] = {
    "fddi": (10, _fddi, True),
    "ipoib": (242, _ipoib, True),
    "arcnet-linux-rfc1051": (129, lambda ip: b"\xbe\x50\xab\x08\xf0" + ip, False),
    "arcnet-linux-rfc1201": (129, _arcnet_1201, True),
    "arcnet-bsd-rfc1201": (7, lambda ip: _arcnet_1201(ip)[:2] + _arcnet_1201(ip)[4:], False),
    "juniper-ether": (178, _juniper, True),
    "juniper-ether-plain": (178, lambda ip: _juniper(ip, extensions=False), False),
}
PARAMS = [(name, False) for name in CASES] + [(name, True) for name, case in CASES.items() if case[2]]


@pytest.mark.parametrize(("case", "v6"), PARAMS, ids=[f"{n}{'-v6' if v else ''}" for n, v in PARAMS])
def test_the_session_is_found_as_tshark_finds_it(tmp_path: Path, case: str, v6: bool) -> None:
    linktype, wrap, _ = CASES[case]
    conv = conversation(**(V6 if v6 else {}))
    path = tmp_path / f"{case}.pcap"
    path.write_bytes(pcap_bytes([Frame(f.ts_ns, wrap(f.data[14:])) for f in conv.frames], linktype=linktype))
    if TSHARK:
        assert sorted(tshark_payloads(path).values(), key=len) == [REQUEST, RESPONSE]
    (session,) = analyse(path).sessions
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    with CaptureDocument(path, workers=1) as document:
        (replayed,) = document.conversations()
        assert direction_bytes(replayed, "s2c") == RESPONSE
    _compare(path.read_bytes(), path.name)
