"""Frames built to make the tunnel decoders work hard, or to fail: bounded, counted, never fatal.

A frame may nest NSH, Ethernet and tags as deep as its bytes allow; the decoder
walks them in one loop with one budget, so such a frame is malformed (counted),
not a RecursionError that ends the load.  And should a decoder still raise, the
readers count that frame as malformed and go on.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core import analyse as analyse_module
from monoview.core.analyse import analyse
from monoview.core.capture import scan as scan_module
from monoview.core.capture.decode import Decoded, Skip, decode_any
from monoview.core.capture.records import Buffer, Record
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from tests.core.test_readers import conversation
from tests.core.test_scan import _compare
from tests.encapgen import ENCAPSULATIONS, MACS, ether, over_ipv4, over_udp
from tests.pcapgen import Frame, pcap_bytes

MALFORMED = Skip.MALFORMED.value


def _nsh(next_protocol: int) -> bytes:
    """An NSH header of MD type 2 without metadata (2 words)."""
    return bytes([0x0F, 0xC2, 0x02, next_protocol]) + b"\x00\x00\x01\xff"


def nested_nsh(cycles: int) -> bytes:
    """An Ethernet frame of NSH carrying NSH carrying Ethernet carrying NSH..., ``cycles`` times."""
    cycle = struct.pack(">H", 0x894F) + _nsh(4) + _nsh(3) + MACS
    return MACS + cycle * cycles + struct.pack(">H", 0x0800) + b"\x45" + b"\x00" * 40


def test_nested_nsh_is_malformed_not_a_recursion_error() -> None:
    frame = nested_nsh(800)
    assert len(frame) >= 20_000
    assert decode_any(frame, Record(1, 0, 1, 0, 0, len(frame), len(frame))) is Skip.MALFORMED


def test_nested_nsh_on_the_command_line(tmp_path: Path) -> None:
    """`monoview sessions` (the index, in its worker processes) lists the session and counts the frame."""
    conv = conversation()
    frames = [*conv.frames, Frame(conv.frames[-1].ts_ns + 1000, nested_nsh(800))]
    path = tmp_path / "nsh.pcap"
    path.write_bytes(pcap_bytes(frames))
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", str(path)], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr
    assert result.returncode == 0
    assert "10.0.0.1:40000" in result.stdout
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.skipped == {MALFORMED: 1}
        assert len(document.sessions) == 1
    assert analyse(path).stats.skipped == {MALFORMED: 1}
    assert _compare(path.read_bytes(), path.name) == len(conv.frames)


def test_nsh_ethernet_and_tags_share_one_budget() -> None:
    """Tags, shims and NSH headers count together: a few of each decode, too many in all do not."""
    ip = b"\x45" + b"\x00" * 39
    tag = struct.pack(">HH", 0x8100, 5)

    def frame(repeats: int) -> bytes:
        return MACS + (tag + struct.pack(">H", 0x894F) + _nsh(3) + MACS) * repeats + b"\x08\x00" + ip

    def decoded(data: bytes) -> Decoded:
        return decode_any(data, Record(1, 0, 1, 0, 0, len(data), len(data)))

    assert decoded(frame(2)) is not Skip.MALFORMED  # 4 steps: IP, not TCP
    assert decoded(frame(5)) is Skip.MALFORMED  # 10 steps


Raiser = Callable[[Buffer, Record], Decoded]


@pytest.mark.parametrize("exc", [RecursionError, IndexError, ValueError])
def test_a_decoder_bug_costs_its_frame_not_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: type[Exception]
) -> None:
    """Both readers count a frame whose decoding raises as malformed, and keep the others."""
    conv = conversation()
    wrap = ENCAPSULATIONS["gre-mpls"]  # frames the scanner leaves to the per-frame decoder
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes([Frame(f.ts_ns, wrap(f.data[14:])) for f in conv.frames]))

    def raising(decoder: Raiser) -> Raiser:
        def failing(buf: Buffer, record: Record) -> Decoded:
            if record.frame == 5:
                raise exc("a decoder bug")
            return decoder(buf, record)

        return failing

    monkeypatch.setattr(scan_module, "decode_any", raising(scan_module.decode_any))
    monkeypatch.setattr(analyse_module, "decode", raising(analyse_module.decode))
    with CaptureDocument(path, workers=1, executor=InlineExecutor()) as document:
        assert document.stats.skipped == {MALFORMED: 1}
        assert document.stats.tcp_packets == len(conv.frames) - 1
    analysis = analyse(path)
    assert analysis.stats.skipped == {MALFORMED: 1}
    assert len(analysis.sessions) == 1


def test_many_undecoded_names_are_a_few_lines(tmp_path: Path) -> None:
    """Twelve encapsulations not decoded: the eight most frequent are named, the rest one line."""
    conv = conversation()
    frames = list(conv.frames)
    for kind in range(12):
        geneve = struct.pack(">BBHI", 0, 0, 0x9000 + kind, 0) + b"\x00" * 20
        for _ in range(12 - kind):  # 0x9000 the most frequent, 0x900B the least
            frames.append(Frame(frames[-1].ts_ns + 1, over_udp(6081, geneve)))
    path = tmp_path / "names.pcap"
    path.write_bytes(pcap_bytes(frames))
    first = len(conv.frames) + 1 + sum(12 - kind for kind in range(8))
    expected = [
        f"{12 - kind} frames of Geneve protocol 0x{0x9000 + kind:04X} were not decoded (the first is frame"
        f" {len(conv.frames) + 1 + sum(12 - k for k in range(kind))})"
        for kind in range(8)
    ] + [f"10 frames of 4 other encapsulations were not decoded (the first is frame {first})"]
    assert analyse(path).stats.warnings() == expected
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.warnings() == expected


def _esp(ip: bytes) -> bytes:
    return struct.pack(">II", 0x1000, 1) + ip


def _over_ipv6(next_header: int, payload: bytes) -> bytes:
    header = struct.pack(
        ">IHBB16s16s", 0x6000_0000, len(payload), next_header, 64, b"\x20" * 16, b"\x21" * 16
    )
    return ether(0x86DD, header + payload)


NAMED = {
    "esp": lambda ip: over_ipv4(50, _esp(ip)),
    "esp-ipv6": lambda ip: _over_ipv6(50, _esp(ip)),
    "l2tpv3-ip": lambda ip: over_ipv4(115, struct.pack(">I", 0x1234) + ip),
    # Longer than the frame says (a cut packet is still only named), and shorter than its header.
    "esp-cut": lambda ip: over_ipv4(50, _esp(ip))[:-4],
    "esp-bad-length": lambda ip: (lambda f: f[:16] + b"\x00\x10" + f[18:])(over_ipv4(50, _esp(ip))),
}


@pytest.mark.parametrize("case", sorted(NAMED))
def test_named_ip_protocols_are_counted_in_bulk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """ESP and L2TPv3 frames are counted by the scanner itself, not one by one through
    ``decode_any``, with the counts and warnings of the per-frame reader."""
    plain = conversation().frames
    hidden = conversation(client=("10.9.9.9", 5555)).frames
    frames = [*plain[:3], *(Frame(f.ts_ns, NAMED[case](f.data[14:])) for f in hidden), *plain[3:]]
    path = tmp_path / "named.pcap"
    path.write_bytes(pcap_bytes(frames))
    decoded: list[int] = []
    real = scan_module.decode_any

    def counting(buf: Buffer, record: Record) -> Decoded:
        decoded.append(record.frame)
        return real(buf, record)

    monkeypatch.setattr(scan_module, "decode_any", counting)
    with CaptureDocument(path, workers=1, executor=InlineExecutor(), batch=4) as document:
        stats = document.stats
    assert decoded == []
    analysis = analyse(path)
    assert (stats.skipped, stats.undecoded, stats.cut) == (
        analysis.stats.skipped,
        analysis.stats.undecoded,
        analysis.stats.cut,
    )
    assert stats.warnings() == analysis.stats.warnings()
    assert len(stats.warnings()) == 1 and "(the first is frame 4)" in stats.warnings()[0]
    assert _compare(path.read_bytes(), path.name) == len(plain)


def _decoded(data: bytes) -> Decoded:
    return decode_any(data, Record(1, 0, 1, 0, 0, len(data), len(data)))


def test_nested_fabricpath_and_llc_share_the_budget() -> None:
    """FabricPath inside FabricPath..., and SNAP naming another 802.3 length..., as deep as the
    bytes allow: a few decode, too many in all make the frame malformed, never a crash."""
    ip = b"\x45" + b"\x00" * 39
    fabric = MACS + struct.pack(">HH", 0x8903, 0x0041)

    def fabricpaths(depth: int) -> bytes:
        return fabric * depth + MACS + b"\x08\x00" + ip + b"\x00" * 4 * depth

    def snaps(depth: int) -> bytes:
        return MACS + (struct.pack(">H", 100) + b"\xaa\xaa\x03\x00\x00\x00") * depth + b"\x08\x00" + ip

    assert _decoded(fabricpaths(3)) is Skip.NOT_TCP  # IP, protocol 0
    assert _decoded(snaps(3)) is Skip.NOT_TCP
    assert _decoded(fabricpaths(1000)) is Skip.MALFORMED
    assert _decoded(snaps(1000)) is Skip.MALFORMED
