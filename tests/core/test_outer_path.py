"""The outer path: what a session came through (tunnels, VLAN tags, a source route).

The inner endpoints name a tunnelled session; the tunnel, with its outer
addresses, is its context.  Each case wraps one HTTP exchange's frames in a
known encapsulation (``tests/encapgen.py``: outer addresses 192.0.2.1 and
192.0.2.2), so the expected path is known from how the frames were built, not
from our output.  The per-packet analysis, the index (whole and in ranges),
the session list, ``sessions`` and the manifest must all say it; a plain
capture says nothing.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.core.export import Exporter, ExportOptions
from monoview.core.flows.columns import Column, SessionColumns
from monoview.core.flows.listing import session_columns, stream_entries
from tests.core.test_cli import run
from tests.core.test_fragments import fragment_ipv4
from tests.core.test_ip_layer import LSRR, ROUTER, SERVER, SSRR, with_route
from tests.core.test_readers import conversation
from tests.core.test_scan import _compare
from tests.encapgen import ENCAPSULATIONS, IPV4, MACS, TEB, ether, gre, ipv4, over_ipv4
from tests.pcapgen import Frame, pcap_bytes

OUTER = "192.0.2.1→192.0.2.2"
CLIENT_PORT = struct.pack(">H", 40000)
Wrap = Callable[[bytes], bytes]


def _tagged(tag: int, ethertype: int, payload: bytes) -> bytes:
    return MACS + struct.pack(">HHH", 0x8100, tag, ethertype) + payload


def _vlan_gre_vlan(ip: bytes) -> bytes:
    """VLAN 100, then GRE bridging an Ethernet frame tagged VLAN 7."""
    return _tagged(100, IPV4, ipv4(47, gre(TEB, _tagged(7, IPV4, ip))))


WRAPS: dict[str, tuple[Wrap, list[tuple[str, ...]]]] = {
    "gre-checksum-key-seq": (ENCAPSULATIONS["gre-checksum-key-seq"], [(f"GRE {OUTER}",)]),
    "erspan-ii": (ENCAPSULATIONS["erspan-ii"], [(f"ERSPAN {OUTER}",)]),
    "erspan-iii": (ENCAPSULATIONS["erspan-iii"], [(f"ERSPAN {OUTER}",)]),
    "wccp-v2": (ENCAPSULATIONS["wccp-v2"], [(f"WCCP {OUTER}",)]),
    "gre-aruba": (ENCAPSULATIONS["gre-aruba"], [(f"Aruba GRE {OUTER}",)]),
    "geneve-gre": (ENCAPSULATIONS["geneve-gre"], [(f"Geneve {OUTER}", f"GRE {OUTER}")]),
    "gtp-u": (ENCAPSULATIONS["gtp-u"], [(f"GTP-U {OUTER}",)]),
    "capwap-802.11": (ENCAPSULATIONS["capwap-802.11"], [(f"CAPWAP {OUTER}",)]),
    "vxlan-gpe-ip": (ENCAPSULATIONS["vxlan-gpe-ip"], [(f"VXLAN-GPE {OUTER}",)]),
    "l2tp-v2": (ENCAPSULATIONS["l2tp-v2"], [(f"L2TP {OUTER}",)]),
    "mpls-in-ip": (ENCAPSULATIONS["mpls-in-ip"], [(f"MPLS-in-IP {OUTER}",)]),
    "etherip": (ENCAPSULATIONS["etherip"], [(f"EtherIP {OUTER}",)]),
    "ip-in-ip": (lambda ip: over_ipv4(4, ip), [(f"IP-in-IP {OUTER}",)]),
    "pppoe-qinq-padded": (ENCAPSULATIONS["pppoe-qinq-padded"], [("VLAN 100", "VLAN 200")]),
    "vlan-gre-vlan": (_vlan_gre_vlan, [("VLAN 100", f"GRE {OUTER}", "VLAN 7")]),
    # The client's packets through GRE, the server's replies plain: both ways are the session's.
    "some-tunnelled": (
        lambda ip: over_ipv4(47, gre(IPV4, ip)) if ip[20:22] == CLIENT_PORT else ether(IPV4, ip),
        [(), (f"GRE {OUTER}",)],
    ),
}


def _capture(tmp_path: Path, wrap: Wrap, name: str = "outer.pcap") -> Path:
    frames = [Frame(f.ts_ns, wrap(f.data[14:])) for f in conversation().frames]
    path = tmp_path / name
    path.write_bytes(pcap_bytes(frames))
    return path


def _manifest_paths(source: object) -> list[list[list[str]]]:
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    described = Exporter(source, "unused", options).describe()  # type: ignore[arg-type]
    return [stream["outer_path"] for stream in described["streams"]]


def _everywhere(path: Path) -> list[list[tuple[str, ...]]]:
    """The one session's outer paths as every reader says them (they must agree)."""
    (session,) = analyse(path).sessions
    found = session.outer_paths
    with CaptureDocument(path, workers=1) as document:
        (info,) = document.sessions
        assert info.outer_paths == found
        (replayed,) = document.conversations()  # a session rebuilt from the index
        assert replayed.outer_paths == found
        (entry,) = stream_entries(session_columns(document.rows, document.flows))
        assert entry["outer_path"] == [list(p) for p in found]
        assert _manifest_paths(document) == [[list(p) for p in found]]
    assert _manifest_paths(analyse(path)) == [[list(p) for p in found]]
    # In ranges, in several workers' worth of parts, the flow's paths are the same.
    size = path.stat().st_size
    with CaptureDocument(path, workers=3, executor=InlineExecutor(), min_range=size // 4) as document:
        (info,) = document.sessions
        assert info.outer_paths == found
    _compare(path.read_bytes(), path.name)
    return [found]


@pytest.mark.parametrize("case", sorted(WRAPS))
def test_a_tunnelled_session_shows_what_it_came_through(tmp_path: Path, case: str) -> None:
    wrap, expected = WRAPS[case]
    path = _capture(tmp_path, wrap)
    assert _everywhere(path) == [expected]


def test_a_plain_capture_has_no_outer_path(tmp_path: Path) -> None:
    path = _capture(tmp_path, lambda ip: ether(IPV4, ip))
    assert _everywhere(path) == [[]]
    with CaptureDocument(path, workers=1) as document:
        assert not document.flows.has_outer_paths
        columns = SessionColumns(document.rows, document.flows)
        assert columns.outer_path_text(0) == ""


def test_a_source_route_is_shown_with_the_next_hop(tmp_path: Path) -> None:
    """Both directions source-routed through 10.0.0.254, the client's loose, the server's
    strict: each way's route is shown, with the header's destination (the next hop)."""

    def routed(ip: bytes) -> bytes:
        kind = LSRR if ip[16:20] == SERVER else SSRR
        return ether(IPV4, with_route(ip, ROUTER, [ip[16:20]], 4, kind))

    path = _capture(tmp_path, routed)
    assert _everywhere(path) == [[("LSRR via 10.0.0.254: 10.0.0.2",), ("SSRR via 10.0.0.254: 10.0.0.1",)]]


def test_the_list_and_the_command_line_show_it(tmp_path: Path) -> None:
    path = _capture(tmp_path, _vlan_gre_vlan)
    text = f"VLAN 100 · GRE {OUTER} · VLAN 7"
    with CaptureDocument(path, workers=1) as document:
        columns = SessionColumns(document.rows, document.flows)
        assert columns.outer_path_text(0) == text
        assert columns.sort_order(Column.OUTER_PATH).tolist() == [0]
    result = run("sessions", str(path), "--outer-path")
    assert result.returncode == 0, result.stderr
    header, line = result.stdout.decode().splitlines()
    assert header.endswith("outer path") and line.endswith(text)
    listing = json.loads(run("sessions", str(path), "--json").stdout)
    assert listing["sessions"][0]["outer_path"] == [["VLAN 100", f"GRE {OUTER}", "VLAN 7"]]


def test_a_datagram_reassembled_from_tunnelled_fragments_keeps_its_path(tmp_path: Path) -> None:
    """Fragments of the inner IP packets, each in its own GRE packet: the reassembled
    segments carry the tunnel's path (from the fragment that completed them)."""
    frames = []
    for f in conversation().frames:
        for piece in fragment_ipv4(f.data[14:], 24):
            frames.append(Frame(f.ts_ns, over_ipv4(47, gre(IPV4, piece))))
    path = tmp_path / "fragments.pcap"
    path.write_bytes(pcap_bytes(frames))
    assert _everywhere(path) == [[(f"GRE {OUTER}",)]]
