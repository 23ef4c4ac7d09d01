"""TCP inside tunnels and encapsulations: the inner session is found, with its bytes.

Each capture is one HTTP exchange whose every frame goes through one
encapsulation (``tests/encapgen.py``).  tshark, where installed, must decode the
frames down to that TCP stream and its payload, so the frames are known to be
right; then the per-packet analysis and the document (what ``monoview
sessions`` and ``export`` read) must both find the one session the inner
endpoints name, with the request and response bytes, and the vectorised
scanner must agree with the per-frame decoder on every frame (also when the
tunnel headers are damaged).  Known encapsulations that are not decoded are
counted and reported once, by name.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.tunnels import UDP_PORTS
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, check, conversation
from tests.core.test_scan import _compare, _mutate
from tests.encapgen import ENCAPSULATIONS, IPV6_ONLY, ether, gre, over_ipv4, over_udp
from tests.pcapgen import Conversation, Frame, pcap_bytes

TSHARK = shutil.which("tshark")
V6 = {"client": ("2001:db8::1", 40000), "server": ("2001:db8::2", 80)}
CASES = {name: (wrap, False) for name, wrap in ENCAPSULATIONS.items()}
CASES.update({name: (wrap, True) for name, wrap in IPV6_ONLY.items()})
# Each IPv4 case also once with IPv6 inside, where the encapsulation carries both.
V6_TOO = [
    "erspan-ii",
    "geneve-ip",
    "gtp-u",
    "vxlan-gpe-ip",
    "nsh-ethertype",
    "gre-mpls",
    "mpls-udp",
    "l2tp-v2",
    "pppoe-qinq-padded",
    "pppoe-mpls",
    "llc-snap",
    "llc-snap-tagged-padded",
    "fabricpath",
    "fabricpath-tagged",
    "wccp-v2",
    "ayiya",
    "gre-aruba",
    "capwap-802.11",
    "capwap-ethernet",
]


def tunnelled(tmp_path: Path, wrap: Callable[[bytes], bytes], v6: bool) -> tuple[Path, Conversation]:
    conv = conversation(**(V6 if v6 else {}))
    path = tmp_path / "tunnel.pcap"
    path.write_bytes(pcap_bytes([Frame(f.ts_ns, wrap(f.data[14:])) for f in conv.frames]))
    return path, conv


def tshark_payloads(path: Path) -> dict[tuple[str, int], bytes]:
    """tshark's TCP payload per (stream, source port), in frame order (frames without TCP,
    such as IP fragments, left out)."""
    out = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-Y", "tcp", "-T", "fields", "-e", "tcp.stream",
         "-e", "tcp.srcport", "-e", "tcp.payload"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    payloads: dict[tuple[str, int], bytes] = {}
    for line in out.splitlines():
        stream, port, payload = line.split("\t")
        key = (stream, int(port))
        payloads[key] = payloads.get(key, b"") + bytes.fromhex(payload.replace(":", ""))
    return payloads


@pytest.mark.parametrize(
    ("name", "v6"), [(n, CASES[n][1]) for n in CASES] + [(n, True) for n in V6_TOO],
    ids=[*CASES, *(f"{n}-ipv6" for n in V6_TOO)],
)  # fmt: skip
def test_inner_session_is_found_on_both_paths(tmp_path: Path, name: str, v6: bool) -> None:
    path, conv = tunnelled(tmp_path, CASES[name][0], v6)
    if TSHARK:
        # One stream; the client's and the server's bytes, as tshark decodes the frames.
        assert tshark_payloads(path) == {("0", conv.client[1]): REQUEST, ("0", conv.server[1]): RESPONSE}
    check(path, conv)  # the per-packet analysis
    with CaptureDocument(path, workers=1) as document:
        (info,) = document.sessions
        assert (str(info.client), str(info.server)) == (
            str(analyse(path).sessions[0].client),
            str(analyse(path).sessions[0].server),
        )
        (session,) = document.conversations()
        assert direction_bytes(session, "c2s") == REQUEST
        assert direction_bytes(session, "s2c") == RESPONSE
        assert document.stats.skipped == {}
        assert document.stats.tcp_packets == len(conv.frames)
    assert _compare(path.read_bytes(), path.name) == len(conv.frames)


def test_damaged_tunnel_headers_decode_alike_on_both_paths(tmp_path: Path) -> None:
    """Random bytes of the outer and tunnel headers damaged: scanner and decoder still agree."""
    rng = random.Random(7)
    captures = [tunnelled(tmp_path, wrap, v6)[0].read_bytes() for wrap, v6 in CASES.values()]
    found = 0
    for _ in range(300):
        found += _compare(_mutate(rng, rng.choice(captures)), "damaged.pcap")
    assert found > 1000


def _frames_of(conv: Conversation, wrap: Callable[[bytes], bytes]) -> list[Frame]:
    return [Frame(f.ts_ns, wrap(f.data[14:])) for f in conv.frames]


UNDECODED: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "esp": ("ESP (encrypted)", lambda ip: over_ipv4(50, struct.pack(">II", 0x1000, 1) + ip)),
    "macsec": ("MACsec (encrypted)", lambda ip: ether(0x88E5, b"\x2c\x00\x00\x00\x00\x01" + ip)),
    "l2tpv3-udp": (
        "L2TPv3",
        lambda ip: over_udp(1701, struct.pack(">HHI", 0x0003, 0, 0x1234) + ip, sport=1701),
    ),
    "gre-unknown": ("GRE protocol 0x6559", lambda ip: over_ipv4(47, gre(0x6559, ip))),
    "geneve-unknown": (
        "Geneve protocol 0x88CC",
        lambda ip: over_udp(6081, struct.pack(">BBHI", 0, 0, 0x88CC, 0) + ip),
    ),
    "capwap-dtls": ("CAPWAP (DTLS)", lambda ip: over_udp(5247, b"\x01\x00\x00\x00\x17\xfe\xfd" + ip)),
}


@pytest.mark.parametrize("case", sorted(UNDECODED))
def test_known_encapsulation_not_decoded_is_reported_by_name(tmp_path: Path, case: str) -> None:
    name, wrap = UNDECODED[case]
    plain = conversation().frames[:2]
    frames = [*plain, *_frames_of(conversation(client=("10.9.9.9", 5555)), wrap)]
    path = tmp_path / "u.pcap"
    path.write_bytes(pcap_bytes(frames))
    hidden_count = len(frames) - len(plain)
    expected = f"{hidden_count} frames of {name} were not decoded (the first is frame 3)"
    analysis = analyse(path)
    assert analysis.stats.undecoded == {name: hidden_count}
    assert analysis.stats.warnings() == [expected]
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.undecoded == {name: hidden_count}
        assert document.stats.warnings() == [expected]
    _compare(path.read_bytes(), path.name)


def test_undecoded_encapsulation_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    import sys

    conv = conversation()
    path = tmp_path / "esp.pcap"
    path.write_bytes(pcap_bytes([*conv.frames, *_frames_of(conversation(client=("10.9.9.9", 5555)),
                                                           UNDECODED["esp"][1])]))  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if "ESP" in line]
    assert warnings == [
        f"monoview: warning: esp.pcap: {len(conv.frames)} frames of ESP (encrypted) were not decoded"
        f" (the first is frame {len(conv.frames) + 1})"
    ]


# First bytes that passed the tunnel decoders' first checks (a version, a flag): half the random
# datagrams start so, to reach the checks after them.
PLAUSIBLE: dict[int, Callable[[random.Random], bytes]] = {
    1701: lambda rng: rng.choice([b"\x00\x02", b"\x40\x02", b"\x00\x03"]),
    2152: lambda rng: bytes([0x30 | rng.getrandbits(3), 0xFF]),
    3544: lambda rng: b"\x00\x00" + rng.randbytes(6) + b"\x60",
    4754: lambda rng: bytes([rng.getrandbits(8) & 0xB8, rng.getrandbits(8) & 0xF8]),
    4789: lambda rng: b"\x08",
    4790: lambda rng: b"\x0c",
    5072: lambda rng: bytes([rng.getrandbits(6), rng.getrandbits(6), 0x11, rng.choice((4, 41))]),
    5247: lambda rng: bytes([0, 0x10 | rng.getrandbits(3), rng.choice((0x03, 0x00)), 0]),
    6081: lambda rng: bytes([rng.getrandbits(6)]),
    6635: lambda rng: b"",
}
NOISE = 1000


@pytest.mark.parametrize("port", sorted(UDP_PORTS))
def test_udp_on_a_tunnel_port_that_is_not_the_tunnel_is_plain_udp(tmp_path: Path, port: int) -> None:
    """Datagrams of random bytes to or from a tunnel port (a client's port, a QUIC or DNS flow):
    plain UDP, never a phantom TCP packet, and at most a line or two of warnings."""
    rng = random.Random(port)
    conv = conversation()
    frames = list(conv.frames)
    for i in range(NOISE):
        payload = bytearray(rng.randbytes(rng.randrange(8, 160)))
        if i % 2:
            prefix = PLAUSIBLE[port](rng)
            payload[: len(prefix)] = prefix
        other = rng.randrange(1024, 65536)
        if other in UDP_PORTS:
            other += 1
        sport, dport = (port, other) if i % 4 < 2 else (other, port)
        frames.append(Frame(conv.frames[-1].ts_ns + i, over_udp(dport, bytes(payload), sport=sport)))
    path = tmp_path / "udp.pcap"
    path.write_bytes(pcap_bytes(frames))
    analysis = analyse(path)
    assert analysis.stats.tcp_packets == len(conv.frames)
    assert len(analysis.sessions) == 1
    assert set(analysis.stats.skipped) <= {"IP but not TCP", "encapsulation not decoded"}
    assert analysis.stats.skipped["IP but not TCP"] >= NOISE - 5
    assert len(analysis.stats.warnings()) <= 2
    assert _compare(path.read_bytes(), path.name) == len(conv.frames)


@pytest.mark.parametrize("name", sorted(n for n in CASES if "udp" in n or n.split("-")[0] in {
    "geneve", "gtp", "teredo", "vxlan", "l2tp", "ayiya", "capwap"}))  # fmt: skip
def test_a_well_known_port_is_not_a_tunnel(tmp_path: Path, name: str) -> None:
    """A tunnel's datagram from port 53: tshark takes it for DNS, so it is plain UDP."""
    wrap, v6 = CASES[name]
    frames = []
    for frame in conversation(**(V6 if v6 else {})).frames:
        data = wrap(frame.data[14:])
        ports = struct.unpack_from(">HH", data, 34)
        (tunnel_port,) = [p for p in ports if p in UDP_PORTS][:1]
        frames.append(Frame(frame.ts_ns, data[:34] + struct.pack(">HH", 53, tunnel_port) + data[38:]))
    path = tmp_path / "dns.pcap"
    path.write_bytes(pcap_bytes(frames))
    if TSHARK:
        tcp = subprocess.run(
            [TSHARK, "-r", str(path), "-Y", "tcp", "-T", "fields", "-e", "frame.number"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert tcp.split() == []
    assert analyse(path).stats.skipped == {"IP but not TCP": len(frames)}
    assert _compare(path.read_bytes(), path.name) == 0
