"""The headless command line, run as a user would: ``python -m monoview ...``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conformance import load_compare
from tests.conftest import DATA

CHATTER = DATA / "chatter.pcap"
ORACLE = json.loads((DATA / "chatter.oracle.json").read_text())


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "monoview", *args], capture_output=True, timeout=120)


def test_sessions_table() -> None:
    result = run("sessions", str(CHATTER))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert lines[0].split()[:3] == ["id", "client", "server"]
    assert len(lines) == 1 + len(ORACLE["streams"])
    client = ORACLE["streams"][0]["client"]
    assert f"{client['ip']}:{client['port']}" in lines[1]


def test_sessions_json() -> None:
    result = run("sessions", str(CHATTER), "--json")
    doc = json.loads(result.stdout)
    (session,) = doc["sessions"]
    assert session["packets"] == ORACLE["streams"][0]["packets"]
    assert session["c2s_bytes"] == ORACLE["streams"][0]["c2s"]["len"]
    assert session["s2c_bytes"] == ORACLE["streams"][0]["s2c"]["len"]


def test_follow_raw_is_the_conversation() -> None:
    result = run("follow", str(CHATTER), "1", "--format", "raw")
    assert result.returncode == 0
    assert len(result.stdout) == sum(m["len"] for m in ORACLE["streams"][0]["monologues"])


def test_follow_ascii_and_hex() -> None:
    ascii_out = run("follow", str(CHATTER), "1").stdout.decode("ascii")
    assert ascii_out.count("=== ") == len(ORACLE["streams"][0]["monologues"])
    hex_out = run("follow", str(CHATTER), "1", "--format", "hex").stdout.decode("ascii")
    assert hex_out.splitlines()[1].startswith("00000000  ")


def test_follow_unknown_session() -> None:
    result = run("follow", str(CHATTER), "7")
    assert result.returncode == 2
    assert b"has no session 7" in result.stderr and b"Traceback" not in result.stderr


def test_export_manifest_is_a_compare_candidate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("export", str(CHATTER), "--out", str(out))
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert load_compare().compare(ORACLE, manifest) == []
    again = run("export", str(CHATTER), "--out", str(out))
    assert again.returncode == 1 and b"--force" in again.stderr
    assert run("export", str(CHATTER), "--out", str(out), "--force").returncode == 0


def test_trace_prints_events() -> None:
    result = run("trace", str(CHATTER), "-v", "0x04")
    lines = result.stdout.decode().splitlines()
    assert [line.split()[1:3] for line in lines] == [["session", "start:"], ["session", "end:"]]


def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """A full disk behind the standard output (``/dev/full``), or no standard output at all."""
    import os

    import pytest

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    for words in (["sessions"], ["sessions", "--json"], ["http"], ["trace", "-v", "7"]):
        with open("/dev/full", "wb") as full:
            result = subprocess.run(
                [sys.executable, "-m", "monoview", *words, str(CHATTER)], stdout=full, stderr=subprocess.PIPE,
                timeout=120,
            )  # fmt: skip
        assert result.returncode == 1, words
        assert result.stderr.decode().strip() == "monoview: cannot write the output: No space left on device"
    closed = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", str(CHATTER)], stdout=None, stderr=subprocess.PIPE,
        timeout=120, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert closed.returncode == 1
    assert closed.stderr.decode().strip() == "monoview: the standard output is closed"
