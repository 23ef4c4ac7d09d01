"""Rendered text of some bytes, and the map between byte and character positions.

The window's text view shows ``decode_text`` (escaped non-printables) and must
translate a selection to bytes and back, so every byte needs the position of its
first character.  Qt counts positions in UTF-16 code units (and so does this
module, without Qt), so characters outside
the BMP count twice.  Everything is vectorised with numpy: a megabyte maps in
milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from monoview.core.render import decode_text

IntArray = npt.NDArray[np.int64]
# A byte that starts a UTF-8 character (or is an error on its own): anything but a continuation byte.
_UTF8_START = re.compile(rb"[\x00-\x7f\xc0-\xff]")


@cache
def _single_byte_widths(encoding: str) -> IntArray:
    """Characters each byte value renders to, for one-byte-per-character encodings."""
    return np.array([len(decode_text(bytes([b]), encoding)) for b in range(256)], dtype=np.int64)


@cache
def _code_point_widths() -> IntArray:
    """UTF-16 units each code point below 0x10000 renders to in the utf-8 view."""
    widths = np.ones(0x10000, dtype=np.int64)
    for cp in (*range(0x20), *range(0x7F, 0xA0), 0x5C):
        widths[cp] = len(decode_text(chr(cp).encode("utf-8"), "utf-8"))
    widths[0xDC80:0xDD00] = 4  # surrogateescape of an undecodable byte: \xNN
    return widths


@dataclass(frozen=True)
class TextMap:
    """``text`` with ``starts[i]`` = position of byte i's first character (``starts[n]`` = end)."""

    text: str
    starts: IntArray

    def char_of(self, byte_pos: int) -> int:
        """Text position where byte ``byte_pos`` begins (clamped)."""
        byte_pos = min(max(byte_pos, 0), len(self.starts) - 1)
        return int(self.starts[byte_pos])

    def byte_of(self, char_pos: int) -> int:
        """Byte whose rendering covers text position ``char_pos``."""
        i = int(np.searchsorted(self.starts, char_pos, side="right")) - 1
        return min(max(i, 0), len(self.starts) - 1)


def render(data: bytes, encoding: str) -> TextMap:
    """Decode ``data`` for display and map it."""
    text = decode_text(data, encoding)
    raw = np.frombuffer(data, dtype=np.uint8)
    if encoding in ("ascii", "latin-1", "ebcdic"):
        widths = _single_byte_widths(encoding)[raw]
        return TextMap(text, np.concatenate(([0], np.cumsum(widths))).astype(np.int64))
    if encoding == "utf-16":
        return TextMap(text, _utf16_starts(data))
    decoded = data.decode("utf-8", errors="surrogateescape")
    cps = np.frombuffer(decoded.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.int64)
    byte_len = np.select(
        [cps < 0x80, (cps >= 0xDC80) & (cps < 0xDD00), cps < 0x800, cps < 0x10000], [1, 1, 2, 3], default=4
    )
    width = np.where(cps < 0x10000, _code_point_widths()[np.minimum(cps, 0xFFFF)], 2)
    char_start = np.concatenate(([0], np.cumsum(width)))
    starts = np.concatenate((np.repeat(char_start[:-1], byte_len), char_start[-1:])).astype(np.int64)
    if len(starts) != len(data) + 1:  # cannot happen for valid surrogateescape output; stay safe
        total = len(text.encode("utf-16-le")) // 2
        starts = (np.arange(len(data) + 1) * (total / max(len(data), 1))).astype(np.int64)
    return TextMap(text, starts)


@cache
def _utf16_unit_widths() -> IntArray:
    """Characters each UTF-16 code unit renders to (escaped controls are longer)."""
    widths = np.ones(0x10000, dtype=np.int64)
    for unit in (*range(0x20), *range(0x7F, 0xA0), 0x5C):
        widths[unit] = len(decode_text(unit.to_bytes(2, "little"), "utf-16"))
    return widths


def _utf16_starts(data: bytes) -> IntArray:
    """Both bytes of a code unit start at its character; an odd last byte is its own ``\\xNN``."""
    even = len(data) & ~1
    units = np.frombuffer(data[:even], dtype="<u2").astype(np.int64)
    unit_starts = np.concatenate(([0], np.cumsum(_utf16_unit_widths()[units]))).astype(np.int64)
    starts = np.repeat(unit_starts[:-1], 2)
    if len(data) & 1:
        starts = np.concatenate((starts, unit_starts[-1:]))
        return np.concatenate((starts, unit_starts[-1:] + 4)).astype(np.int64)
    return np.concatenate((starts, unit_starts[-1:])).astype(np.int64)


def chunk_end(data: bytes, start: int, size: int, encoding: str) -> int:
    """Where a chunk of ``data`` of about ``size`` bytes from ``start`` ends.

    Chunks decode separately exactly as the whole would: in ASCII and Latin-1
    every byte is a character of its own; in UTF-8 a chunk ends just before a
    byte that is no continuation byte, where every character (and every
    undecodable sequence) stops.
    """
    end = start + size
    if end >= len(data):
        return len(data)
    if encoding == "utf-16":
        return min(start + max(2, size & ~1), len(data))  # whole code units: chunks start on even offsets
    if encoding != "utf-8":
        return end
    found = _UTF8_START.search(data, end)
    return found.start() if found else len(data)


def join_maps(pieces: list[TextMap]) -> TextMap:
    """The map of consecutive chunks' text, as ``render`` of their bytes together gives it."""
    if len(pieces) == 1:
        return pieces[0]
    offsets = np.cumsum([0] + [int(p.starts[-1]) for p in pieces[:-1]])
    starts = [p.starts[:-1] + offset for p, offset in zip(pieces, offsets, strict=True)]
    starts.append(pieces[-1].starts[-1:] + offsets[-1])
    return TextMap("".join(p.text for p in pieces), np.concatenate(starts).astype(np.int64))
