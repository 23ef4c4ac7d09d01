"""802.11 A-MSDUs meet IP reassembly: one frame's several packets, several frames' one datagram.

Two ways they meet, each built from the two interleaved HTTP exchanges of
``test_amsdu`` and checked against tshark (every TCP layer of its PDML), then
against both readers, the document (whole, and in ranges) and the scanner:

- an Aruba access point's GRE tunnel whose outer IPv4 datagrams were fragmented: the
  A-MSDU, and so its subframes, is only whole once the datagram is reassembled, and
  then gives every packet in it (before: none, or only a lone subframe's);
- an A-MSDU whose subframes are themselves IP fragments: one frame carries the last
  fragments of two datagrams (and a whole packet beside them), so it completes two
  packets and holds a third.  Their payloads' places in the file were listed by frame
  alone, so one datagram's pieces replaced the other's and the whole packet was read
  from them: the document's streams came out wrong (the per-packet analysis, which
  carries the pieces on the packet, was right).

Either way a frame gives several TCP packets, so the count of frames that gave none
must still be the capture's frames less those with a TCP layer in tshark (it went
negative), and the document must replay a frame's packets in subframe order, as the
per-packet analysis (and tshark) takes them: it put the whole packets before those
completed from fragments (the same streams, but other events in another order).
"""

from __future__ import annotations

import shutil
import subprocess
from itertools import cycle
from pathlib import Path

import pytest

from monoview.core.analyse import Analysis
from monoview.core.capture.counts import CaptureStats
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.core.streambytes import direction_bytes
from tests.core.test_amsdu import CARRIERS, EXPECTED, amsdu, subframe, tshark_payloads, two_exchanges
from tests.core.test_document import Log
from tests.core.test_fragments import fragment_ipv4
from tests.core.test_readers import REQUEST, RESPONSE
from tests.core.test_scan import _compare
from tests.encapgen import IPV4, ether, gre, over_ipv4
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")
T0 = 1_700_000_000_000_000_000
CLIENTS = ["10.0.0.1:40000", "10.0.0.3:40001"]


def _packets() -> list[bytes]:
    return [f.data[14:] for f in two_exchanges()]


def fragmented_tunnel(tmp_path: Path, size: int, last_first: bool) -> tuple[Path, int]:
    """The exchanges' packets one, two or three to an A-MSDU in Aruba GRE, every outer IPv4
    datagram cut into ``size``-byte fragments (sent last first if ``last_first``, so the
    first fragment completes it).  Returns the file and the number of datagrams."""
    packets, frames, sizes = _packets(), [], cycle((1, 2, 3))
    at = datagrams = 0
    while at < len(packets):
        group = packets[at : at + next(sizes)]
        outer = over_ipv4(47, gre(0x8200, amsdu([subframe(ip) for ip in group])))
        pieces = fragment_ipv4(outer[14:], size, 100 + datagrams)
        for piece in pieces[::-1] if last_first else pieces:
            frames.append(Frame(T0 + at * 1000, ether(IPV4, piece)))
        at, datagrams = at + len(group), datagrams + 1
    path = tmp_path / f"aruba-fragments-{size}.pcap"
    path.write_bytes(pcap_bytes(frames))
    return path, datagrams


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
    log = Log()
    analysis = Analysis(path, listeners=[log]).run_to_end()
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
        for document in documents:  # every packet and event, in the analysis's order
            replayed = Log()
            document.dispatch([replayed])
            assert replayed.events == sorted(log.events, key=lambda e: e[0])
    finally:
        for document in documents:
            document.close()
    _compare(path.read_bytes(), path.name)


@pytest.mark.parametrize(("size", "last_first"), [(64, False), (24, True)])
def test_an_amsdu_in_a_fragmented_tunnel_datagram_gives_every_subframe(
    tmp_path: Path, size: int, last_first: bool
) -> None:
    path, datagrams = fragmented_tunnel(tmp_path, size, last_first)
    _check(path, datagrams)


@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_one_frame_completes_two_datagrams_beside_a_whole_packet(tmp_path: Path, carrier: str) -> None:
    path, completing = fragmented_subframes(tmp_path, carrier)
    _check(path, completing)
