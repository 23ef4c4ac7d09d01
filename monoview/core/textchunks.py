"""A blob cut into chunks that render on their own exactly as the whole does.

The text view shows a conversation of any size, but a text editor holding 40 MB
of escaped bytes (150 million characters when they are binary) takes seconds to
fill and hundreds of megabytes.  So the view holds a few chunks around the
reading position and renders others when the user goes there; this module says
where chunks begin and renders one, with the ``[N bytes missing]`` markers that
fall in it.  A chunk is about ``CHUNK`` bytes; its boundary is moved (by at most
three bytes) so that no character is split: in UTF-8 a cut is before a byte that
is no continuation byte, or after four continuation bytes in a row (no sequence is
longer, so none spans the cut); in UTF-16 an even number of bytes after the last hole (where decoding starts
afresh).  Finding a boundary
reads four bytes, so no chunk needs the ones before it and the end of a blob is
rendered without reading the rest.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from monoview.core.blob import Blob, gap_marker
from monoview.core.textmap import TextMap, join_maps, render

CHUNK: Final = 8 << 10  # bytes per chunk; four of binary bytes are 130,000 characters
CACHED: Final = 24  # chunks kept rendered
V = TypeVar("V")


@dataclass(frozen=True)
class Chunk:
    """Positions ``start``..``end`` rendered: ``map`` (starts relative to ``start``) and the
    character ranges of the gap markers in its text."""

    start: int
    end: int
    map: TextMap
    markers: tuple[tuple[int, int], ...] = ()


class Chunks(Protocol):
    """What the text view reads: ``count`` chunks over positions ``0``..``size``."""

    @property
    def size(self) -> int:
        """Positions (bytes, or characters of a text) in all."""

    @property
    def count(self) -> int:
        """Number of chunks (at least one)."""

    def cut(self, k: int) -> int:
        """Where chunk ``k`` begins (``size`` for ``k >= count``)."""

    def chunk_of(self, position: int) -> int:
        """The chunk that holds ``position`` (the last one for ``size``)."""

    def chunk(self, k: int) -> Chunk:
        """Chunk ``k`` rendered."""


class Recent(Generic[V]):
    """The last ``CACHED`` values made, by number: the chunks a view moves among."""

    def __init__(self) -> None:
        self._kept: dict[int, V] = {}

    def get(self, key: int, make: Callable[[int], V]) -> V:
        """The value of ``key``, made by ``make`` unless it is one of the last kept."""
        found = self._kept.pop(key, None)
        if found is None:
            found = make(key)
            if len(self._kept) >= CACHED:
                del self._kept[next(iter(self._kept))]
        self._kept[key] = found
        return found


def safe_cut(head: bytes, position: int, encoding: str) -> int:
    """The first boundary at or after ``position`` where the text may be cut; ``head`` holds
    the (up to four) bytes from ``position``."""
    if encoding == "utf-16":
        return position + (position & 1)
    if encoding != "utf-8":
        return position
    for i, b in enumerate(head[:4]):
        if b < 0x80 or b >= 0xC0:
            return position + i
    return position + len(head[:4])


class BlobChunks:
    """A blob's bytes in ``encoding`` (``core.render``'s escaped text), chunk by chunk.

    ``chunk`` is at least 4 (so that cuts keep their order); text positions (the
    markers', the maps') count UTF-16 units, as Qt does."""

    def __init__(self, blob: Blob, encoding: str, chunk: int = CHUNK) -> None:
        self.blob, self.encoding, self._chunk = blob, encoding, chunk
        self.size = blob.size
        self.count = max(1, -(-self.size // chunk))
        self._gap_positions = [position for position, _missing in blob.gaps]
        self._rendered: Recent[Chunk] = Recent()

    def chunk(self, k: int) -> Chunk:
        """Chunk ``k`` rendered (kept while it is one of the last ``CACHED``)."""
        return self._rendered.get(k, self._render)

    def cut(self, k: int) -> int:
        """Where chunk ``k`` begins."""
        if k <= 0:
            return 0
        if k >= self.count:
            return self.size
        position = k * self._chunk
        if self.encoding == "utf-16":  # code units are counted from the last hole (or the start)
            i = bisect.bisect_right(self._gap_positions, position)
            base = self._gap_positions[i - 1] if i else 0
            return min(position + ((position - base) & 1), self.size)
        return min(safe_cut(self.blob.read(position, 4), position, self.encoding), self.size)

    def chunk_of(self, position: int) -> int:
        """The chunk that holds byte ``position``."""
        k = min(max(position, 0) // self._chunk, self.count - 1)
        while k > 0 and position < self.cut(k):  # a cut is moved on by at most four bytes
            k -= 1
        return k

    def _render(self, k: int) -> Chunk:
        start, end = self.cut(k), self.cut(k + 1)
        last = k == self.count - 1  # a hole at the very end is marked in the last chunk
        first = bisect.bisect_left(self._gap_positions, start)
        stop = (
            bisect.bisect_right(self._gap_positions, end)
            if last
            else bisect.bisect_left(self._gap_positions, end)
        )
        pieces: list[TextMap] = []
        markers: list[tuple[int, int]] = []
        at, chars = start, 0
        for position, missing in self.blob.gaps[first:stop]:
            if position > at:
                pieces.append(render(self.blob.read(at, position - at), self.encoding))
                chars += int(pieces[-1].starts[-1])
                at = position
            text = gap_marker(missing)
            pieces.append(TextMap(text, np.array([len(text)], dtype=np.int64)))
            markers.append((chars, chars + len(text)))
            chars += len(text)
        if end > at or not pieces:
            pieces.append(render(self.blob.read(at, end - at), self.encoding))
        return Chunk(start, end, join_maps(pieces), tuple(markers))


def editor_map(text: str, starts: npt.NDArray[np.int64] | None = None) -> TextMap:
    """``text`` as an editor holds it: a line break for ``\r\n`` and for a lone ``\r`` (Qt's
    plain text makes a paragraph of each), a character outside the BMP as two UTF-16 units.
    The map's ``starts`` are ``starts`` (positions in ``text``; by default each character)
    moved to their place in that."""
    units = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    crlf = (units == 13) & np.append(units[1:] == 10, False)
    widths = np.where(crlf, 0, np.where(units >= 0x10000, 2, 1))
    places = np.concatenate(([0], np.cumsum(widths))).astype(np.int64)
    shown = text.replace("\r\n", "\n").replace("\r", "\n")
    return TextMap(shown, places if starts is None else places[starts])
