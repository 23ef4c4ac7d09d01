"""IP-layer rules: which address names a source-routed packet, and IP lengths that lie.

Each capture is one HTTP exchange with one thing changed in its IP headers;
where tshark is installed its reading of the same frames is the reference.
Both the per-packet analysis and the document must give the same sessions,
and the vectorised scanner must agree with the per-frame decoder.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, conversation
from tests.core.test_scan import _compare
from tests.encapgen import checksum
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")
CLIENT, SERVER, ROUTER = (socket.inet_aton(a) for a in ("10.0.0.1", "10.0.0.2", "10.0.0.254"))
LSRR, SSRR = 0x83, 0x89
GET_FRAME = 4  # the frame (1-based, as tshark numbers them) carrying the client's request


def with_route(ip: bytes, header_dst: bytes, route: list[bytes], pointer: int, kind: int) -> bytes:
    """``ip`` with a source-route option (padded with end-of-options) and ``header_dst``."""
    option = bytes([kind, 3 + 4 * len(route), pointer]) + b"".join(route)
    option += b"\x00" * (-len(option) % 4)
    total = struct.unpack_from(">H", ip, 2)[0] + len(option)
    header = bytes([0x45 + len(option) // 4]) + ip[1:2] + struct.pack(">H", total) + ip[4:10] + b"\x00\x00"
    header += ip[12:16] + header_dst + option
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:] + ip[20:]


def capture(tmp_path: Path, change: Callable[[int, bytes], bytes]) -> Path:
    """The exchange with each frame's IP packet (frames numbered from 1) passed through ``change``."""
    frames = [
        Frame(f.ts_ns, f.data[:14] + change(i, f.data[14:])) for i, f in enumerate(conversation().frames, 1)
    ]
    path = tmp_path / "ip.pcap"
    path.write_bytes(pcap_bytes(frames))
    return path


def tshark_streams(path: Path) -> set[tuple[str, str]]:
    """(tcp.stream, destination) of every frame, as tshark reads them: its Destination column,
    which has the address even when tshark leaves ``ip.dst`` out (a malformed source route)."""
    out = subprocess.run(
        [
            TSHARK or "tshark",
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "_ws.col.Destination",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {tuple(line.split("\t")) for line in out.splitlines()}  # type: ignore[misc]


def tshark_expert(path: Path, frame: int) -> str:
    """tshark's expert messages on one frame."""
    return subprocess.run(
        [
            TSHARK or "tshark",
            "-r",
            str(path),
            "-Y",
            f"frame.number == {frame}",
            "-T",
            "fields",
            "-e",
            "_ws.expert",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def tshark_payload(path: Path, sport: int) -> bytes:
    """The TCP payload tshark reads from ``sport``, frame after frame."""
    out = subprocess.run(
        [
            TSHARK or "tshark",
            "-r",
            str(path),
            "-Y",
            f"tcp.srcport == {sport}",
            "-T",
            "fields",
            "-e",
            "tcp.payload",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return b"".join(bytes.fromhex(line.replace(":", "")) for line in out.splitlines())


def with_option(ip: bytes, header_dst: bytes, option: bytes) -> bytes:
    """``ip`` with ``option`` as it is (however malformed), to the client's packets only."""
    if ip[16:20] != SERVER:
        return ip
    option += b"\x00" * (-len(option) % 4)
    total = struct.unpack_from(">H", ip, 2)[0] + len(option)
    header = bytes([0x45 + len(option) // 4]) + ip[1:2] + struct.pack(">H", total) + ip[4:10] + b"\x00\x00"
    header += ip[12:16] + header_dst + option
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:] + ip[20:]


ROUTES: dict[str, Callable[[bytes], bytes]] = {
    # Seen before the first hop: the header names the router, the route's last address the server.
    "loose-on-the-way": lambda ip: with_route(ip, ROUTER, [SERVER], 4, LSRR) if ip[16:20] == SERVER else ip,
    "strict-on-the-way": lambda ip: with_route(ip, ROUTER, [SERVER], 4, SSRR) if ip[16:20] == SERVER else ip,
    # Both directions source-routed through the router.
    "loose-both-ways": lambda ip: with_route(ip, ROUTER, [ip[16:20]], 4, LSRR),
    # Seen after the last hop: the route is used up, the header names the server.
    "loose-arrived": lambda ip: with_route(ip, SERVER, [ROUTER], 8, LSRR) if ip[16:20] == SERVER else ip,
    # Malformed routes.  A pointer before the first address, or not at a whole one: the header's
    # destination (the router), so the client's packets are a session of their own.
    "pointer-0": lambda ip: with_option(ip, ROUTER, bytes([LSRR, 7, 0]) + SERVER),
    "pointer-5": lambda ip: with_option(ip, ROUTER, bytes([LSRR, 7, 5]) + SERVER),
    # A length that is not a whole number of addresses: the option's last 4 bytes, 0.0.2.1.
    "length-8": lambda ip: with_option(ip, ROUTER, bytes([LSRR, 8, 4]) + SERVER + b"\x01"),
}
# Where the client's packets go, when not to the server (the exchange is then two sessions).
ROUTED_ELSEWHERE = {"pointer-0": "10.0.0.254", "pointer-5": "10.0.0.254", "length-8": "0.0.2.1"}


def _hosts(*endpoints: object) -> frozenset[str]:
    return frozenset(str(endpoint).rsplit(":", 1)[0] for endpoint in endpoints)


@pytest.mark.parametrize("case", sorted(ROUTES))
def test_source_routed_packets_are_named_by_where_the_route_leads(tmp_path: Path, case: str) -> None:
    """As tshark: the destination is the route's last address while the route is not used up
    (the header's is the next hop, tshark's "via"), so the exchange is one session; a
    malformed route is read by tshark's rules."""
    path = capture(tmp_path, lambda _i, ip: ROUTES[case](ip))
    elsewhere = ROUTED_ELSEWHERE.get(case)
    if elsewhere is not None:
        if TSHARK:
            assert tshark_streams(path) == {("0", elsewhere), ("1", "10.0.0.1")}
        # The client's packets to where the route leads, the server's replies: two sessions.
        expected = {frozenset({"10.0.0.1", elsewhere}), frozenset({"10.0.0.2", "10.0.0.1"})}
        assert {_hosts(s.client, s.server) for s in analyse(path).sessions} == expected
        with CaptureDocument(path, workers=1) as document:
            assert {_hosts(s.client, s.server) for s in document.sessions} == expected
        _compare(path.read_bytes(), path.name)
        return
    if TSHARK:
        assert tshark_streams(path) == {("0", "10.0.0.2"), ("0", "10.0.0.1")}
    (session,) = analyse(path).sessions
    assert (str(session.client), str(session.server)) == ("10.0.0.1:40000", "10.0.0.2:80")
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    with CaptureDocument(path, workers=1) as document:
        (info,) = document.sessions
        assert str(info.server) == "10.0.0.2:80"
        (conversation_,) = document.conversations()
        assert direction_bytes(conversation_, "c2s") == REQUEST
    _compare(path.read_bytes(), path.name)


def set_total(ip: bytes, total: int) -> bytes:
    return ip[:2] + struct.pack(">H", total) + ip[4:]


def total_of(ip: bytes) -> int:
    return int(struct.unpack_from(">H", ip, 2)[0])


BAD_LENGTHS: dict[str, Callable[[bytes], bytes]] = {
    "total-below-the-header": lambda ip: set_total(ip, 12),
    "header-beyond-the-total": lambda ip: bytes([0x4F]) + set_total(ip, 40)[1:],
}


@pytest.mark.parametrize("case", sorted(BAD_LENGTHS))
def test_ip_length_shorter_than_its_header_is_dropped_and_reported(tmp_path: Path, case: str) -> None:
    """tshark's "Bogus IP length": it decodes no TCP there either.  The frame is dropped,
    counted, and named in a warning."""
    path = capture(tmp_path, lambda i, ip: BAD_LENGTHS[case](ip) if i == GET_FRAME else ip)
    if TSHARK:
        assert "Bogus IP length" in tshark_expert(path, GET_FRAME)
        assert tshark_payload(path, 40000) == b""
    warning = "1 frames whose IP length is shorter than the IP header were dropped"
    warning += f" (the first is frame {GET_FRAME})"
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == b""  # the request's only copy was dropped
    assert direction_bytes(session, "s2c") == RESPONSE
    assert analysis.stats.skipped == {"IP length shorter than its header": 1}
    assert analysis.stats.warnings() == [warning]
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.warnings() == [warning]
        (conversation_,) = document.conversations()
        assert direction_bytes(conversation_, "c2s") == b""
    _compare(path.read_bytes(), path.name)


CUT_LENGTHS: dict[str, tuple[Callable[[bytes], bytes], bytes]] = {
    # The header claims 10 bytes more than the segment has: the frame's bytes are the segment.
    "total-beyond-the-frame": (lambda ip: set_total(ip, total_of(ip) + 10), REQUEST),
    # The frame lost its last 10 bytes, and its wire length says so too (not snaplen).
    "frame-cut-short": (lambda ip: ip[:-10], REQUEST[:-10]),
}


@pytest.mark.parametrize("case", sorted(CUT_LENGTHS))
def test_ip_length_beyond_the_frame_is_read_as_tshark_does_and_reported(tmp_path: Path, case: str) -> None:
    """tshark flags "IPv4 total length exceeds packet length" and still decodes the segment
    with the bytes the frame holds (shared/captures/wild/suricata_telnet.pcap has five such
    frames, which its oracle counts).  So does monoview, and it says so: counted, with the
    first frame named."""
    change, request = CUT_LENGTHS[case]
    path = capture(tmp_path, lambda i, ip: change(ip) if i == GET_FRAME else ip)
    if TSHARK:
        assert "exceeds packet length" in tshark_expert(path, GET_FRAME)
        assert tshark_payload(path, 40000) == request
    warning = (
        "1 packets held less than their IP length says; their TCP payload is what the frame holds,"
        f" as tshark reads it (the first is frame {GET_FRAME})"
    )
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == request
    assert direction_bytes(session, "s2c") == RESPONSE
    assert (analysis.stats.skipped, analysis.stats.cut) == ({}, 1)
    assert analysis.stats.warnings() == [warning]
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.warnings() == [warning]
        (conversation_,) = document.conversations()
        assert direction_bytes(conversation_, "c2s") == request
    _compare(path.read_bytes(), path.name)


def test_bad_ip_length_warning_names_the_file_on_the_command_line(tmp_path: Path) -> None:
    path = capture(
        tmp_path, lambda i, ip: BAD_LENGTHS["total-below-the-header"](ip) if i == GET_FRAME else ip
    )
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "monoview: warning: ip.pcap: 1 frames whose IP length is shorter than the IP header were dropped"
        f" (the first is frame {GET_FRAME})"
    ]


NORMAL_LENGTHS: dict[str, Callable[[bytes], bytes]] = {
    # Ethernet pads short frames: the frame is longer than the IP packet.
    "ethernet-padding": lambda ip: ip + b"\x00" * 18,
    # TSO and BIG TCP leave the total length zero: the frame's length is the packet's.
    "zero-total": lambda ip: set_total(ip, 0),
}


@pytest.mark.parametrize("case", sorted(NORMAL_LENGTHS))
def test_ordinary_length_differences_are_not_bad(tmp_path: Path, case: str) -> None:
    path = capture(tmp_path, lambda _i, ip: NORMAL_LENGTHS[case](ip))
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    assert analysis.stats.skipped == {}
    _compare(path.read_bytes(), path.name)


def test_snaplen_cut_frame_is_a_gap_not_a_bad_length(tmp_path: Path) -> None:
    """Captured shorter than it was on the wire (snaplen): the IP length is right, the missing
    bytes are a gap of the session, and nothing is dropped."""
    frames = conversation().frames
    cut = frames[GET_FRAME - 1]
    frames[GET_FRAME - 1] = Frame(cut.ts_ns, cut.data[:-10], origlen=len(cut.data))
    path = tmp_path / "snap.pcap"
    path.write_bytes(pcap_bytes(frames))
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == REQUEST[:-10]
    assert analysis.stats.skipped == {}
    assert analysis.stats.warnings() == []
    _compare(path.read_bytes(), path.name)
