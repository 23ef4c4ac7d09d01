"""TCP segments whose IP datagrams were fragmented are reassembled, as tshark does."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import dpkt

from monoview.core.analyse import analyse
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import Conversation, Frame, ethernet, pcap_bytes

PAYLOAD = bytes(random.Random(3).randrange(256) for _ in range(5000))


def fragment_ipv4(ip_packet: bytes, size: int, ident: int = 4242) -> list[bytes]:
    """Cut an IPv4 packet's payload into fragments of ``size`` bytes (a multiple of 8)."""
    ip = dpkt.ip.IP(ip_packet)
    data = bytes(ip.data)
    out = []
    for offset in range(0, len(data), size):
        part = data[offset : offset + size]
        more = offset + size < len(data)
        frag = dpkt.ip.IP(src=ip.src, dst=ip.dst, p=ip.p, ttl=64, id=ident, data=part)
        frag.offset = offset // 8  # dpkt keeps the raw field, in units of 8 bytes
        frag.mf = int(more)
        frag.len = 20 + len(part)
        out.append(bytes(frag))
    return out


def fragment_ipv6(ip_packet: bytes, size: int) -> list[bytes]:
    """Cut an IPv6 packet's payload into fragments with a Fragment header."""
    header, data = ip_packet[:40], ip_packet[40:]
    out = []
    for offset in range(0, len(data), size):
        part = data[offset : offset + size]
        more = offset + size < len(data)
        frag_header = struct.pack(">BBHI", 6, 0, offset | int(more), 77)
        plen = len(frag_header) + len(part)
        out.append(header[:4] + struct.pack(">HB", plen, 44) + header[7:] + frag_header + part)
    return out


def fragmented_capture(tmp: Path, v6: bool, shuffle: bool) -> tuple[Path, int]:
    conv = Conversation(client=("fd00::1", 40000), server=("fd00::2", 80)) if v6 else Conversation()
    conv.handshake()
    big = conv.segment(True, 0, PAYLOAD)
    conv.frames.pop()  # replace the one big frame by its fragments
    ip_packet = big.data[14:]
    pieces = (fragment_ipv6 if v6 else fragment_ipv4)(ip_packet, 1448)
    if shuffle:
        random.Random(1).shuffle(pieces)
        pieces.insert(2, pieces[0])  # and one fragment twice
    for i, piece in enumerate(pieces):
        conv.frames.append(Frame(big.ts_ns + i, ethernet(piece)))
    conv.c_next += len(PAYLOAD)
    conv.ack(False)
    conv.close()
    path = tmp / "frag.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    return path, len(pieces)


def test_ipv4_fragments_in_order(tmp_path: Path) -> None:
    path, count = fragmented_capture(tmp_path, v6=False, shuffle=False)
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == PAYLOAD
    assert session.gaps("c2s") == []
    # The fragments make one TCP packet, at the frame of the last fragment (as tshark counts).
    assert session.packets == 3 + 1 + 1 + 3
    assert analysis.stats.skipped["IP fragment"] == count - 1
    (monologue,) = session.monologues
    assert monologue.frames == [3 + count]


def test_ipv4_fragments_shuffled_and_duplicated(tmp_path: Path) -> None:
    path, _count = fragmented_capture(tmp_path, v6=False, shuffle=True)
    (session,) = analyse(path).sessions
    assert direction_bytes(session, "c2s") == PAYLOAD


def test_ipv6_fragments(tmp_path: Path) -> None:
    path, _count = fragmented_capture(tmp_path, v6=True, shuffle=True)
    (session,) = analyse(path).sessions
    assert direction_bytes(session, "c2s") == PAYLOAD
    assert str(session.client) == "[fd00::1]:40000"


def send_fragmented(conv: Conversation, lose: int | None = None, delay_ns: int = 0) -> int:
    """Send PAYLOAD from the client as IPv4 fragments (losing fragment ``lose``); return how many."""
    whole = conv.segment(True, 0, PAYLOAD)
    conv.frames.pop()
    pieces = fragment_ipv4(whole.data[14:], 1448)
    if lose is not None:
        del pieces[lose]
    conv.frames.extend(Frame(whole.ts_ns + delay_ns + i, ethernet(p)) for i, p in enumerate(pieces))
    return len(pieces)


def test_missing_fragment_is_reported(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake()
    count = send_fragmented(conv, lose=1)
    path = tmp_path / "lost.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    analysis = analyse(path)
    assert analysis.stats.incomplete_fragments == count
    warning = (
        f"{count} IP fragments of TCP packets (or of tunnels that may carry them) never completed a datagram"
    )
    assert warning in analysis.stats.warnings()
    assert direction_bytes(analysis.sessions[0], "c2s") == b""


def test_stale_fragments_are_not_spliced_into_a_later_datagram(tmp_path: Path) -> None:
    """A datagram that lost a fragment, then a new one a minute later with the same IP id."""
    conv = Conversation()
    conv.handshake()
    stale = send_fragmented(conv, lose=0)  # never completes
    send_fragmented(conv, delay_ns=60_000_000_000)
    path = tmp_path / "stale.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    analysis = analyse(path)
    assert direction_bytes(analysis.sessions[0], "c2s") == PAYLOAD
    assert analysis.stats.incomplete_fragments == stale
