"""``monoview export --pcap``: the chosen sessions' packets written as a capture, untouched.

The references are independent of monoview: tshark picks the input's frames of the
chosen streams (``-Y tcp.stream in {...}``) and reads the output back (``-z conv,tcp``);
dpkt reads both files, so every written packet is compared byte for byte with the
input's; the reopened sessions' streams are compared with tshark's oracle hashes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest

from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.conftest import shared_capture
from tests.core.test_amsdu_fragments import fragmented_subframes, fragmented_tunnel
from tests.core.test_cli import run
from tests.core.test_fragments import fragmented_capture
from tests.core.test_nested_fragments import nested_fragments
from tests.core.test_tunnel_fragments import fragmented
from tests.encapgen import ENCAPSULATIONS
from tests.pcapgen import Conversation, Frame, pcapng_bytes, tcp_ip

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")


def _packets(path: Path) -> list[bytes]:
    """Every packet's bytes, as dpkt reads the file (pcap or pcapng)."""
    with path.open("rb") as f:
        return [bytes(data) for _ts, data in dpkt.pcap.UniversalReader(f)]


def _format(path: Path) -> str:
    return "pcapng" if path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"


def _tshark_frames(path: Path, streams: list[int]) -> list[int]:
    wanted = "tcp.stream in {" + ", ".join(map(str, streams)) + "}"
    done = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-Y", wanted, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(line) for line in done.stdout.split()]


def _conversations(path: Path) -> set[frozenset[str]]:
    done = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-q", "-z", "conv,tcp"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        frozenset((line.split()[0], line.split()[2])) for line in done.stdout.splitlines() if "<->" in line
    }


def _check(source: str, streams: list[int], out: Path, selector: list[str]) -> None:
    """Export ``streams`` of ``source`` to ``out``; then compare packets, streams and tshark's view."""
    path = shared_capture(source)
    done = run("export", str(path), "--pcap", str(out), *selector)
    assert done.returncode == 0, done.stderr
    expected_format = "pcapng" if out.suffix == ".pcapng" else "pcap"
    assert _format(out) == expected_format
    frames = _tshark_frames(path, streams)
    original = _packets(path)
    assert _packets(out) == [original[f - 1] for f in frames]  # those frames, untouched, nothing else
    oracle = json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".oracle.json").read_text())
    chosen = [s for s in oracle["streams"] if s["tshark_stream"] in streams]
    ends = {frozenset(f"{e['ip']}:{e['port']}" for e in (s["client"], s["server"])) for s in chosen}
    assert {frozenset(e.replace("[", "").replace("]", "") for e in c) for c in _conversations(out)} == ends
    with CaptureDocument(out, workers=1) as document:
        assert len(document) == len(chosen)
        for session, stream in zip(document.conversations(), chosen, strict=True):
            for direction in ("c2s", "s2c"):
                data = direction_bytes(session, direction)
                assert hashlib.sha256(data).hexdigest() == stream[direction]["sha256"], (stream, direction)


@needs_tshark
def test_pcap_sessions_as_pcap(tmp_path: Path) -> None:
    _check("lab/http_many.pcap", [2, 4], tmp_path / "two.pcap", ["--session", "3", "--session", "5"])


@needs_tshark
def test_pcapng_stream_as_pcapng_keeps_its_interfaces(tmp_path: Path) -> None:
    _check("lab/pcapng_mixed.pcapng", [1], tmp_path / "one.pcapng", ["--stream", "1"])


@needs_tshark
def test_pcap_as_pcapng_and_pcapng_as_pcap(tmp_path: Path) -> None:
    _check("lab/reuse.pcap", [1], tmp_path / "second.pcapng", ["--stream", "1"])
    _check("lab/pcapng_mixed.pcapng", [0, 1], tmp_path / "both.pcap", ["--session", "1", "--session", "2"])


@needs_tshark
def test_vlan_sessions_by_endpoints(tmp_path: Path) -> None:
    path = shared_capture("lab/vlan.pcap")
    with CaptureDocument(path, workers=1) as document:
        first = document.session(1)
        pair = f"{first.server},{first.client}"
    _check("lab/vlan.pcap", [0], tmp_path / "v.pcap", ["--endpoints", pair])


def _two_link_types(tmp: Path) -> Path:
    """A pcapng with an Ethernet interface and a raw-IP one (link type 101), a session on each."""
    ether = Conversation().handshake().send(True, b"GET / HTTP/1.0\r\n\r\n").close()
    raw = Conversation(client=("10.0.0.3", 41000), server=("10.0.0.4", 80), start_ns=ether.start_ns + 10**6)
    raw_frames = [
        Frame(ether.start_ns + 10**6, tcp_ip(raw.client, raw.server, raw.client_isn, 0, 0x02), None, 1)
    ]
    path = tmp / "two-links.pcapng"
    path.write_bytes(pcapng_bytes([([(1, 6), (101, 9)], [*ether.frames, *raw_frames])]))
    return path


def test_a_pcap_of_several_link_types_is_refused(tmp_path: Path) -> None:
    path = _two_link_types(tmp_path)
    out = tmp_path / "out.pcap"
    done = run("export", str(path), "--pcap", str(out))
    assert done.returncode == 1 and not out.exists()
    assert b"several link types (1, 101)" in done.stderr and len(done.stderr.splitlines()) == 1
    kept = tmp_path / "out.pcapng"
    assert run("export", str(path), "--pcap", str(kept)).returncode == 0
    assert _packets(kept) == _packets(path)
    one = tmp_path / "one.pcap"  # one session, one link type: a pcap is fine
    assert run("export", str(path), "--pcap", str(one), "--session", "2").returncode == 0
    assert _packets(one) == _packets(path)[-1:]


def test_fragments_come_with_their_segment(tmp_path: Path) -> None:
    path, _pieces = fragmented_capture(tmp_path, v6=False, shuffle=False)
    out = tmp_path / "frag-out.pcap"
    assert run("export", str(path), "--pcap", str(out), "--session", "1").returncode == 0
    assert _packets(out) == _packets(path)
    with CaptureDocument(path, workers=1) as before, CaptureDocument(out, workers=1) as after:
        for direction in ("c2s", "s2c"):
            assert direction_bytes(after.conversation(1), direction) == direction_bytes(
                before.conversation(1), direction
            )


def test_export_refuses_an_existing_file_and_needs_a_target(tmp_path: Path) -> None:
    path = shared_capture("lab/reuse.pcap")
    out = tmp_path / "x.pcap"
    out.write_bytes(b"keep")
    done = run("export", str(path), "--pcap", str(out))
    assert done.returncode == 1 and out.read_bytes() == b"keep"
    assert run("export", str(path), "--pcap", str(out), "--force").returncode == 0
    assert run("export", str(path)).returncode == 2
    assert run("export", str(path), "--pcap", str(out), "--force", "--stream", "9").returncode == 2


def _tshark_depends(path: Path, stream: int, out: Path) -> list[bytes]:
    """What tshark's two passes write for one stream: its frames and those they depend on."""
    subprocess.run(
        [TSHARK or "tshark", "-2", "-r", str(path), "-Y", f"tcp.stream == {stream}", "-w", str(out)],
        capture_output=True,
        check=True,
    )
    return _packets(out)


FRAGMENT_CAPTURES: dict[str, Callable[[Path], Path]] = {
    "gtp-u in 24-byte fragments": lambda tmp: fragmented(tmp, ENCAPSULATIONS["gtp-u"]),
    "A-MSDU in fragmented Aruba GRE": lambda tmp: fragmented_tunnel(tmp, 64, False)[0],
    "A-MSDU of fragments": lambda tmp: fragmented_subframes(tmp, "ieee802_11")[0],
    "fragments in fragmented GTP-U": lambda tmp: _written(tmp / "nested.pcap", nested_fragments("gtp-u")),
}


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(FRAGMENT_CAPTURES))
def test_every_fragment_of_a_completed_datagram_is_written(tmp_path: Path, case: str) -> None:
    """A frame that completed datagrams brings every fragment of each, those holding only
    headers (a tunnel's, the TCP header's) too: before, only the fragments with payload
    bytes of the session's packets came, and the export could not be read back (the GTP-U
    capture's session was lost: 22 of its 57 frames were written).  The export reopens with
    the session's bytes; tshark's two-pass export of the stream writes the same frames (its
    "depends on"), where it has no other reason to add one (the note below)."""
    path = FRAGMENT_CAPTURES[case](tmp_path)
    with CaptureDocument(path, workers=1) as document:
        expected = [
            (s.client, direction_bytes(s, "c2s"), direction_bytes(s, "s2c")) for s in document.conversations()
        ]
    for stream, (client, c2s, s2c) in enumerate(expected):
        out = tmp_path / f"stream{stream}.pcap"
        done = run("export", str(path), "--pcap", str(out), "--stream", str(stream))
        assert done.returncode == 0, done.stderr
        with CaptureDocument(out, workers=1) as exported:
            again = next(s for s in exported.conversations() if s.client == client)
            assert (direction_bytes(again, "c2s"), direction_bytes(again, "s2c")) == (c2s, s2c)
        # In the Aruba capture, frame 28 holds a packet of each stream; the one of stream 0
        # completes an HTTP response, and tshark's export of stream 1 also writes frame 24,
        # which holds an earlier segment of that response (its TCP reassembly's "depends
        # on", not IP's).
        # With fragments in fragmented GTP-U, tshark writes the fragments of the outer datagram
        # that completed an inner one, and the frames that completed the outer datagrams of the
        # inner fragments, not their other fragments ("depends on" is not followed further):
        # its export reopens with 8 of the stream's 13 packets.  monoview writes those too.
        if TSHARK and case == "fragments in fragmented GTP-U":
            tshark = _tshark_depends(path, stream, tmp_path / f"tshark{stream}.pcap")
            ours = _packets(out)
            assert set(tshark) < set(ours)
            assert sorted(tshark, key=ours.index) == tshark
        elif TSHARK and (case, stream) != ("A-MSDU in fragmented Aruba GRE", 1):
            assert _packets(out) == _tshark_depends(path, stream, tmp_path / f"tshark{stream}.pcap")
