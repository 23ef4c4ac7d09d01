"""Gaps of a stream found by numpy (many pieces) equal those the Python loop finds."""

from __future__ import annotations

import random

import pytest

from monoview.core.tcp import gaps as gaps_module
from monoview.core.tcp.stream import DirectionStream


def _stream(rng: random.Random, pieces: int) -> DirectionStream:
    """A stream whose pieces were delivered in a shuffled order, with holes and overlaps of coverage."""
    s = DirectionStream(b"")
    s.note_syn(1000)
    offset = 0
    layout = []
    for _ in range(pieces):
        offset += rng.choice((0, 0, 0, rng.randrange(1, 50)))  # sometimes a hole
        length = rng.randrange(1, 40)
        layout.append((offset, length))
        offset += length
    rng.shuffle(layout)
    for start, length in layout:
        s._append(start, length, 0, 1, 0)
    s.next = offset + rng.randrange(0, 30)
    return s


@pytest.mark.parametrize("block", [1 << 14, 1, 7, 300])
@pytest.mark.parametrize("seed", range(20))
def test_numpy_and_python_find_the_same_holes(seed: int, block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with the numpy way's blocks (``COVER_BLOCK``) cutting the pieces anywhere: the
    running maximum is carried from one block to the next."""
    rng = random.Random(seed)
    s = _stream(rng, rng.randrange(1, 2000))
    monkeypatch.setattr(gaps_module, "COVER_BLOCK", block)
    vector = s.covered()
    monkeypatch.setattr(gaps_module, "VECTOR_PIECES", 1 << 30)
    assert s.covered() == vector


@pytest.mark.parametrize("block", [1, 5, 300])
def test_pieces_in_order_find_the_same_holes_in_blocks(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces delivered in stream order (no sorted index: the columns are read as they are)."""
    rng = random.Random(block)
    s = DirectionStream(b"")
    s.note_syn(1000)
    offset = 0
    for _ in range(1000):
        offset += rng.choice((0, 0, rng.randrange(1, 50)))
        length = rng.randrange(1, 40)
        s._append(offset, length, 0, 1, 0)
        offset += length
    s.next = offset
    assert s.in_order
    monkeypatch.setattr(gaps_module, "COVER_BLOCK", block)
    vector = s.covered()
    monkeypatch.setattr(gaps_module, "VECTOR_PIECES", 1 << 30)
    assert s.covered() == vector
