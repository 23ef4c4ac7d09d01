"""The bytes the hex and text views show, and where each side's bytes lie in them.

A ``Blob`` is built from a conversation's monologues (immutable objects): the
window's hex and text views show one, and Save As and Find read one; nothing
here needs Qt, so a front end without the window can use it too.  It records
which direction each byte came from, where bytes are missing (gaps are omitted
from the bytes and drawn as markers) and where retransmissions disagreed.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession


@dataclass(frozen=True)
class Span:
    """Bytes ``start``..``end``-1 of the blob belong to one monologue."""

    start: int
    end: int
    direction: str
    monologue: Monologue


class Pieces:
    """Bytes scattered over the capture file, read on demand.

    A 50 MB conversation is 35,000 pieces; joining them costs tens of
    milliseconds and doubles the memory, while the hex view needs a few hundred
    bytes at a time.  So the blob keeps only where each piece lies.
    """

    def __init__(self, read: Callable[[int, int], bytes]) -> None:
        self._read = read
        # arrays, not lists: the garbage collector does not walk them (a list of
        # 100,000 ints made every full collection 50 ms longer)
        self._starts = array("q")
        self._lengths = array("q")
        self._files = array("q")
        self.size = 0

    def add(self, length: int, file_offset: int) -> None:
        """Append ``length`` bytes found at ``file_offset`` of the capture."""
        if length > 0:
            self._starts.append(self.size)
            self._lengths.append(length)
            self._files.append(file_offset)
            self.size += length

    def extend(self, lengths: list[int], file_offsets: list[int]) -> None:
        """Append many pieces at once (the fast path for a whole monologue)."""
        starts = list(accumulate(lengths, initial=self.size))
        self._starts.extend(starts[:-1])
        self._lengths.extend(lengths)
        self._files.extend(file_offsets)
        self.size = starts[-1]

    def read(self, start: int, count: int) -> bytes:
        """Bytes ``start``..``start + count`` (fewer at the end)."""
        end = min(start + count, self.size)
        parts = []
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while start < end and i < len(self._starts):
            skip = start - self._starts[i]
            take = min(self._lengths[i] - skip, end - start)
            if take > 0:
                parts.append(self._read(self._files[i] + skip, take))
                start += take
            i += 1
        return b"".join(parts)


@dataclass(frozen=True)
class Blob:
    """Bytes to show, with per-byte direction, gap markers and conflicting ranges."""

    title: str
    source: bytes | Pieces = b""
    spans: tuple[Span, ...] = ()
    gaps: tuple[tuple[int, int], ...] = ()  # (blob position, bytes missing there)
    conflicts: tuple[tuple[int, int], ...] = ()  # (blob position, length)
    _starts: list[int] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._starts.extend(s.start for s in self.spans)

    @property
    def size(self) -> int:
        """Number of bytes."""
        return len(self.source) if isinstance(self.source, bytes) else self.source.size

    def read(self, start: int, count: int) -> bytes:
        """Bytes ``start``..``start + count`` without joining the rest."""
        if isinstance(self.source, bytes):
            return self.source[start : start + count]
        return self.source.read(start, count)

    @cached_property
    def data(self) -> bytes:
        """Every byte at once (search, tests); built on first use."""
        return self.source if isinstance(self.source, bytes) else self.source.read(0, self.source.size)

    def span_at(self, position: int) -> Span | None:
        """The monologue span that holds byte ``position``."""
        i = bisect.bisect_right(self._starts, position) - 1
        if 0 <= i < len(self.spans) and self.spans[i].start <= position < self.spans[i].end:
            return self.spans[i]
        return None

    def marked(self, start: int, end: int, show: Callable[[bytes], str], separator: str = "") -> str:
        """Bytes ``start``..``end`` as ``show`` writes them, with ``gap_marker`` where bytes
        are missing inside the range (at its ends too when it is the whole blob): what Copy
        puts on the clipboard, so that bytes never adjacent are not pasted as if they were."""
        whole = start == 0 and end == self.size
        texts, at = [], start
        for position, missing in self.gaps:
            if start < position < end or (whole and start <= position <= end):
                texts += [show(self.read(at, position - at)), gap_marker(missing)]
                at = position
        texts.append(show(self.read(at, end - at)))
        return separator.join(text for text in texts if text)

    def span_of(self, monologue: Monologue) -> Span | None:
        """The span of ``monologue``, if the blob holds it."""
        for span in self.spans:
            if span.monologue is monologue:
                return span
        return None


EMPTY = Blob("Nothing selected")


def gap_marker(missing: int) -> str:
    """What the views and Copy show where ``missing`` bytes are missing."""
    return f"[{missing:,} bytes missing]"


def data_position(monologue: Monologue, stream_offset: int) -> int:
    """Position in ``monologue.data()`` of the byte at ``stream_offset`` (gaps omitted)."""
    position = 0
    for offset, length, _file, _frame in monologue.pieces():
        if stream_offset < offset + length:
            return position + max(0, stream_offset - offset)
        position += length
    return position


def gap_places(monologue: Monologue, base: int) -> tuple[tuple[int, int], ...]:
    """The monologue's gaps as (``base`` + their place in its bytes, length), in stream order
    (as ``showas.Turn.of`` puts them): ``data_position`` of each, in one walk over the
    pieces (a gap at a time walked them all: pieces x gaps)."""
    gaps = sorted(monologue.gaps(), key=lambda gap: gap.offset)
    pieces = iter(monologue.pieces())
    piece = next(pieces, None)
    position = 0
    out = []
    for gap in gaps:
        while piece is not None and gap.offset >= piece[0] + piece[1]:
            position += piece[1]
            piece = next(pieces, None)
        within = max(0, gap.offset - piece[0]) if piece is not None else 0
        out.append((base + position + within, gap.length))
    return tuple(out)


def _monologue_parts(monologue: Monologue, base: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Gap markers and conflicting ranges of one monologue, at ``base`` + data position."""
    gaps = list(gap_places(monologue, base))
    end = monologue.offset + monologue.length + sum(g.length for g in monologue.gaps())
    conflicts = [
        (base + data_position(monologue, c.offset), c.length)
        for c in monologue.session.conflicts(monologue.direction)
        if monologue.offset <= c.offset < end
    ]
    return gaps, conflicts


def concatenate(title: str, monologues: Sequence[Monologue]) -> Blob:
    """The monologues' bytes back to back, in the order given (read lazily)."""
    spans: list[Span] = []
    gaps: list[tuple[int, int]] = []
    conflicts: list[tuple[int, int]] = []
    pieces: Pieces | None = None
    for monologue in monologues:
        if pieces is None:
            pieces = Pieces(monologue.session.read)
        start = pieces.size
        lengths, file_offsets = monologue.piece_columns()
        if 0 in lengths:
            kept = [k for k, length in enumerate(lengths) if length > 0]
            lengths, file_offsets = [lengths[k] for k in kept], [file_offsets[k] for k in kept]
        pieces.extend(lengths, file_offsets)
        g, c = _monologue_parts(monologue, start)
        gaps += g
        conflicts += c
        spans.append(Span(start, pieces.size, monologue.direction, monologue))
    return Blob(title, pieces if pieces is not None else b"", tuple(spans), tuple(gaps), tuple(conflicts))


def monologue_blob(monologue: Monologue) -> Blob:
    """One monologue."""
    arrow = "client → server" if monologue.direction == "c2s" else "server → client"
    return concatenate(f"Monologue #{monologue.index}, {arrow}, {monologue.length:,} bytes", [monologue])


def direction_blob(session: TcpSession, direction: str, monologues: Sequence[Monologue]) -> Blob:
    """Every byte one side sent, in stream order."""
    chosen = [m for m in monologues if m.direction == direction]
    arrow = "Client → server" if direction == "c2s" else "Server → client"
    blob = concatenate(arrow, chosen)
    return Blob(
        f"{arrow} of session {session.id}, {blob.size:,} bytes",
        blob.source,
        blob.spans,
        blob.gaps,
        blob.conflicts,
    )


def session_blob(session: TcpSession, monologues: Sequence[Monologue]) -> Blob:
    """The whole conversation, monologue after monologue."""
    blob = concatenate("", monologues)
    return Blob(
        f"Whole conversation of session {session.id}, {blob.size:,} bytes",
        blob.source,
        blob.spans,
        blob.gaps,
        blob.conflicts,
    )
