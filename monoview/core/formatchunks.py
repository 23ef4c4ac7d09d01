"""A "Show data as" format of a blob, cut into chunks that each render on their own.

The text view showed a format by rendering all of it first (``showas.render``):
a 37.7 MB monologue is 180 MB of hex dump or 300 MB of C arrays, seconds of the
GUI thread and as much memory, for the few screens anyone reads.  Here, as in
``BlobChunks``, positions are the blob's bytes: chunk ``k`` is the format's text
for bytes ``cut(k)``..``cut(k + 1)``, and only the chunks the view holds are
rendered.  The chunks laid end to end are ``showas.render`` of the blob's
monologues, character for character (``tests/core/test_formatchunks.py`` proves
it on every shared capture, every format, small chunks).

That holds because each cut is moved (a few bytes on) to where the format's
layout starts afresh: a hex dump line (16 bytes from the start of a part, the
bytes between two holes), a C array row (8 bytes of the turn's data), a line of
base64 (57 bytes); between two characters in UTF-8 and UTF-16, never between
a carriage return and its line feed (the editor makes one line break of the
pair); any byte for the rest.  A turn's head (a C array's first line, a YAML
entry) is written by the chunk holding its first byte, its tail by the chunk
holding its last, a hole by the chunk holding the byte after it (a hole at a
turn's end: the turn's last chunk).
"""

from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.blob import Blob, gap_places
from monoview.core.showas import (
    BASE64_WIDTH,
    C_ARRAY_WIDTH,
    ShowAs,
    c_array_head,
    c_array_row,
    decode,
    hex_line,
    hole_line,
    line_end,
    missing,
    raw_hole,
    yaml_head,
    yaml_line,
    yaml_peers,
)
from monoview.core.textchunks import CHUNK, Chunk, Recent, editor_map
from monoview.core.textmap import TextMap

BASE64_BYTES: Final = BASE64_WIDTH // 4 * 3  # the bytes of one full line of base64
DECODED: Final = frozenset({ShowAs.ASCII, ShowAs.UTF8, ShowAs.LATIN1, ShowAs.UTF16, ShowAs.EBCDIC})
# How many bytes of a part a line of the format takes: cuts fall on these (None: any byte).
ROW: Final = {ShowAs.HEX_DUMP: 16, ShowAs.C_ARRAYS: C_ARRAY_WIDTH, ShowAs.YAML: BASE64_BYTES}
# Bytes a chunk: about CHUNK characters of text in each format (a hex dump line is 16 bytes in
# 74 characters, a C array row 8 in 48).
CHUNK_BYTES: Final = {ShowAs.HEX_DUMP: CHUNK // 4, ShowAs.C_ARRAYS: CHUNK // 4, ShowAs.RAW: CHUNK // 2}


@dataclass(frozen=True)
class TurnPlace:
    """Where one monologue (``showas.Turn``) is in the blob, and what its layout needs."""

    start: int  # the blob position of its first byte
    end: int
    indent: str  # the second peer's lines are indented by a tab (hex dump, raw)
    peer: int
    number: int  # among its peer's turns (a C array's name)
    frame: int
    ts_ns: int
    holes: tuple[tuple[int, int], ...]  # (blob position, bytes missing there), in stream order
    base: int  # the hex dump's offset of its first byte: its direction's bytes before it
    hole_positions: tuple[int, ...] = ()  # the holes' positions, for bisect

    def part(self, position: int) -> tuple[int, int]:
        """Where the part (bytes between two holes) that holds ``position`` begins and ends."""
        i = bisect.bisect_right(self.hole_positions, position)
        begins = max(self.start, self.hole_positions[i - 1]) if i else self.start
        ends = min(self.end, self.hole_positions[i]) if i < len(self.hole_positions) else self.end
        return begins, ends

    def holes_in(self, start: int, end: int, tails: bool) -> list[tuple[int, int]]:
        """The holes a chunk of bytes ``start``..``end`` writes: before its bytes, and those at
        the turn's end if the chunk ends it (``tails``)."""
        positions = self.hole_positions
        stop = bisect.bisect_right(positions, end) if tails else bisect.bisect_left(positions, end)
        return list(self.holes[bisect.bisect_left(positions, start) : stop])


class FormatChunks:
    """``how`` of the blob's monologues (as ``showas.render(session, turns(monologues), how)``),
    chunk by chunk; a position is a byte of the blob.  ``chunk`` is at least 64 (a cut moves
    on by fewer bytes than that, so cuts keep their order)."""

    def __init__(self, blob: Blob, how: ShowAs, chunk: int | None = None) -> None:
        chunk = CHUNK_BYTES.get(how, CHUNK) if chunk is None else chunk
        self.blob, self.how, self._chunk = blob, how, max(chunk, 64)
        self.size = blob.size
        self.count = max(1, -(-self.size // self._chunk))
        self.turns = _turns(blob)
        self._starts = [turn.start for turn in self.turns]
        self._session = next((s.monologue.session for s in blob.spans if s.monologue is not None), None)
        self._rendered: Recent[tuple[Chunk, str]] = Recent()

    # -- where chunks begin -----------------------------------------------------------

    def cut(self, k: int) -> int:
        """Where chunk ``k`` begins."""
        if k <= 0:
            return 0
        if k >= self.count:
            return self.size
        return min(self._safe(k * self._chunk), self.size)

    def chunk_of(self, position: int) -> int:
        """The chunk that holds byte ``position``."""
        k = min(max(position, 0) // self._chunk, self.count - 1)
        while k > 0 and position < self.cut(k):
            k -= 1
        return k

    def _safe(self, position: int) -> int:
        """The first place at or after ``position`` where the format may be cut."""
        i = bisect.bisect_right(self._starts, position) - 1
        if i < 0 or position >= self.turns[i].end or position == self.turns[i].start:
            return position  # between turns (or before the first): the layout starts afresh
        turn = self.turns[i]
        if self.how is ShowAs.C_ARRAYS or self.how is ShowAs.YAML:  # rows of the data, holes left out
            return min(position + (turn.start - position) % ROW[self.how], turn.end)
        if self.how is ShowAs.RAW:  # hex of each byte: any byte
            return position
        begins, ends = turn.part(position)
        if position == begins:
            return position
        if self.how is ShowAs.HEX_DUMP:
            return min(position + (begins - position) % ROW[self.how], ends)
        if self.how is ShowAs.UTF16:
            return self._utf16_cut(position, begins, ends)
        return self._text_cut(position, ends)

    def _utf16_cut(self, position: int, begins: int, ends: int) -> int:
        """A UTF-16 cut: an even number of bytes into the part, never inside a surrogate pair
        or between CR and LF, and never before a part's odd last byte (a lone high surrogate
        and that byte are one replacement character)."""
        position += (position - begins) & 1
        if ends - position <= 1:
            return ends
        unit = self.blob.read(position - 2, 4)
        if (0xD8 <= unit[1] <= 0xDB and 0xDC <= unit[3] <= 0xDF) or unit == b"\r\x00\n\x00":
            position += 2
        return min(position, ends)

    def _text_cut(self, position: int, ends: int) -> int:
        """A cut in a decoded text: between UTF-8 characters (before a byte that starts one,
        or after four that cannot continue one), never between CR and LF."""
        head = self.blob.read(position - 1, 6)
        if self.how is ShowAs.UTF8:
            step = next((i for i, b in enumerate(head[1:5]) if b < 0x80 or b >= 0xC0), 4)
            position += step
            head = head[step:]
        if position < ends and len(head) >= 2 and _is_crlf(head[:2], self.how):
            position += 1
        return min(position, ends)

    # -- rendering ----------------------------------------------------------------------

    def chunk(self, k: int) -> Chunk:
        """Chunk ``k`` as the editor holds it (see ``textchunks.editor_map``)."""
        return self._entry(k)[0]

    def text(self, k: int) -> str:
        """Chunk ``k``'s text as Save As writes it (before the editor's line breaks)."""
        return self._entry(k)[1]

    def _entry(self, k: int) -> tuple[Chunk, str]:
        """Chunk ``k`` and its text, made once while it is one of the last kept."""
        return self._rendered.get(k, self._render)

    def _render(self, k: int) -> tuple[Chunk, str]:
        start, end = self.cut(k), self.cut(k + 1)
        last = k >= self.count - 1
        out = _Out()
        if k == 0 and self.how is ShowAs.YAML and self._session is not None:
            out.lead(yaml_peers(self._session))
        first = bisect.bisect_left(self._starts, start)
        if first and self.turns[first - 1].end > start:
            first -= 1  # the turn that runs into this chunk
        for turn in self.turns[first:]:
            if turn.start > end or (turn.start == end and not last):
                break
            if turn.end <= start and not (turn.end == turn.start == start):
                continue
            self._turn(turn, max(start, turn.start), min(end, turn.end), out, last)
        text = "".join(out.texts)
        starts, holes = out.places(end - start)
        held = editor_map(text, np.concatenate((starts, holes.ravel())))
        count = end - start + 1
        markers = held.starts[count:].reshape(-1, 2).tolist()
        editor = TextMap(held.text, held.starts[:count])
        return Chunk(start, end, editor, tuple((a, b) for a, b in markers)), text

    def _turn(self, turn: TurnPlace, start: int, end: int, out: _Out, last: bool) -> None:
        """What chunk ``start``..``end`` holds of ``turn``: its head if it begins here, its bytes
        and holes here, its tail if it ends here."""
        how = self.how
        heads = start == turn.start
        tails = end == turn.end and (end > start or heads)
        holes = turn.holes_in(start, end, tails)
        if heads:
            if how is ShowAs.C_ARRAYS:
                out.lead(c_array_head(turn.peer, turn.number, turn.frame, [n for _p, n in turn.holes]))
            elif how is ShowAs.YAML:
                out.lead(yaml_head(turn.frame, turn.peer, turn.ts_ns, [n for _p, n in turn.holes]))
            elif how is ShowAs.RAW:
                out.lead(turn.indent)
        if how is ShowAs.C_ARRAYS or how is ShowAs.YAML:
            self._rows(turn, start, end, out)
        else:
            at = start
            for position, count in holes:
                if position > at:
                    self._bytes(turn, at, position, out)
                    at = position
                out.hole(self._hole(turn, count), leads=position < turn.end)
            if end > at:
                self._bytes(turn, at, end, out)
        if tails:
            if how is ShowAs.C_ARRAYS:
                out.tail("};\n")
            elif how is ShowAs.RAW:
                out.tail("\n")
            elif how in DECODED and (end > turn.start or holes):  # this turn's text ends here
                out.tail(line_end(out.texts[-1]))

    def _hole(self, turn: TurnPlace, count: int) -> str:
        """A hole's text in the format (C arrays and YAML say it in the turn's head)."""
        if self.how is ShowAs.HEX_DUMP:
            return hole_line(turn.indent, count) + "\n"
        if self.how is ShowAs.RAW:
            return raw_hole(count)
        return missing(count)

    def _bytes(self, turn: TurnPlace, start: int, end: int, out: _Out) -> None:
        """Bytes ``start``..``end`` of one part of ``turn``."""
        data = self.blob.read(start, end - start)
        if self.how is ShowAs.HEX_DUMP:
            offset = turn.base + start - turn.start
            lines = [hex_line(turn.indent, offset + i, data[i : i + 16]) for i in range(0, len(data), 16)]
            out.add("\n".join(lines) + "\n", len(data))
        elif self.how is ShowAs.RAW:
            out.add(data.hex(), len(data))
        else:
            out.add(decode(data, self.how), len(data))

    def _rows(self, turn: TurnPlace, start: int, end: int, out: _Out) -> None:
        """A C array's rows, or the base64 lines, of bytes ``start``..``end`` (holes left out)."""
        data = self.blob.read(start, end - start)
        if self.how is ShowAs.C_ARRAYS:
            final = turn.end - turn.start - 1  # the data's last byte: its row has no comma
            rows = range(0, len(data), C_ARRAY_WIDTH)
            made = [
                c_array_row(data[i : i + C_ARRAY_WIDTH], start + i - turn.start > final - C_ARRAY_WIDTH)
                for i in rows
            ]
        else:
            rows = range(0, len(data), BASE64_BYTES)
            made = [yaml_line(base64.b64encode(data[i : i + BASE64_BYTES]).decode("ascii")) for i in rows]
        out.add("".join(made), len(data))


class _Out:
    """A chunk's text as it is made: how many of its bytes each piece stands for, which
    pieces lead the bytes after them (a turn's head, a hole) and which are holes."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.counts: list[int] = []
        self.leads: list[bool] = []
        self.holes: list[int] = []  # indices of the hole pieces

    def lead(self, text: str) -> None:
        """Text before the bytes it belongs to (a turn's head)."""
        self._add(text, 0, True)

    def hole(self, text: str, leads: bool) -> None:
        """A hole's text: before the bytes after it, or (``leads`` false) at its turn's end."""
        self.holes.append(len(self.texts))
        self._add(text, 0, leads)

    def tail(self, text: str) -> None:
        """Text after a turn's bytes."""
        self._add(text, 0, False)

    def add(self, text: str, count: int) -> None:
        """The text of ``count`` bytes."""
        self._add(text, count, False)

    def _add(self, text: str, count: int, leads: bool) -> None:
        self.texts.append(text)
        self.counts.append(count)
        self.leads.append(leads)

    def places(self, size: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Each byte's first character in the text (spread evenly over its piece's text; a
        piece's first byte where the heads and holes before it begin, so that going to a
        turn's first byte shows its head), and each hole's (start, end) characters."""
        starts = np.empty(size + 1, dtype=np.int64)
        holes = np.zeros((len(self.holes), 2), dtype=np.int64)
        hole_at = {piece: n for n, piece in enumerate(self.holes)}
        at = chars = 0
        led: int | None = None  # where the heads and holes just before began
        for i, (text, count, leads) in enumerate(zip(self.texts, self.counts, self.leads, strict=True)):
            if i in hole_at:
                holes[hole_at[i]] = chars, chars + len(text)
            if count:
                starts[at : at + count] = chars + np.arange(count, dtype=np.int64) * len(text) // count
                if led is not None:
                    starts[at] = led
                at += count
            led = (chars if led is None else led) if leads else None
            chars += len(text)
        starts[at:] = chars
        return starts, holes


def _is_crlf(pair: bytes, how: ShowAs) -> bool:
    """Whether the two bytes on either side of a cut are a carriage return and a line feed."""
    if how is ShowAs.EBCDIC:
        return pair == b"\x0d\x25"
    return pair == b"\r\n"


def _turns(blob: Blob) -> list[TurnPlace]:
    """The blob's monologues as the formats lay them out (``showas.Turn`` with node0 c2s)."""
    out: list[TurnPlace] = []
    offsets = {"c2s": 0, "s2c": 0}
    counts = [0, 0]
    for span in blob.spans:
        monologue = span.monologue
        if monologue is None:
            continue
        peer = 0 if span.direction == "c2s" else 1
        holes = gap_places(monologue, span.start)
        frames = monologue.frames
        out.append(
            TurnPlace(
                span.start, span.end, "\t" if peer else "", peer, counts[peer], frames[0] if frames else 0,
                monologue.first_ts_ns, holes, offsets[span.direction], tuple(p for p, _n in holes),
            )
        )  # fmt: skip
        counts[peer] += 1
        offsets[span.direction] += span.end - span.start
    return out


__all__ = ["FormatChunks"]
