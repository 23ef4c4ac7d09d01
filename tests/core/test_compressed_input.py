"""Compressed captures and pipes are read as the plain file would be (issues 8, 12).

They are decompressed into a temporary copy (``capture/unpacked.py``) that is
removed once the document is closed, also by the command line's fast exit.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import zstandard

from monoview.core.document import CaptureDocument
from monoview.core.errors import Cancelled, CaptureFormatError, MonoviewError
from monoview.core.export import Exporter, ExportOptions
from tests.conftest import DATA

CAPTURE = DATA / "chatter.pcap"
PACKERS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _cli(*args: str, tmp: Path, stdin: object = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-m", "monoview", *args], capture_output=True, timeout=120, env=env, stdin=stdin
    )


def _copies(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("monoview-*"))


@pytest.mark.parametrize("suffix", sorted(PACKERS))
def test_a_compressed_capture_exports_the_plain_files_manifest(tmp_path: Path, suffix: str) -> None:
    packed = tmp_path / f"chatter.pcap{suffix}"
    packed.write_bytes(PACKERS[suffix](CAPTURE.read_bytes()))
    Exporter(CaptureDocument(CAPTURE, workers=1), tmp_path / "plain", ExportOptions(), workers=1).export()
    with CaptureDocument(packed, workers=1) as document:
        assert document.name == "chatter.pcap"  # the name messages and the manifest give
        Exporter(document, tmp_path / "packed", ExportOptions(), workers=1).export()
        copy = document.path
        assert copy.exists() and copy != packed
    assert not copy.exists()  # removed with the document
    plain = (tmp_path / "plain" / "manifest.json").read_bytes()
    assert (tmp_path / "packed" / "manifest.json").read_bytes() == plain


def test_a_pipe_and_standard_input_list_what_the_file_lists(tmp_path: Path) -> None:
    expected = _cli("sessions", "--json", str(CAPTURE), tmp=tmp_path)
    assert expected.returncode == 0
    with CAPTURE.open("rb") as stdin:
        from_stdin = _cli("sessions", "--json", "-", tmp=tmp_path, stdin=stdin)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(
        target=lambda: fifo.write_bytes(gzip.compress(CAPTURE.read_bytes())), daemon=True
    )
    feeder.start()
    from_fifo = _cli("sessions", "--json", str(fifo), tmp=tmp_path)
    feeder.join(timeout=60)
    # the same sessions; only the capture's name differs
    for got, name in ((from_stdin, "stdin"), (from_fifo, "fifo")):
        assert got.returncode == 0, got.stderr
        assert got.stdout == expected.stdout.replace(b'"chatter.pcap"', f'"{name}"'.encode())
    assert _copies(tmp_path) == []  # the command line's fast exit removed its copies


@pytest.mark.parametrize("suffix", sorted(PACKERS))
def test_a_cut_off_compressed_capture_is_read_as_far_as_it_goes(tmp_path: Path, suffix: str) -> None:
    """A compressed capture that ends early (still being written, or copied in part) is
    damage, as a cut-off plain file is: what came before is read, exit 3, one sentence."""
    import random

    from tests.pcapgen import Conversation, pcap_bytes

    conv = Conversation().handshake()
    for _ in range(40):  # 2 MB that compress little: many of bzip2's and zstd's blocks
        conv.send(True, random.Random(len(conv.frames)).randbytes(50_000))
    packed = PACKERS[suffix](pcap_bytes(conv.close().frames))
    cut = tmp_path / f"cut.pcap{suffix}"
    cut.write_bytes(packed[: len(packed) * 3 // 4])
    result = _cli("sessions", str(cut), tmp=tmp_path)
    assert result.returncode == 3, result.stderr
    message = result.stderr.decode().strip()
    assert (
        message.startswith(f"monoview: cut.pcap{suffix}: the ") and "-compressed data ends early" in message
    )
    assert len(result.stdout.decode().splitlines()) >= 2  # the header and the sessions read
    assert "Traceback" not in message and _copies(tmp_path) == []
    early = tmp_path / f"early.pcap{suffix}"
    early.write_bytes(packed[:40])
    result = _cli("sessions", str(early), tmp=tmp_path)
    assert result.returncode == 2
    assert "-compressed data ends early" in result.stderr.decode()


def test_garbage_in_a_compressed_capture_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    result = _cli("sessions", str(bad), tmp=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert message.startswith("monoview: bad.pcap.gz: the gzip-compressed capture cannot be decompressed")
    assert "Traceback" not in message and _copies(tmp_path) == []
    with pytest.raises(CaptureFormatError):
        CaptureDocument(bad, workers=1)


def test_no_room_to_decompress_is_named(tmp_path: Path) -> None:
    """Where the copy cannot be written (here: a file size limit), the message says so and
    where, instead of calling the capture damaged."""
    import resource

    packed = tmp_path / "big.pcap.gz"
    packed.write_bytes(gzip.compress(CAPTURE.read_bytes() * 40))
    limit = len(CAPTURE.read_bytes()) * 4

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", str(packed)], capture_output=True, timeout=120,
        env=env, preexec_fn=small_files,
    )  # fmt: skip
    message = result.stderr.decode().strip()
    assert result.returncode == 2 and "Traceback" not in message, message
    assert message.startswith("monoview: big.pcap.gz: no room to decompress it into ") and "TMPDIR" in message


def test_a_folder_or_a_closed_standard_input_is_refused(tmp_path: Path) -> None:
    folder = _cli("sessions", str(tmp_path), tmp=tmp_path)
    assert (
        folder.returncode == 2 and b"the folder holds no capture file" in folder.stderr
    )  # a folder is a set
    closed = subprocess.run(
        [sys.executable, "-m", "monoview", "sessions", "-"], capture_output=True, timeout=120,
        stdin=None, preexec_fn=lambda: os.close(0),
    )  # fmt: skip
    assert closed.returncode == 2
    assert closed.stderr.decode().strip() == "monoview: stdin: standard input is closed"


def test_an_empty_pipe_is_named(tmp_path: Path) -> None:
    result = _cli("sessions", "-", tmp=tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr.decode().strip() == "monoview: stdin: the file is empty"


def test_decompressing_can_be_cancelled_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    packed = tmp_path / "big.pcap.gz"
    packed.write_bytes(gzip.compress(CAPTURE.read_bytes() * 20))
    with pytest.raises(Cancelled):
        CaptureDocument(packed, workers=1, cancel=lambda: True)
    assert _copies(tmp_path) == []


def test_a_fifo_nobody_writes_to_can_be_given_up(tmp_path: Path) -> None:
    """Opening a named pipe waits for a writer; a window must still be able to cancel or
    close meanwhile (the copy polls, and asks ``cancel``)."""
    from monoview.core.capture.unpacked import LocalCopy

    fifo = tmp_path / "nobody"
    os.mkfifo(fifo)
    stop = threading.Event()
    outcome: list[BaseException | LocalCopy] = []

    def open_it() -> None:
        try:
            outcome.append(LocalCopy(fifo, cancel=stop.is_set))
        except BaseException as exc:  # noqa: BLE001 - the outcome is the test's
            outcome.append(exc)

    opener = threading.Thread(target=open_it, daemon=True)
    opener.start()
    opener.join(0.3)
    assert opener.is_alive() and not outcome  # waiting for a writer, as it should
    stop.set()
    opener.join(10)
    assert not opener.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)


def test_a_fifo_written_in_dribs_reads_whole(tmp_path: Path) -> None:
    import time

    from monoview.core.capture.unpacked import LocalCopy

    fifo = tmp_path / "slow"
    os.mkfifo(fifo)
    data = gzip.compress(CAPTURE.read_bytes())

    def write_slowly() -> None:
        with open(fifo, "wb", buffering=0) as out:
            for k in range(0, len(data), 3):  # the magic itself arrives in pieces
                out.write(data[k : k + 3])
                if k < 30:
                    time.sleep(0.02)

    threading.Thread(target=write_slowly, daemon=True).start()
    copy = LocalCopy(fifo)
    try:
        assert copy.path.read_bytes() == CAPTURE.read_bytes()
    finally:
        copy.close()


def test_a_decompression_bomb_stops_at_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small gzip file that expands far beyond its size is stopped at the limit (by default
    the free disk less a reserve; here set small), with a sentence, and leaves no copy."""
    header = CAPTURE.read_bytes()[:24]
    bomb = tmp_path / "bomb.pcap.gz"
    bomb.write_bytes(gzip.compress(header + b"\0" * (8 << 20)))
    assert bomb.stat().st_size < 64 << 10
    monkeypatch.setenv("MONOVIEW_UNPACK_LIMIT", str(1 << 20))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(MonoviewError, match="would grow past 1,048,576 bytes"):
        CaptureDocument(bomb, workers=1)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_default_limit_leaves_room_on_the_disk(tmp_path: Path) -> None:
    import shutil

    from monoview.core.capture.unpacked import RESERVE_BYTES, unpack_limit

    free = shutil.disk_usage(tmp_path).free
    assert unpack_limit(str(tmp_path)) <= max(0, free - RESERVE_BYTES)
