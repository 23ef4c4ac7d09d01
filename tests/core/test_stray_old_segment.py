"""A segment from far before a mid-stream direction's first byte is not its start.

When no SYN fixes where a direction starts, bytes that arrive later for the
hole before its first captured byte fill that hole (a retransmission of what
was sent before the capture began).  Such a retransmission lies within one
receive window of the captured bytes, and no window exceeds 2**30 bytes
(RFC 7323, window scale 14).  suricata-verify's bug-76 capture (fuzzed) has a
segment whose sequence number is 1.3 GB before the server's first captured
byte: it was taken for the stream's start, with a 1.3 GB gap after it; tshark
calls it a spurious retransmission and leaves it out, as monoview now does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import ACK, PSH, ipv4_tcp_frame, raw_pcap

CLIENT = (0x0A000001, 40000)
SERVER = (0x0A000002, 80)
SERVER_SEQ = 3_061_082_973
CLIENT_SEQ = 3_273_052_421


def _capture(tmp_path: Path, stray_offset: int) -> Path:
    """Mid-stream: the server sends four 100-byte segments; after the second, a stray copy of
    100 bytes at ``stray_offset`` from the first captured byte."""
    chunks = [bytes([65 + i]) * 100 for i in range(4)]

    def frames() -> Iterator[bytes]:
        for i, chunk in enumerate(chunks):
            yield ipv4_tcp_frame(*SERVER, *CLIENT, SERVER_SEQ + 100 * i, CLIENT_SEQ, PSH | ACK, chunk)
            yield ipv4_tcp_frame(*CLIENT, *SERVER, CLIENT_SEQ, SERVER_SEQ + 100 * (i + 1), ACK, b"")
            if i == 1:
                stray = SERVER_SEQ + stray_offset
                yield ipv4_tcp_frame(*SERVER, *CLIENT, stray, CLIENT_SEQ, PSH | ACK, b"z" * 100)

    return raw_pcap(tmp_path / "stray.pcap", frames())


def test_a_segment_beyond_any_window_before_the_start_is_a_stray_copy(tmp_path: Path) -> None:
    analysis = analyse(_capture(tmp_path, -1_308_618_675))
    (session,) = analysis.sessions
    server = session.stream("s2c")
    assert direction_bytes(session, "s2c") == b"A" * 100 + b"B" * 100 + b"C" * 100 + b"D" * 100
    assert server.gaps == []
    assert server.origin() == 0


def test_a_retransmission_just_before_the_start_still_fills_the_hole(tmp_path: Path) -> None:
    analysis = analyse(_capture(tmp_path, -100))
    (session,) = analysis.sessions
    assert direction_bytes(session, "s2c") == b"z" * 100 + b"A" * 100 + b"B" * 100 + b"C" * 100 + b"D" * 100
    assert session.stream("s2c").gaps == []
