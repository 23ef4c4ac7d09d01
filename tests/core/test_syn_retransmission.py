"""A SYN (and a SYN/ACK) sent again with the same ISN is the same handshake; a new ISN is a new session.

Issue 11's first class: when the first SYN goes unanswered and the client sends
it again a second later (same ISN, a new TCP timestamp), and the server's
SYN/ACK is itself repeated (its ACK was lost), the connection must stay one
session, whatever the options and timestamps of the copies.  Only a SYN with a
different ISN starts another session (the unanswered one is left as a lone SYN).
tshark 4.0.17 on these two captures: the same ISN gives one stream (frames 2 and 4
"suspected retransmission"); a new ISN gives stream 0 (the first SYN alone) and
stream 1 ("A new tcp session is started with the same ports").  Both session paths
(the per-packet analysis and the capture document, whatever its workers and
ranges) must agree.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import ACK, SYN, Conversation, tcp_ip, write_pcap

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\n\r\n" + b"r" * 3000
MSS = b"\x02\x04\x05\xb4"


def _timestamps(value: int, echo: int = 0) -> bytes:
    return b"\x01\x01\x08\x0a" + struct.pack(">II", value, echo)


def _conversation(first_isn_offset: int) -> Conversation:
    """An unanswered SYN, the SYN again a second later with a new timestamp, a repeated SYN/ACK, data."""
    c = Conversation()
    first_isn = c.client_isn + first_isn_offset
    c._frame(tcp_ip(c.client, c.server, first_isn, 0, SYN, options=MSS + _timestamps(100)))
    c._t += 1_000_000_000
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN, options=MSS + _timestamps(1100)))
    for server_time in (5, 905):  # the SYN/ACK, and again with a new timestamp
        options = _timestamps(server_time, 1100)
        c._frame(tcp_ip(c.server, c.client, c.server_isn, c.client_isn + 1, SYN | ACK, options=options))
    c._frame(tcp_ip(c.client, c.server, c.client_isn + 1, c.server_isn + 1, ACK))
    return c.send(True, REQUEST).send(False, RESPONSE).close()


@pytest.fixture(params=[0, 7777], ids=["same-isn", "new-isn"])
def capture(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, int]:
    offset: int = request.param
    return write_pcap(tmp_path / "syn-again.pcap", _conversation(offset).frames), offset


def test_a_repeated_handshake_is_one_session_and_a_new_isn_another(capture: tuple[Path, int]) -> None:
    path, offset = capture
    sessions = analyse(path).sessions
    whole = sessions[-1]
    assert len(sessions) == (1 if offset == 0 else 2)  # tshark's streams
    assert whole.handshake and whole.state == "closed"
    assert direction_bytes(whole, "c2s") == REQUEST
    assert direction_bytes(whole, "s2c") == RESPONSE
    frames = len(_conversation(offset).frames)
    assert whole.packets == (frames if offset == 0 else frames - 1)
    if offset:
        assert sessions[0].packets == 1 and not sessions[0].handshake


def test_the_document_agrees_whatever_the_split(capture: tuple[Path, int]) -> None:
    path, offset = capture
    expected = [(s.packets, s.state) for s in analyse(path).sessions]
    size = path.stat().st_size
    for workers, min_range, batch in ((1, 1 << 40, 8192), (2, size // 5, 3), (2, 1, 1)):
        with local_executor(workers) as pool:
            document = CaptureDocument(path, workers=workers, executor=pool, min_range=min_range, batch=batch)
        try:
            assert [(s.packets, s.state) for s in document.sessions] == expected
        finally:
            document.close()
