"""SIGTERM, SIGHUP and SIGINT end ``monoview`` quietly, with 128 + the signal as its exit
status, and leave no temporary file behind (issue 10).

The capture comes through a named pipe called ``capture.pcap.gz`` (or standard
input), of which the test writes only the first part and then holds the pipe
open: monoview is then certainly in the middle of decompressing it into its
temporary copy when the signal comes, whatever the machine's load.  Nothing
depends on how long anything takes.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monoview.core.atomic import PART_SUFFIX, AtomicWriter
from monoview.core.terminate import Terminated, raise_on_termination, remove_tracked, tracked
from tests.conftest import DATA, REPO

SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
WAIT_S = 60  # only a bound on a wait that ends as soon as the condition holds


def _interruptible() -> None:
    """In the child, before exec: SIGINT to its default, so that Python turns it into
    KeyboardInterrupt.  A test run started in the background of a shell without job control
    inherits SIGINT ignored, and Python (as monoview, rightly) keeps an inherited SIG_IGN: the
    child would never see the signal the test sends, and the test would wait its minute."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], tmp: Path, stdin: int | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "monoview", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=_interruptible,  # the test process runs no threads that could hold a lock
    )


def _copy_appears(tmp: Path, proc: subprocess.Popen[bytes]) -> None:
    """Wait until the temporary copy exists (or the process ended).  (Its bytes may not have
    come yet: the copy is read a MiB at a time, and a pipe's read waits for the whole MiB.)"""
    import time

    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if any(f.is_file() for f in tmp.glob("monoview-*/*")):
            return
        time.sleep(0.02)
    raise AssertionError(f"no temporary copy appeared (exit {proc.poll()})")


def _half_of_compressed() -> bytes:
    data = gzip.compress((DATA / "chatter.pcap").read_bytes(), compresslevel=1)
    return data[: len(data) // 2]


@pytest.fixture
def tmpdir_for_monoview(tmp_path: Path) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("signum", SIGNALS, ids=[s.name for s in SIGNALS])
def test_a_signal_while_a_gzip_capture_is_decompressed(
    tmp_path: Path, tmpdir_for_monoview: Path, signum: signal.Signals
) -> None:
    fifo = tmp_path / "capture.pcap.gz"
    os.mkfifo(fifo)
    proc = _start(["sessions", str(fifo)], tmpdir_for_monoview)
    writer = os.open(fifo, os.O_WRONLY)  # meets monoview's open for reading
    try:
        os.write(writer, _half_of_compressed())
        _copy_appears(tmpdir_for_monoview, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=WAIT_S)
    finally:
        os.close(writer)
    assert proc.returncode == 128 + signum, err
    assert err == b""  # quietly: no traceback, no message
    assert list(tmpdir_for_monoview.iterdir()) == []


def test_sigterm_while_standard_input_is_copied(tmpdir_for_monoview: Path) -> None:
    proc = _start(["sessions", "-"], tmpdir_for_monoview, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    data = (DATA / "chatter.pcap").read_bytes()
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()
    _copy_appears(tmpdir_for_monoview, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 128 + signal.SIGTERM
    assert err == b""
    assert list(tmpdir_for_monoview.iterdir()) == []


@pytest.fixture
def handlers() -> Iterator[None]:
    """SIGTERM raising Terminated in this (test) process, as in the command line, then the
    handlers as they were."""
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    raise_on_termination()
    yield
    for s, handler in before.items():
        signal.signal(s, handler)


def test_an_export_file_interrupted_by_sigterm_leaves_no_part_file(tmp_path: Path, handlers: None) -> None:
    """A forced export writes over an existing file through a temporary sibling: SIGTERM in the
    middle removes the sibling and leaves the old file as it was."""
    target = tmp_path / "out" / "c2s.raw"
    target.parent.mkdir()
    target.write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"x" * 100_000
        os.kill(os.getpid(), signal.SIGTERM)
        yield b"y" * 100_000  # the handler raises before this

    with pytest.raises(Terminated) as ended:
        AtomicWriter(tmp_path / "out", "c2s.raw", force=True).write(chunks())
    assert ended.value.status == 128 + signal.SIGTERM
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["c2s.raw"]
    assert not list(tmp_path.rglob(f"*{PART_SUFFIX}"))


def test_tracked_folders_are_removed_by_the_last_net(tmp_path: Path) -> None:
    folder = tmp_path / "monoview-index-x"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "rows.npy").write_bytes(b"1")
    tracked(str(folder))
    remove_tracked()
    assert not folder.exists()
