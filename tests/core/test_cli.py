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


def test_follow_bytes_is_the_conversation() -> None:
    result = run("follow", str(CHATTER), "1", "--format", "bytes")
    assert result.returncode == 0
    assert len(result.stdout) == sum(m["len"] for m in ORACLE["streams"][0]["monologues"])


def test_follow_ascii_and_hex() -> None:
    ascii_out = run("follow", str(CHATTER), "1", "--monologues").stdout.decode("ascii")
    lengths = [int(line) for line in ascii_out.splitlines()[6:-1] if line.strip("\t").isdigit()]
    assert lengths[: len(ORACLE["streams"][0]["monologues"])] == [
        m["len"] for m in ORACLE["streams"][0]["monologues"]
    ]
    hex_out = run("follow", str(CHATTER), "1", "--format", "hex").stdout.decode("ascii")
    assert hex_out.splitlines()[6].startswith("00000000  ")


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


def test_bad_option_values_are_usage_errors() -> None:
    """A negative size or session id is refused with a usage line, not taken and acted on."""
    for words in (
        ["trace", str(CHATTER), "--max-session-size", "-5"],
        ["trace", str(CHATTER), "-v", "seven"],
        ["follow", str(CHATTER), "0"],
        ["export", str(CHATTER), "--out", "/nonexistent/never", "--session", "-1"],
    ):
        result = run(*words)
        assert result.returncode == 2, words
        last = result.stderr.decode().strip().splitlines()[-1]
        assert last.startswith("monoview ") and "error: argument" in last, last


def _many_sessions(path: Path, count: int) -> Path:
    """A capture of ``count`` small HTTP-like sessions: seconds of work, so it can be interrupted."""
    from tests.pcapgen import Conversation, write_pcap

    frames = []
    for n in range(count):
        conv = Conversation(
            client=(f"10.1.{n // 250}.{n % 250 + 1}", 40000 + n % 20000),
            start_ns=1_700_000_000_000_000_000 + n * 1_000_000,
        )
        conv.handshake().send(True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").send(
            False, b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + b"x" * 3000
        )
        frames.extend(conv.close().frames)
    frames.sort(key=lambda f: f.ts_ns)
    return write_pcap(path, frames)


def test_an_interrupt_is_a_quiet_exit_130(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group (the command and its workers): no traceback
    from anyone, and exit status 130, whatever the command was doing."""
    import os
    import signal
    import time

    capture = _many_sessions(tmp_path / "many.pcap", 3000)
    out = tmp_path / "out"
    for words, started in (
        (["export", str(capture), "--out", str(out), "--force"], lambda: out.exists() and any(out.iterdir())),
        (["trace", str(capture), "-v", "7"], lambda: (tmp_path / "stdout").stat().st_size > 0),
    ):
        with open(tmp_path / "stdout", "wb") as stdout:
            child = subprocess.Popen(
                [sys.executable, "-m", "monoview", *words], stdout=stdout, stderr=subprocess.PIPE,
                start_new_session=True,
                # a shell running a job in the background ignores SIGINT, and children inherit that
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while not started() and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert child.poll() is None, f"{words[0]} finished before it could be interrupted"
            os.killpg(child.pid, signal.SIGINT)
            _, stderr = child.communicate(timeout=60)
        assert child.returncode == 130, (words, stderr)
        assert stderr == b"", (words, stderr.decode())


def test_a_session_chosen_twice_is_exported_once(tmp_path: Path) -> None:
    """``--session 1 --session 1`` once aborted half-way on its own first file."""
    out = tmp_path / "out"
    result = run("export", str(CHATTER), "--out", str(out), "--session", "1", "--session", "1")
    assert result.returncode == 0, result.stderr
    assert len(json.loads((out / "manifest.json").read_text())["streams"]) == 1
