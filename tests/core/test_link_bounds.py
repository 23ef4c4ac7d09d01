"""Every enclosing layer's stated length bounds the IP packet it carries.

A PPPoE payload length, an 802.3 length field and FabricPath's trailing FCS
each say where what they carry ends.  When the IP header claims more (a bogus
total length, Ethernet padding to the 60-byte minimum after a short PPPoE
payload, as in Zeek's pppoe-over-qinq trace), the bytes past that end are not
the packet's: tshark ends the IP packet there ("IPv4 total length exceeds
packet length"), and so must both of our decoders, the per-frame one and the
vectorised scanner, or the padding becomes TCP payload.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.capture import scan as scan_module
from monoview.core.capture.decode import Decoded
from monoview.core.capture.records import Buffer, Record
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnels import V6, tshark_payloads
from tests.encapgen import (
    MACS,
    PADDING,
    QINQ,
    claiming,
    fabricpath,
    llc_snap,
    ppp_protocol_of,
    pppoe,
    pppoe_padded,
)
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")


def _llc_claiming(ip: bytes) -> bytes:
    """802.3 LLC/SNAP whose IP packet claims 20 bytes more than the 802.3 length, padded."""
    return llc_snap(claiming(ip, len(PADDING))) + PADDING


def _fabricpath_claiming(ip: bytes) -> bytes:
    """FabricPath whose inner IP packet claims the 4 bytes of the FabricPath FCS too."""
    return fabricpath(claiming(ip, 4))


CLAIMING: dict[str, Callable[[bytes], bytes]] = {
    "pppoe-qinq": pppoe_padded,
    "pppoe-untagged": lambda ip: pppoe(claiming(ip, len(PADDING)), ppp_protocol_of(ip)) + PADDING,
    "llc-snap": _llc_claiming,
    "fabricpath": _fabricpath_claiming,
}


def _capture(tmp_path: Path, wrap: Callable[[bytes], bytes], v6: bool) -> tuple[Path, int]:
    conv = conversation(**(V6 if v6 else {}))
    path = tmp_path / "bounded.pcap"
    path.write_bytes(pcap_bytes([Frame(f.ts_ns, wrap(f.data[14:])) for f in conv.frames]))
    return path, len(conv.frames)


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("case", sorted(CLAIMING))
def test_padding_past_an_enclosing_length_is_not_tcp_payload(tmp_path: Path, case: str, v6: bool) -> None:
    path, frames = _capture(tmp_path, CLAIMING[case], v6)
    conv = conversation(**(V6 if v6 else {}))
    if TSHARK:
        assert tshark_payloads(path) == {("0", conv.client[1]): REQUEST, ("0", conv.server[1]): RESPONSE}
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    # Each packet held less than its IP header claims: counted and reported, as tshark flags it.
    assert analysis.stats.cut == frames
    with CaptureDocument(path, workers=1) as document:
        (conversation_,) = document.conversations()
        assert direction_bytes(conversation_, "c2s") == REQUEST
        assert direction_bytes(conversation_, "s2c") == RESPONSE
        assert document.stats.cut == frames
    assert _compare(path.read_bytes(), path.name) == frames


def test_a_pppoe_length_past_the_frame_takes_what_the_frame_holds(tmp_path: Path) -> None:
    """A PPPoE length longer than the frame bounds nothing: the frame's own end does."""

    def wrap(ip: bytes) -> bytes:
        frame = pppoe(ip, ppp_protocol_of(ip), QINQ)
        at = len(MACS) + 4 * len(QINQ) + 2 + 4  # the PPPoE length field
        return frame[:at] + struct.pack(">H", len(ip) + 200) + frame[at + 2 :]

    path, frames = _capture(tmp_path, wrap, False)
    (session,) = analyse(path).sessions
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    assert _compare(path.read_bytes(), path.name) == frames


Decoder = Callable[[Buffer, Record], Decoded]


@pytest.mark.parametrize("tags", [(), QINQ[:1], QINQ], ids=["untagged", "tagged", "qinq"])
def test_pppoe_sessions_are_decoded_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags: tuple[tuple[int, int], ...]
) -> None:
    """PPPoE carrying IPv4 or IPv6 directly is the scanner's own work (not one frame at a time
    through ``decode_any``), padded or not, with the per-frame decoder's answers."""
    plain, six = conversation().frames, conversation(**V6).frames  # type: ignore[arg-type]
    frames = [
        Frame(f.ts_ns, pppoe(f.data[14:], ppp_protocol_of(f.data[14:]), tags) + b"\x00" * pad)
        for f, pad in zip([*plain, *six], [0, 6] * len(plain + six), strict=False)
    ]
    path = tmp_path / "pppoe.pcap"
    path.write_bytes(pcap_bytes(frames))
    decoded: list[int] = []
    real: Decoder = scan_module.decode_any

    def counting(buf: Buffer, record: Record) -> Decoded:
        decoded.append(record.frame)
        return real(buf, record)

    monkeypatch.setattr(scan_module, "decode_any", counting)
    with CaptureDocument(path, workers=1, executor=InlineExecutor()) as document:
        assert len(document.sessions) == 2
        assert document.stats.tcp_packets == len(frames)
        assert document.stats.cut == 0
    assert decoded == []
    assert _compare(path.read_bytes(), path.name) == len(frames)
