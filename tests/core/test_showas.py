"""The "Show data as" renderers: tshark's own output where tshark has the format, and every
format decodes back to the conversation's bytes.

Segment by segment (``showas.segments``), the hex dump, raw and YAML renderings
of clean sessions equal ``tshark -z follow,tcp,hex|raw|yaml`` byte for byte.
Turn by turn, each format is parsed back and must give the monologue's bytes
(and its first frame), and holes are named in line in every format.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.showas import ShowAs, decode, missing, render, segments, turns
from tests.core.test_walk import CAPTURE_FILES

TSHARK = shutil.which("tshark")
CLEAN = ("http_many.pcap", "http_keepalive.pcap", "chatter.pcap", "tls.pcap")


def _capture(name: str) -> Path:
    found = next((p for p in CAPTURE_FILES if p.name == name), None)
    if found is None:
        pytest.skip(f"{name} not available")
    return found


def _tshark_blocks(path: Path, mode: str, streams: list[int]) -> dict[int, str]:
    """tshark's follow output for each stream: the body after the Node lines."""
    args = [arg for n in streams for arg in ("-z", f"follow,tcp,{mode},{n}")]
    done = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-q", *args], capture_output=True, text=True, check=True
    )
    blocks = {}
    for block in done.stdout.split("===================================================================\n"):
        found = re.search(r"Filter: tcp\.stream eq (\d+)\nNode 0: .*\nNode 1: .*\n", block)
        if found:
            blocks[int(found.group(1))] = block[found.end() :]
    return blocks


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("name", CLEAN)
@pytest.mark.parametrize("mode", ["hex", "raw"])
def test_segments_render_as_tshark_follows_them(name: str, mode: str) -> None:
    path = _capture(name)
    with CaptureDocument(path, workers=1) as document:
        streams = list(range(min(len(document), 4)))
        expected = _tshark_blocks(path, mode, streams)
        how = ShowAs.HEX_DUMP if mode == "hex" else ShowAs.RAW
        for stream in streams:
            session = document.conversation(stream + 1)
            assert not any(session.gaps(d) for d in ("c2s", "s2c"))
            assert render(session, segments(session.monologues), how) == expected[stream], (name, stream)


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("name", CLEAN[:2])
def test_segments_in_yaml_are_tsharks_yaml(name: str) -> None:
    path = _capture(name)
    with CaptureDocument(path, workers=1) as document:
        session = document.conversation(1)
        done = subprocess.run(
            [TSHARK or "tshark", "-r", str(path), "-q", "-z", "follow,tcp,yaml,0"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert render(session, segments(session.monologues), ShowAs.YAML) == done.stdout


def _parse_hex_dump(text: str) -> dict[int, bytes]:
    """The bytes of each peer in a hex dump, checking that offsets run on per direction."""
    data = {0: b"", 1: b""}
    for line in text.splitlines():
        peer = 1 if line.startswith("\t") else 0
        body = line.lstrip("\t")
        if body.startswith("["):
            continue
        offset, rest = body[:8], body[10:]
        assert int(offset, 16) == len(data[peer])
        data[peer] += bytes.fromhex(rest[:49].replace("  ", " "))
    return data


def test_every_format_gives_back_the_bytes_of_each_turn() -> None:
    with CaptureDocument(_capture("http_keepalive.pcap"), workers=1) as document:
        session = document.conversation(1)
        chosen = turns(session.monologues)
        assert len(chosen) == len(session.monologues) > 2
        by_peer = {0: b"", 1: b""}
        for turn, monologue in zip(chosen, session.monologues, strict=True):
            assert turn.data == monologue.data() and turn.frame == monologue.frames[0]
            by_peer[turn.peer] += turn.data
        assert _parse_hex_dump(render(session, chosen, ShowAs.HEX_DUMP)) == by_peer
        raw = render(session, chosen, ShowAs.RAW).splitlines()
        assert [bytes.fromhex(line.strip()) for line in raw] == [t.data for t in chosen]
        arrays = re.findall(r"char peer(\d)_(\d+)\[\] = \{ /\* Packet (\d+) \*/\n(.*?)\};", render(
            session, chosen, ShowAs.C_ARRAYS), re.S)  # fmt: skip
        assert [bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", body)) for *_h, body in arrays] == [
            t.data for t in chosen
        ]
        assert [int(frame) for _p, _n, frame, _b in arrays] == [t.frame for t in chosen]
        yaml = render(session, chosen, ShowAs.YAML)
        blobs = re.findall(r"data: !!binary \|\n((?:      .*\n)*)", yaml)
        assert [base64.b64decode("".join(b.split())) for b in blobs] == [t.data for t in chosen]
        text = render(session, chosen, ShowAs.ASCII)
        assert text == "".join(
            decode(t.data, ShowAs.ASCII) + ("" if t.data.endswith(b"\n") else "\n") for t in chosen
        )


def test_decodings_show_what_cannot_be_shown_as_dots() -> None:
    data = bytes(range(256))
    ascii_text = decode(data, ShowAs.ASCII)
    assert (
        len(ascii_text) == 256
        and ascii_text[0x41] == "A"
        and ascii_text[0] == "."
        and ascii_text[0x0A] == "\n"
    )
    assert ascii_text[0x80] == "."
    assert decode(b"\xc1\xc2\x40\x25", ShowAs.EBCDIC) == "AB \n"  # cp037: A, B, space, newline
    assert decode("é€".encode("utf-16-le"), ShowAs.UTF16) == "é€"
    assert decode("é\x01".encode(), ShowAs.UTF8) == "é."
    assert decode(b"\xe9\x85", ShowAs.LATIN1) == "é."


def test_holes_are_named_in_line_in_every_format() -> None:
    with CaptureDocument(_capture("gaps.pcap"), workers=1) as document:
        session = next(s for s in document.conversations() if any(s.gaps(d) for d in ("c2s", "s2c")))
        gap = next(g for d in ("c2s", "s2c") for g in session.gaps(d) if g.length)
        chosen = turns(session.monologues)
        assert any(isinstance(p, int) for t in chosen for p in t.parts)
        words = missing(gap.length)
        for how in ShowAs:
            shown = render(session, chosen, how)
            if how is ShowAs.RAW:
                assert words.encode().hex() in shown
            elif how is ShowAs.YAML:
                assert "missing:" in shown
            else:
                assert words in shown, how


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_monoview_follow_prints_what_tshark_prints() -> None:
    from tests.core.test_cli import run

    path = _capture("http_keepalive.pcap")
    for ours, theirs in (("yaml", "yaml"), ("hex-dump", "hex"), ("raw", "raw")):
        done = run("follow", str(path), "2", "--show-as", ours, "--segments")
        assert done.returncode == 0, done.stderr
        tshark = subprocess.run(
            [TSHARK or "tshark", "-r", str(path), "-q", "-z", f"follow,tcp,{theirs},1"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        expected = tshark if ours == "yaml" else _tshark_blocks(path, theirs, [1])[1]
        assert done.stdout.decode() == expected, ours
    for choice in ("ascii", "utf-8", "latin-1", "utf-16", "ebcdic", "c-arrays"):
        assert run("follow", str(path), "1", "--show-as", choice).returncode == 0


def test_the_command_lines_name_every_format() -> None:
    """``follow --show-as`` and the window's ``--show-as`` take the formats' own names."""
    from monoview.cli.parser import SHOW_AS

    assert tuple(how.cli_name for how in ShowAs) == SHOW_AS
