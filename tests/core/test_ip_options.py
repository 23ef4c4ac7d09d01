"""IPv4 options that tshark cannot read end the packet: its TCP segment is in no stream.

tshark 4.0 hands each option it knows to a dissector that reads fields without
checking the option's length first; one that reads past the option raises an
exception ("Malformed Packet") and nothing inside the packet is dissected
(``suricata_firewall-tcp-session-decode-malformed-ipv4``, frame 8: a Security option
of length 2).  A walk that only stops (a bad length, an unknown option) still lets the
segment count.  Every option tshark knows, at every length and with several
contents, random CIPSO tag lists and random mixes are held against tshark frame by
frame where it is installed; a few cases with what tshark does are checked without it.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.decode import Skip, decode
from monoview.core.capture.frames import read_records
from monoview.core.capture.layout import read_layout
from monoview.core.document import CaptureDocument
from monoview.core.packet import TcpPacket
from monoview.core.streambytes import direction_bytes
from tests.core.test_ip_layer import SERVER, capture
from tests.core.test_readers import REQUEST, RESPONSE
from tests.core.test_readers import conversation as conversation_of
from tests.core.test_scan import _compare
from tests.encapgen import checksum
from tests.pcapgen import SYN, Frame, ethernet, pcap_bytes, tcp_ip

TSHARK = shutil.which("tshark")
# Option types tshark 4.0 has a dissector for, two it has not (2, 200), and NOP/EOL.
KNOWN = (130, 131, 68, 133, 134, 7, 136, 137, 11, 12, 82, 148, 149, 25)
SECURITY, QUICK_START, CIPSO = 130, 25, 134


def conversation_frames() -> list[Frame]:
    return conversation_of().frames


def with_options(ip: bytes, options: bytes) -> bytes:
    """``ip`` (an IPv4 packet without options) with ``options`` as they are, padded with zeros."""
    options += b"\x00" * (-len(options) % 4)
    total = struct.unpack_from(">H", ip, 2)[0] + len(options)
    header = bytes([0x45 + len(options) // 4]) + ip[1:2] + struct.pack(">H", total) + ip[4:10] + b"\x00\x00"
    header += ip[12:20] + options
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:] + ip[20:]


def option_cases() -> list[bytes]:
    """Every known option at lengths 2 to 15 with ten fillings (Quick-Start functions 0, 8,
    3 and 15 among them), CIPSO options with random tag lists, and random option mixes."""
    rng = random.Random(11)
    cases = [
        bytes([kind, length]) + bytes([fill]) * (length - 2)
        for kind in (*KNOWN, 2, 200)
        for length in range(2, 16)
        for fill in (0x00, 0x04, 0x80, 0x30, 0xFF, 0x07, 0x02, 0x05, 0x01, 0x06)
    ]
    for _ in range(600):
        length = rng.randint(6, 40)
        body = bytearray(rng.getrandbits(8) for _ in range(length - 2))
        pos = 4  # after the domain of interpretation
        while pos < len(body):
            body[pos] = rng.choice((0, 1, 2, 5, 6, 7, 3, 9))
            if pos + 1 < len(body):
                body[pos + 1] = rng.randint(0, 12)
            pos += max(1, body[pos + 1] if pos + 1 < len(body) else 1)
        cases.append(bytes([CIPSO, length]) + bytes(body))
    for _ in range(600):
        options = b""
        while len(options) < 40:
            kind = rng.choice((*KNOWN, 2, 200, 0, 1, 1))
            if kind in (0, 1):
                options += bytes([kind])
                continue
            length = rng.randint(0, 14)
            options += bytes([kind, length]) + bytes(rng.getrandbits(8) for _ in range(max(0, length - 2)))
        cases.append(options[: rng.choice((4, 8, 12, 20, 40))])
    return cases


def syn_capture(path: Path, cases: list[bytes]) -> Path:
    """One SYN per case, each from its own port (1000 + its index), with the case's options."""
    frames = []
    for i, case in enumerate(cases):
        syn = tcp_ip(("10.0.0.1", 1000 + i), ("10.0.0.2", 80), 1, 0, SYN)
        frames.append(Frame(i * 1000, ethernet(with_options(syn, case))))
    path.write_bytes(pcap_bytes(frames))
    return path


def monoview_finds_tcp(path: Path) -> list[bool]:
    buf = path.read_bytes()
    return [
        isinstance(decode(buf, record), TcpPacket)
        for record in read_records(buf, read_layout(buf, path.name), path.name)
    ]


def tshark_finds_tcp(path: Path) -> list[bool]:
    out = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-T", "fields", "-e", "tcp.srcport"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [bool(line.strip()) for line in out.splitlines()]


@pytest.mark.skipif(TSHARK is None, reason="needs tshark")
def test_which_options_end_the_packet_is_what_tshark_says(tmp_path: Path) -> None:
    cases = option_cases()
    path = syn_capture(tmp_path / "options.pcap", cases)
    expected = tshark_finds_tcp(path)
    assert len(expected) == len(cases)
    assert expected.count(False) > 400  # the malformed cases are many, not a few
    found = monoview_finds_tcp(path)
    pairs = zip(cases, found, expected, strict=True)
    differing = [case.hex() for case, ours, theirs in pairs if ours != theirs]
    assert differing == []
    _compare(path.read_bytes(), path.name)


# (options, whether tshark reads the segment): from tshark 4.0.17's own reading.
FIXED = {
    "security-2": (bytes([SECURITY, 2]), False),
    "security-3": (bytes([SECURITY, 3, 0xAB]), True),
    "quick-start-request-7": (bytes([QUICK_START, 7, 0x01, 0, 0, 0, 0]), False),
    "quick-start-request-8": (bytes([QUICK_START, 8, 0x01, 0, 0, 0, 0, 0]), True),
    "quick-start-report-7": (bytes([QUICK_START, 7, 0x81, 0, 0, 0, 0]), False),
    "quick-start-function-3": (bytes([QUICK_START, 3, 0x31]), True),
    "timestamp-3": (bytes([68, 3, 5]), False),
    "traceroute-11": (bytes([82, 11]) + bytes(9), False),
    "cipso-tag-past-end": (bytes([CIPSO, 10, 0, 0, 0, 1, 1, 5, 0, 0]), False),
    "cipso-unknown-tag-last": (bytes([CIPSO, 7, 0, 0, 0, 1, 9]), False),
    "unknown-option-2": (bytes([2, 2]), True),
    "length-past-header": (bytes([SECURITY, 9, 0]), True),
    "after-end-of-options": (bytes([0, SECURITY, 2, 0]), True),
}


@pytest.mark.parametrize("case", sorted(FIXED))
def test_a_packet_tshark_cannot_read_gives_no_bytes(tmp_path: Path, case: str) -> None:
    """The client's packets carry the option; when tshark fails on it, its request is in no
    stream (nor is any client packet: the session is the server's side alone)."""
    options, readable = FIXED[case]
    path = capture(tmp_path, lambda _i, ip: with_options(ip, options) if ip[16:20] == SERVER else ip)
    if TSHARK:
        assert set(tshark_finds_tcp(path)) == ({True} if readable else {True, False})
    analysis = analyse(path)
    with CaptureDocument(path, workers=1) as document:
        assert len(analysis.sessions) == len(document.sessions) == 1
        (conversation,) = document.conversations()
        for session in (analysis.sessions[0], conversation):
            assert direction_bytes(session, "s2c") == RESPONSE
            assert direction_bytes(session, "c2s") == (REQUEST if readable else b"")
    client_packets = sum(frame.data[30:34] == SERVER for frame in conversation_frames())
    assert analysis.stats.skipped.get(Skip.MALFORMED.value, 0) == (0 if readable else client_packets)
    _compare(path.read_bytes(), path.name)
