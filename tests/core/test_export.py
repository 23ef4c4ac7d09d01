"""Export: files per direction, per monologue and a transcript; formats, gap
policies, safe names, no overwrite without force, and the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.errors import ExportError
from monoview.core.export import Exporter, ExportOptions, Format, session_folder
from monoview.core.paths import safe_name
from monoview.core.render import escape_text, hexdump
from monoview.core.streambytes import GapPolicy, marker
from tests.conformance import load_compare
from tests.conftest import DATA
from tests.pcapgen import Conversation, write_pcap

ORACLE = json.loads((DATA / "chatter.oracle.json").read_text())


def gappy(tmp: Path) -> Path:
    """Client sends 'hello ' then a lost 'brave ' then 'world'; the server ACKs all."""
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"hello ")
    conv.segment(True, 12, b"world")
    conv.c_next += 17
    conv.ack(False)
    conv.send(False, b"ok")
    conv.close()
    return write_pcap(tmp / "gappy.pcap", conv.frames)


def test_raw_export_matches_the_oracle(tmp_path: Path) -> None:
    analysis = analyse(DATA / "chatter.pcap")
    manifest = Exporter(analysis, tmp_path, ExportOptions()).export()
    assert load_compare().compare(ORACLE, manifest) == []
    stream = manifest["streams"][0]
    for d in ("c2s", "s2c"):
        data = (tmp_path / stream[d]["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == ORACLE["streams"][0][d]["sha256"]
    for mine, theirs in zip(stream["monologues"], ORACLE["streams"][0]["monologues"], strict=True):
        data = (tmp_path / mine["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == theirs["sha256"]
    assert not list(tmp_path.rglob(".part-*"))


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (GapPolicy.OMIT, b"hello world"),
        (GapPolicy.ZERO, b"hello " + bytes(6) + b"world"),
        (GapPolicy.MARKER, b"hello " + marker(6) + b"world"),
    ],
)
def test_gap_policies(tmp_path: Path, policy: GapPolicy, expected: bytes) -> None:
    analysis = analyse(gappy(tmp_path))
    manifest = Exporter(analysis, tmp_path / "out", ExportOptions(gaps=policy)).export()
    stream = manifest["streams"][0]
    assert (tmp_path / "out" / stream["c2s"]["file"]).read_bytes() == expected
    (gap,) = stream["c2s"]["gaps"]
    assert gap["missing"] == 6 and gap["offset"] == 6 and gap["acked"] and gap["cause"] == "not captured"
    assert stream["missing_data"] is True
    mono = stream["monologues"][0]
    assert (tmp_path / "out" / mono["file"]).read_bytes() == expected
    assert stream["monologues"][1]["offset"] == 0


def test_formats(tmp_path: Path) -> None:
    analysis = analyse(gappy(tmp_path))
    hex_manifest = Exporter(analysis, tmp_path / "hex", ExportOptions(fmt=Format.HEX)).export()
    text_manifest = Exporter(analysis, tmp_path / "text", ExportOptions(fmt=Format.TEXT)).export()
    hex_file = tmp_path / "hex" / hex_manifest["streams"][0]["c2s"]["file"]
    text_file = tmp_path / "text" / text_manifest["streams"][0]["c2s"]["file"]
    assert hex_file.read_text() == hexdump(b"hello world")
    assert text_file.read_text() == escape_text(b"hello world")
    assert hex_file.suffix == ".hex" and text_file.suffix == ".txt"


def test_transcript_has_headers_in_order(tmp_path: Path) -> None:
    analysis = analyse(gappy(tmp_path))
    manifest = Exporter(analysis, tmp_path, ExportOptions(fmt=Format.TEXT, gaps=GapPolicy.MARKER)).export()
    text = (tmp_path / manifest["streams"][0]["transcript"]).read_text()
    headers = [line for line in text.splitlines() if line.startswith("=== ")]
    assert len(headers) == 2
    assert "#0 c2s 10.0.0.1:40000 -> 10.0.0.2:80" in headers[0] and "6 bytes missing" in headers[0]
    assert "#1 s2c 10.0.0.2:80 -> 10.0.0.1:40000" in headers[1] and ", +" in headers[1]
    assert "hello [6 bytes missing]world" in text


def test_no_overwrite_without_force(tmp_path: Path) -> None:
    analysis = analyse(gappy(tmp_path))
    Exporter(analysis, tmp_path / "o", ExportOptions()).export()
    with pytest.raises(ExportError, match="exists"):
        Exporter(analysis, tmp_path / "o", ExportOptions()).export()
    Exporter(analysis, tmp_path / "o", ExportOptions(force=True)).export()


def test_selection_and_manifest_fields(tmp_path: Path) -> None:
    analysis = analyse(DATA / "chatter.pcap")
    manifest = Exporter(analysis, tmp_path, ExportOptions()).export(sessions=[analysis.session(1)])
    assert manifest["capture"]["file"] == "chatter.pcap"
    assert manifest["capture"]["sha256"] == ORACLE["capture"]["sha256"]
    assert manifest["capture"]["read_error"] is None
    stream = manifest["streams"][0]
    for key in (
        "id",
        "client",
        "server",
        "client_basis",
        "first_ts",
        "first_ts_f",
        "last_ts_f",
        "packets",
        "state",
    ):
        assert key in stream
    assert stream["first_ts"] == ORACLE["streams"][0]["first_ts"]  # nanosecond digits kept
    mono = stream["monologues"][0]
    for key in ("dir", "offset", "len", "sha256", "first_ts_f", "last_ts_f", "packets", "file", "frames"):
        assert key in mono


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s00001_10.0.0.1:40000_10.0.0.2:80", "s00001_10.0.0.1_40000_10.0.0.2_80"),
        ("[fd00::1]:80", "fd00_1_80"),
        ("../../etc/passwd", "etc_passwd"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("...", "_"),
        ("a" * 300, "a" * 120),
    ],
)
def test_safe_names(text: str, expected: str) -> None:
    assert safe_name(text) == expected


def test_ipv6_session_folder_is_portable(tmp_path: Path) -> None:
    conv = Conversation(client=("fd00::1", 40000), server=("fd00::2", 80))
    conv.handshake().send(True, b"x").close()
    (session,) = analyse(write_pcap(tmp_path / "v6.pcap", conv.frames)).sessions
    folder = session_folder(session)
    assert all(c.isalnum() or c in "._+-" for c in folder)


def test_transcript_shows_leading_and_trailing_gaps(tmp_path: Path) -> None:
    """A monologue that starts after lost bytes shows the marker first; bytes lost after
    a direction's last captured byte get a line of their own at the end."""
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"hello ")
    conv.c_next += 6
    conv.send(False, b"ok")
    conv.segment(True, 12, b"world")  # 'brave ' (6 bytes) was never captured
    conv.c_next += 11
    conv.ack(False)
    conv.s_next += 5  # the server's 'later' was lost before the capture point...
    conv.ack(True)  # ...but the client acknowledged it
    (session,) = analyse(write_pcap(tmp_path / "t.pcap", conv.frames)).sessions
    options = ExportOptions(fmt=Format.TEXT, gaps=GapPolicy.MARKER, directions=False, monologues=False)
    manifest = Exporter(analyse(tmp_path / "t.pcap"), tmp_path / "o", options).export()
    text = (tmp_path / "o" / manifest["streams"][0]["transcript"]).read_text()
    assert "\n[6 bytes missing]world" in text
    assert text.rstrip().endswith(
        "=== s2c: 5 bytes missing after the last captured byte "
        "(acknowledged by the receiver) ===\n[5 bytes missing]".rstrip()
    )
    assert [g.length for g in session.gaps("s2c")] == [5]
