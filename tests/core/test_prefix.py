"""A document of a capture's beginning (``prefix``): what the window lists while the whole is read.

The reference is independent of the index: the test cuts the file itself, by
walking the pcap record headers, right after the last record that starts in the
first ``prefix`` bytes; the document of that cut file must be the prefix document,
however many ranges read it.  And the whole capture's first sessions are the
prefix's, with the same ids: only the ones still going at the cut grow.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from monoview.core import document
from monoview.core.document import CaptureDocument
from tests.conftest import shared_capture

PCAP_HEADER = 24
RECORD_HEADER = 16
DATA = Path(__file__).resolve().parents[1] / "data"


def cut_after(path: Path, prefix: int, folder: Path) -> Path:
    """A copy of the pcap ``path`` holding the records that start before byte ``prefix``."""
    data = path.read_bytes()
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    at = PCAP_HEADER
    while at < min(prefix, len(data)):
        (caplen,) = struct.unpack_from(order + "I", data, at + 8)
        at += RECORD_HEADER + caplen
    cut = folder / f"cut-{prefix}.pcap"
    cut.write_bytes(data[:at])
    return cut


# one long lossy session, and many short ones
CAPTURES = ["lab/bulk_loss_reorder.pcap", "lab/http_many.pcap", "lab/chatter.pcap"]


@pytest.fixture(params=CAPTURES)
def capture(request: pytest.FixtureRequest) -> Path:
    return shared_capture(request.param)


@pytest.mark.parametrize("fraction", [0.1, 0.45])
@pytest.mark.parametrize("workers", [1, 2])
def test_prefix_is_the_document_of_the_cut_file(
    capture: Path, tmp_path: Path, fraction: float, workers: int
) -> None:
    prefix = int(capture.stat().st_size * fraction)
    cut = cut_after(capture, prefix, tmp_path)
    with (
        CaptureDocument(cut, workers=1) as expected,
        CaptureDocument(capture, workers=workers, min_range=8 << 10, prefix=prefix) as beginning,
    ):
        assert beginning.prefix == prefix
        assert beginning.stats.frames == expected.stats.frames
        assert 0 < len(beginning) == len(expected)
        assert np.array_equal(beginning.rows, expected.rows)
        assert beginning.read_error is None


@pytest.mark.parametrize("name", ["lab/http_many.pcap"])
def test_whole_capture_begins_with_the_prefix_sessions(name: str) -> None:
    capture = shared_capture(name)
    prefix = capture.stat().st_size // 3
    with (
        CaptureDocument(capture, workers=1, prefix=prefix) as beginning,
        CaptureDocument(capture, workers=1) as whole,
    ):
        n = len(beginning)
        assert 0 < n <= len(whole)
        assert beginning.stats.frames < whole.stats.frames
        first = whole.rows[:n]
        # the same sessions, in the same order (their ids), from the same first packets
        assert np.array_equal(beginning.rows["first_frame"], first["first_frame"])
        assert np.array_equal(beginning.rows["flow"], first["flow"])
        # a session can only grow when the rest of the capture is read ...
        assert (beginning.rows["packets"] <= first["packets"]).all()
        assert (beginning.rows["kept0"] + beginning.rows["kept1"] <= first["kept0"] + first["kept1"]).all()
        # ... and one whose packets all come before the cut is listed as it will be
        before = first["last_frame"] <= beginning.stats.frames
        assert 0 < before.sum() < n
        assert np.array_equal(beginning.rows[before], first[before])


def test_no_prefix_reads_everything(capture: Path) -> None:
    size = capture.stat().st_size
    with (
        CaptureDocument(capture, workers=1, prefix=size * 2) as beyond,
        CaptureDocument(capture, workers=1) as whole,
    ):
        assert np.array_equal(beyond.rows, whole.rows)


def test_a_short_prefix_of_a_big_capture_keeps_its_columns_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window's preview (the first 4 MiB of a gigabyte, in its own process) is as small as a
    small capture: no column files written and mapped back (``parts.folder`` is where they go)."""
    capture = DATA / "chatter.pcap"
    small = capture.stat().st_size // 4
    monkeypatch.setattr(document, "INLINE_COLUMNS_BYTES", small)  # the capture is "big"
    with (
        CaptureDocument(capture, workers=1, prefix=small) as beginning,
        CaptureDocument(capture, workers=1) as whole,
    ):
        assert beginning.parts.folder is None
        assert whole.parts.folder is not None
        assert 0 < len(beginning) <= len(whole)
