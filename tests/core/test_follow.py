"""``monoview follow`` against tshark's ``-z follow,tcp``, run here on the shared captures.

tshark is the reference: its stream numbers per frame (``-T fields -e tcp.stream``) and
its follow output in each mode.  Gap markers are compared apart: tshark marks a hole only
where the peer acknowledged bytes it never saw, and prints its marker entry in YAML with
the frame where it noticed; monoview marks every hole (bytes cut by the snap length too).
So the raw lines and YAML entries that are markers are taken out of both sides first,
and the hex dump and ascii (whose offsets and lengths count the markers) are compared
whole on the captures without snap-length holes.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.cli import parser
from monoview.core.document import CaptureDocument
from monoview.core.flows.tcpstream import tcp_streams
from monoview.core.follow import FOLLOW_FORMATS, address_filter, by_stream, follow_text, parse_pair
from tests.conftest import CAPTURES, shared_capture
from tests.core.test_cli import run

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
LAB = sorted(p.name for p in (CAPTURES / "lab").glob("*.pcap*")) if (CAPTURES / "lab").exists() else []
EVERY = sorted(f"{p.parent.name}/{p.name}" for p in CAPTURES.glob("*/*.pcap*")) if CAPTURES.exists() else []
# Captures where tshark and monoview cut streams differently, or a 4-tuple is used twice.
ODD = ("wild/tcpflow_test5-lines-randomized.pcap", "wild/zeek_vlan-collisions.pcap", "lab/reuse.pcap")
MARKER = re.compile(rb"^\[\d+ bytes missing in capture file\]\x00?$")
SEPARATOR = "=" * 67 + "\n"


def _tshark(path: Path, *args: str) -> str:
    done = subprocess.run([TSHARK or "tshark", "-r", str(path), *args], capture_output=True, check=True)
    return done.stdout.decode("utf-8", errors="surrogateescape")


def _tshark_streams(path: Path) -> dict[int, int]:
    """tshark's tcp.stream of every frame that has exactly one, but ICMP errors quoting a
    segment (tshark gives them the stream; they are no packet of it).  A damaged capture:
    what tshark read before the damage."""
    fields = ("-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "frame.protocols")
    done = subprocess.run([TSHARK or "tshark", "-r", str(path), *fields], capture_output=True, text=True)
    assert done.returncode == 0 or (done.returncode == 2 and done.stdout), done.stderr
    out = {}
    for line in done.stdout.splitlines():
        frame, stream, protocols = line.split("\t")
        if stream.isdigit() and "icmp" not in protocols.split(":"):
            out[int(frame)] = int(stream)
    return out


def _blocks(text: str) -> dict[int, str]:
    """tshark's (or monoview's) ``===`` blocks by their stream number, each whole."""
    out = {}
    for block in re.findall(f"\n{SEPARATOR}Follow: .*?\n{SEPARATOR}", text, re.S):
        found = re.search(r"^Filter: tcp\.stream eq (\d+)$", block, re.M)
        assert found, block[:200]
        out[int(found.group(1))] = block
    return out


def _raw_without_markers(text: str) -> list[str]:
    def marker(line: str) -> bool:
        hexed = line.strip("\t")
        return bool(re.fullmatch("(?:[0-9a-f]{2})+", hexed)) and bool(MARKER.match(bytes.fromhex(hexed)))

    return [line for line in text.splitlines() if not marker(line)]


def _yaml_without_markers(text: str) -> str:
    entries = text.split("  - packet: ")
    kept = [e for e in entries[1:] if not MARKER.match(base64.b64decode(e.split("!!binary |\n", 1)[1]))]
    return "  - packet: ".join([entries[0], *kept])


def test_formats_agree_with_the_command_line() -> None:
    assert set(parser.FOLLOW_FORMATS) == {*FOLLOW_FORMATS, "bytes"}


@needs_tshark
@pytest.mark.parametrize("name", EVERY)
def test_stream_numbers_are_tsharks(name: str) -> None:
    path = shared_capture(name)
    expected = _tshark_streams(path)
    with CaptureDocument(path, workers=1) as document:
        streams = tcp_streams(document.parts, document.flows, document.rows)
        got = dict(zip(streams.frame.tolist(), streams.stream.tolist(), strict=True))
        assert {f: got.get(f) for f in expected} == expected
        assert streams.count == len(set(expected.values()))


@needs_tshark
def test_a_stream_monoview_splits_or_merges_is_said_so() -> None:
    with CaptureDocument(shared_capture(ODD[0]), workers=1) as document:
        streams = tcp_streams(document.parts, document.flows, document.rows)
        assert streams.streams_of(1) == [0, 1]  # tshark restarts at the late SYN; monoview does not
        chosen = by_stream(streams, 1, document.name)
        assert chosen.session_id == 1 and chosen.note and "holds streams 0 and 1" in chosen.note
    done = run("follow", str(shared_capture(ODD[1])), "--stream", "0")
    assert done.returncode == 2 and b"sessions 1, 2 and 3" in done.stderr  # one stream, three VLANs


@needs_tshark
@pytest.mark.parametrize("name", LAB)
def test_follow_prints_what_tshark_prints(name: str) -> None:
    path = shared_capture(f"lab/{name}")
    with CaptureDocument(path, workers=1) as document:
        streams = tcp_streams(document.parts, document.flows, document.rows)
        numbers = list(range(min(streams.count, 4)))
        snaplen_holes = any(document.session(i).row["truncated"] for i in range(1, len(document) + 1))
        for fmt in ("raw", "hex", "ascii"):
            theirs = _blocks(
                _tshark(path, "-q", *(a for n in numbers for a in ("-z", f"follow,tcp,{fmt},{n}")))
            )
            for n in numbers:
                chosen = by_stream(streams, n, document.name)
                ours = follow_text(document.conversation(chosen.session_id), fmt, chosen.filter)
                if fmt == "raw":
                    assert _raw_without_markers(ours) == _raw_without_markers(theirs[n]), (n, fmt)
                elif not snaplen_holes:
                    assert ours == theirs[n], (n, fmt)
        for n in numbers[:2]:
            chosen = by_stream(streams, n, document.name)
            ours = follow_text(document.conversation(chosen.session_id), "yaml", chosen.filter)
            theirs_yaml = _tshark(path, "-q", "-z", f"follow,tcp,yaml,{n}")
            assert _yaml_without_markers(ours) == _yaml_without_markers(theirs_yaml), n


@needs_tshark
def test_every_selector_prints_tsharks_block() -> None:
    path = shared_capture("lab/http_keepalive.pcap")
    by_number = run("follow", str(path), "--stream", "1", "--format", "raw")
    assert by_number.returncode == 0, by_number.stderr
    assert by_number.stdout.decode() == _tshark(path, "-q", "-z", "follow,tcp,raw,1")
    node0 = re.search(r"Node 0: (.*)\nNode 1: (.*)\n", by_number.stdout.decode())
    assert node0
    for pair in (f"{node0[2]},{node0[1]}", f"{node0[1]},{node0[2]}"):
        done = run("follow", str(path), pair, "--format", "hex")
        assert done.stdout.decode() == _tshark(path, "-q", "-z", f"follow,tcp,hex,{pair}"), pair
    by_id = run("follow", str(path), "2", "--format", "ascii")
    assert by_id.stdout.decode() == _tshark(path, "-q", "-z", "follow,tcp,ascii,1")


@needs_tshark
def test_an_ipv6_pair_prints_tsharks_block() -> None:
    path = shared_capture("lab/bulk_v6.pcap")
    nodes = re.findall(r"Node \d: (.*)\n", _tshark(path, "-q", "-z", "follow,tcp,raw,0"))
    pair = f"{nodes[1]},{nodes[0]}"
    done = run("follow", str(path), pair, "--format", "raw")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == _tshark(path, "-q", "-z", f"follow,tcp,raw,{pair}")


def test_pairs_parse_and_name_tsharks_filter() -> None:
    a, b = parse_pair("[fd00:200::1]:54536,10.0.0.2:80")
    assert (len(a.ip), a.port, len(b.ip), b.port) == (16, 54536, 4, 80)
    assert address_filter(*parse_pair("10.0.0.1:1,10.0.0.2:2")) == (
        "((ip.src eq 10.0.0.1 and tcp.srcport eq 1) and (ip.dst eq 10.0.0.2 and tcp.dstport eq 2)) or "
        "((ip.src eq 10.0.0.2 and tcp.srcport eq 2) and (ip.dst eq 10.0.0.1 and tcp.dstport eq 1))"
    )
    for bad in ("10.0.0.1:1", "fd00::1:80,10.0.0.2:2", "10.0.0.1:99999,10.0.0.2:2", "x:1,10.0.0.2:2"):
        with pytest.raises(ValueError, match="not|IPv6"):
            parse_pair(bad)


def test_bad_selections_are_usage_errors(tmp_path: Path) -> None:
    from tests.core.test_cli import CHATTER

    for args in (["--stream", "5"], ["1", "--stream", "0"], [], ["10.9.9.9:1,10.9.9.8:2"], ["x"]):
        done = run("follow", str(CHATTER), *args)
        assert done.returncode == 2 and b"Traceback" not in done.stderr, args
    assert run("follow", str(CHATTER), "--stream", "0", "--format", "c-array").stdout.count(b"char peer") > 1
