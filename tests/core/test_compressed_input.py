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
from monoview.core.errors import Cancelled, CaptureFormatError
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
    feeder = threading.Thread(target=lambda: fifo.write_bytes(gzip.compress(CAPTURE.read_bytes())))
    feeder.start()
    from_fifo = _cli("sessions", "--json", str(fifo), tmp=tmp_path)
    feeder.join(timeout=60)
    # the same sessions; only the capture's name differs
    for got, name in ((from_stdin, "stdin"), (from_fifo, "fifo")):
        assert got.returncode == 0, got.stderr
        assert got.stdout == expected.stdout.replace(b'"chatter.pcap"', f'"{name}"'.encode())
    assert _copies(tmp_path) == []  # the command line's fast exit removed its copies


def test_a_damaged_compressed_capture_is_one_sentence(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(gzip.compress(CAPTURE.read_bytes())[:300])
    result = _cli("sessions", str(cut), tmp=tmp_path)
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert message.startswith("monoview: cut.pcap.gz: the gzip-compressed capture cannot be decompressed")
    assert "Traceback" not in message and _copies(tmp_path) == []
    with pytest.raises(CaptureFormatError):
        CaptureDocument(cut, workers=1)


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
