"""A direction seen from the middle starts where the evidence says its bytes began.

With no SYN, a direction's first captured byte is not its first byte.  Sequence
space has no holes, so a number below that byte that the packets state is proof
that the bytes from there were sent and not captured: the sender's own number on
an earlier packet without data (its next byte then), or the peer's ACK before it
(what it had received to).  The stream then begins there, with a leading gap
(``suricata_bug-76``: the server's pure ACK and the client's ACK both at 1,391
bytes before its first captured byte; tshark's follow starts with "[1391 bytes
missing in capture file]").  A number one below is a keep-alive probe's, not a
missing byte; one further back than any window is a stray's.  Each capture is a
server sending three 500-byte segments mid-connection, 1,000 bytes after the
number the case puts before them.  tshark, where installed, must mark what it marks:
the same gap from the sender's own number; none from the peer's ACK (it ignores that
evidence); a byte before a keep-alive probe and a gigabyte before a stray number (both
wrong: nothing is missing there).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from monoview.core.tcp.records import Gap, GapCause
from tests.pcapgen import ACK, PSH, Frame, ethernet, pcap_bytes, tcp_ip

TSHARK = shutil.which("tshark")
CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 80)
CLIENT_SEQ, EARLIER = 7000, 50_000
START = EARLIER + 1000  # the server's first captured byte
DATA = [bytes([65 + i]) * 500 for i in range(3)]
MISSING = Gap(0, 1000, True, GapCause.NOT_CAPTURED)

STRAY = START - (1 << 30) - 10
# case -> (packets before the server's data, the gaps monoview reports, the bytes tshark's
# follow marks missing before the data, if any)
CASES: dict[str, tuple[list[bytes], list[Gap], int | None]] = {
    "sender-bare-packet": ([tcp_ip(SERVER, CLIENT, EARLIER, CLIENT_SEQ, ACK)], [MISSING], 1000),
    "sender-and-peer": (
        [tcp_ip(CLIENT, SERVER, CLIENT_SEQ, EARLIER, ACK), tcp_ip(SERVER, CLIENT, EARLIER, CLIENT_SEQ, ACK)],
        [MISSING],
        1000,
    ),
    # The receiver's ACK: it had the bytes before EARLIER, and later acks past them all.
    "peer-ack": ([tcp_ip(CLIENT, SERVER, CLIENT_SEQ, EARLIER, ACK)], [MISSING], None),
    "peer-ack-at-the-first-byte": ([tcp_ip(CLIENT, SERVER, CLIENT_SEQ, START, ACK)], [], None),
    # SND.NXT-1 with no data: a keep-alive probe.
    "keep-alive": ([tcp_ip(SERVER, CLIENT, START - 1, CLIENT_SEQ, ACK)], [], 1),
    "stray-number": ([tcp_ip(SERVER, CLIENT, STRAY, CLIENT_SEQ, ACK)], [], START - STRAY),
    "nothing-before": ([], [], None),
}


def capture(tmp_path: Path, before: list[bytes], late: bool = False) -> Path:
    """The case's packets, the server's three segments, the client's ACK of them all (and,
    ``late``, the 1,000 missing bytes sent again after them)."""
    packets = [
        *before,
        *(tcp_ip(SERVER, CLIENT, START + 500 * i, CLIENT_SEQ, PSH | ACK, d) for i, d in enumerate(DATA)),
        tcp_ip(CLIENT, SERVER, CLIENT_SEQ, START + 1500, ACK),
    ]
    if late:
        packets.append(tcp_ip(SERVER, CLIENT, EARLIER, CLIENT_SEQ, PSH | ACK, b"z" * 1000))
    frames = [Frame(1_700_000_000_000_000_000 + i * 1_000_000, ethernet(p)) for i, p in enumerate(packets)]
    path = tmp_path / "midstream.pcap"
    path.write_bytes(pcap_bytes(frames))
    return path


def tshark_server_chunks(path: Path) -> list[bytes]:
    """The server's chunks in tshark's ``follow,tcp,raw`` (node 1 when the client's packet
    is first, else node 0), gap markers included."""
    out = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-q", "-z", "follow,tcp,raw,0"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    node0 = next(line for line in out.splitlines() if line.startswith("Node 0:"))
    server_first = node0.split()[-1] == f"{SERVER[0]}:{SERVER[1]}"
    chunks = []
    for line in out.splitlines():
        text = line.strip()
        if text and all(c in "0123456789abcdef" for c in text) and line.startswith("\t") != server_first:
            chunks.append(bytes.fromhex(text))
    return chunks


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mid_stream_direction_starts_where_its_bytes_began(tmp_path: Path, case: str) -> None:
    before, gaps, tshark_missing = CASES[case]
    path = capture(tmp_path, before)
    if TSHARK:
        missing = [] if tshark_missing is None else [f"[{tshark_missing} bytes missing in capture file]"]
        assert tshark_server_chunks(path) == [*(m.encode() + b"\0" for m in missing), *DATA]
    session = analyse(path).sessions[0]
    with CaptureDocument(path, workers=1) as document:
        (conversation,) = document.conversations()
        for found in (session, conversation):
            assert found.gaps("s2c") == gaps
            assert direction_bytes(found, "s2c") == b"".join(DATA)
            (monologue,) = found.monologues
            assert monologue.offset == (1000 if gaps else 0)


def test_bytes_sent_again_later_fill_the_leading_gap(tmp_path: Path) -> None:
    """The 1,000 bytes come later (a retransmission): they fill the gap, which goes."""
    path = capture(tmp_path, CASES["sender-bare-packet"][0], late=True)
    session = analyse(path).sessions[0]
    with CaptureDocument(path, workers=1) as document:
        (conversation,) = document.conversations()
        for found in (session, conversation):
            assert found.gaps("s2c") == []
            assert direction_bytes(found, "s2c") == b"z" * 1000 + b"".join(DATA)
