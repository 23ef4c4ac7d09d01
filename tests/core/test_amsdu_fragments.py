"""802.11 A-MSDUs meet IP reassembly: one frame's several packets, several frames' one datagram.

Built from the two interleaved HTTP exchanges of ``test_amsdu`` and checked against
tshark (every TCP layer of its PDML), then against both readers, the document (whole,
and in ranges) and the scanner:

- an A-MSDU whose subframes are themselves IP fragments: one frame carries the last
  fragments of two datagrams (and a whole packet beside them), so it completes two
  packets and holds a third.  Their payloads' places in the file were listed by frame
  alone, so one datagram's pieces replaced the other's and the whole packet was read
  from them: the document's streams came out wrong (the per-packet analysis, which
  carries the pieces on the packet, was right).

Either way a frame gives several TCP packets, so the count of frames that gave none
must still be the capture's frames less those with a TCP layer in tshark (it went
negative).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.counts import CaptureStats
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.core.streambytes import direction_bytes
from tests.core.test_amsdu import CARRIERS, EXPECTED, amsdu, subframe, tshark_payloads, two_exchanges
from tests.core.test_fragments import fragment_ipv4
from tests.core.test_readers import REQUEST, RESPONSE
from tests.core.test_scan import _compare
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")
T0 = 1_700_000_000_000_000_000
CLIENTS = ["10.0.0.1:40000", "10.0.0.3:40001"]


def _packets() -> list[bytes]:
    return [f.data[14:] for f in two_exchanges()]


def fragmented_subframes(tmp_path: Path, carrier: str) -> tuple[Path, int]:
    """The exchanges' packets three at a time: the first two cut into 24-byte fragments, all
    but their last fragments in one A-MSDU, then one A-MSDU of both last fragments and the
    third packet whole (a packet of one fragment is sent whole).  Returns the file and the
    number of frames with a TCP packet (the second of each three)."""
    linktype, wrap = CARRIERS[carrier]
    packets, frames, completing = _packets(), [], 0
    for at in range(0, len(packets), 3):
        firsts: list[bytes] = []
        lasts: list[bytes] = []
        for n, ip in enumerate(packets[at : at + 3]):
            pieces = [ip] if n == 2 else fragment_ipv4(ip, 24, 1000 + at + n)
            firsts += pieces[:-1]
            lasts.append(pieces[-1])
        if firsts:
            frames.append(Frame(T0 + at * 1000, wrap(amsdu([subframe(p) for p in firsts]))))
        frames.append(Frame(T0 + at * 1000 + 1, wrap(amsdu([subframe(p) for p in lasts]))))
        completing += 1
    path = tmp_path / f"{carrier}-subframe-fragments.pcap"
    path.write_bytes(pcap_bytes(frames, linktype=linktype))
    return path, completing


def tshark_tcp_frames(path: Path) -> int:
    """How many frames tshark finds a TCP layer in."""
    done = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-Y", "tcp", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    )
    return len(done.stdout.split())


def _check(path: Path, tcp_frames: int) -> None:
    """tshark, both readers, the document in one piece and in ranges, and the scanner agree:
    every packet, both streams whole, no fragment left, and the frames without TCP."""
    packets = len(_packets())
    if TSHARK:
        assert tshark_payloads(path) == (packets, EXPECTED)
        assert tshark_tcp_frames(path) == tcp_frames
    analysis = analyse(path)
    frames = analysis.stats.frames
    documents = [CaptureDocument(path, workers=1)]
    size = path.stat().st_size
    documents.append(CaptureDocument(path, workers=3, executor=InlineExecutor(), min_range=size // 4))
    try:
        sessions = [analysis.sessions, *(list(d.conversations()) for d in documents)]
        stats: list[CaptureStats] = [analysis.stats, *(d.stats for d in documents)]
        for found in sessions:
            assert [str(s.client) for s in found] == CLIENTS
            for session in found:
                assert direction_bytes(session, "c2s") == REQUEST
                assert direction_bytes(session, "s2c") == RESPONSE
                assert session.state == "closed"
        for counts in stats:
            assert counts.tcp_packets == packets
            assert counts.incomplete_fragments == 0
            assert counts.non_tcp == frames - tcp_frames
    finally:
        for document in documents:
            document.close()
    _compare(path.read_bytes(), path.name)


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_one_frame_completes_two_datagrams_beside_a_whole_packet(tmp_path: Path, carrier: str) -> None:
    path, completing = fragmented_subframes(tmp_path, carrier)
    _check(path, completing)
