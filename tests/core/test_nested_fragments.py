"""IP fragments inside a reassembled tunnel datagram: both levels reassembled, as tshark does.

A tunnel endpoint that fragments the user's packet to fit the tunnel (each inner fragment
in a datagram of its own) behind a path that fragments the tunnel's datagrams again: the
inner packet is whole only once every outer datagram holding one of its fragments is
reassembled, and then each inner fragment is found inside one.  The two HTTP exchanges of
``test_amsdu`` (26 packets) go so through GTP-U, GRE (checksum, key, sequence) and VXLAN:
each inner IPv4 packet in 24-byte fragments, each tunnel datagram in 32-byte ones (sent
last first in one case).  tshark reassembles both levels and finds all 26 packets, each at
the frame that completed the outer datagram holding its inner datagram's last fragment;
monoview found 16 (those small enough to go unfragmented inside), both sessions broken.
Both readers, the document (whole, and in ranges), its events and the scanner must agree
with it (``test_amsdu_fragments._check``); ``tests/data/nested-fragments-gtp-u.pcap`` is
one of them with its oracle (``test_corpus_differences`` holds it to it).
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.fragments import MAX_NESTING
from tests.conftest import DATA
from tests.core.test_amsdu import two_exchanges
from tests.core.test_amsdu_fragments import _check, fragmented_subframes
from tests.core.test_fragments import fragment_ipv4
from tests.encapgen import ENCAPSULATIONS, IPV4, ether
from tests.pcapgen import Frame, pcap_bytes

CASES = ("gtp-u", "gre-checksum-key-seq", "vxlan-gbp-reserved")


def nested_fragments(case: str, last_first: bool = False) -> bytes:
    """The exchanges' packets in 24-byte fragments, each through ``case``, each tunnel
    datagram in 32-byte fragments (last first if ``last_first``)."""
    wrap, frames, datagrams = ENCAPSULATIONS[case], [], 0
    for n, f in enumerate(two_exchanges()):
        for inner in fragment_ipv4(f.data[14:], 24, 1000 + n):
            pieces = fragment_ipv4(wrap(inner)[14:], 32, 5000 + datagrams)
            for piece in pieces[::-1] if last_first else pieces:
                frames.append(Frame(f.ts_ns + datagrams, ether(IPV4, piece)))
            datagrams += 1
    return pcap_bytes(frames)


@pytest.mark.parametrize(("case", "last_first"), [(c, False) for c in CASES] + [("gtp-u", True)])
def test_fragments_inside_a_reassembled_tunnel_datagram_are_reassembled(
    tmp_path: Path, case: str, last_first: bool
) -> None:
    path = tmp_path / f"nested-{case}.pcap"
    path.write_bytes(nested_fragments(case, last_first))
    _check(path, len(two_exchanges()))  # each packet at a frame of its own


def test_an_amsdu_of_fragments_in_fragmented_aruba_gre(tmp_path: Path) -> None:
    """``test_amsdu_fragments``'s A-MSDUs whose subframes are fragments (one frame completing
    two datagrams beside a whole packet), in an Aruba GRE tunnel whose datagrams are cut
    into 32-byte fragments again: the fragments are found only in the reassembled GRE."""
    source, completing = fragmented_subframes(tmp_path, "aruba-gre")
    frames = []
    with source.open("rb") as file:
        for n, (ts, data) in enumerate(dpkt.pcap.Reader(file)):
            ts_ns = round(ts * 1e9)
            frames += [Frame(ts_ns, ether(IPV4, p)) for p in fragment_ipv4(data[14:], 32, 7000 + n)]
    path = tmp_path / "aruba-amsdu-of-fragments-fragmented.pcap"
    path.write_bytes(pcap_bytes(frames))
    _check(path, completing)


def test_the_stored_capture_is_the_generated_one() -> None:
    """tests/data's copy (beside its tshark oracle) is what this module makes."""
    assert (DATA / "nested-fragments-gtp-u.pcap").read_bytes() == nested_fragments("gtp-u")


def _nested(levels: int) -> list[bytes]:
    """A SYN in GTP-U in fragments, ``levels`` times over: the wire's IPv4 packets."""
    packets, ident = [two_exchanges()[0].data[14:]], 1
    for _ in range(levels):
        cut = []
        for ip in packets:
            outer = ENCAPSULATIONS["gtp-u"](ip)[14:]
            half = (len(outer) - 20) // 2 // 8 * 8  # two fragments
            cut += fragment_ipv4(outer, half, ident)
            ident += 1
        packets = cut
    return packets


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, MAX_NESTING + 2])
def test_nesting_is_bounded(tmp_path: Path, levels: int) -> None:
    """Fragments inside reassembled datagrams are followed MAX_NESTING deep (the wire's
    fragments are not nested): a crafted capture must not recurse without end.  Deeper, the
    SYN is not found and its fragments are counted as given up."""
    path = tmp_path / f"nested-{levels}.pcap"
    path.write_bytes(pcap_bytes([Frame(i, ether(IPV4, p)) for i, p in enumerate(_nested(levels))]))
    stats = analyse(path).stats
    assert (stats.tcp_packets, bool(stats.incomplete_fragments)) == (
        (1, False) if levels <= MAX_NESTING + 1 else (0, True)
    )
