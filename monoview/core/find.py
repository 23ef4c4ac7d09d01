"""Finding text or hex bytes in a conversation (the window's find bar drives it).

The haystack is the session blob (every monologue's bytes back to back, gaps
omitted): a match can span packets and monologues (the caller maps a position
back to its monologue), but never a gap.  Bytes on the two sides of a gap were
never next to each other in the stream, so a match across one (which the views
show split by a ``[N bytes missing]`` marker) is no match; ``breaks`` are those
positions.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field


class PatternError(ValueError):
    """The pattern cannot be searched for (bad hex, empty)."""


def parse_pattern(text: str, hex_mode: bool) -> bytes:
    """The bytes to look for: UTF-8 of ``text``, or the hex digits in it (``48 54``, ``0x4854``)."""
    if not text:
        raise PatternError("Type something to find.")
    if not hex_mode:
        return text.encode("utf-8")
    digits = re.sub(r"0x|[\s:,-]", "", text, flags=re.IGNORECASE)
    if len(digits) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", digits):
        raise PatternError(f"{text!r} is not a sequence of hex bytes, e.g. 47 45 54 or 474554.")
    return bytes.fromhex(digits)


@dataclass
class Searcher:
    """Finds a pattern in ``data``, forwards or backwards, wrapping around; ``breaks`` are the
    positions (sorted) where bytes are missing: no match spans one."""

    data: bytes
    breaks: tuple[int, ...] = ()
    _folded: bytes | None = field(default=None, repr=False)

    def _whole(self, position: int, length: int) -> bool:
        """Whether ``[position, position + length)`` lies between two breaks (a break at
        either end is only its edge)."""
        i = bisect.bisect_right(self.breaks, position)
        return i == len(self.breaks) or self.breaks[i] >= position + length

    def _haystack(self, case_sensitive: bool) -> bytes:
        if case_sensitive:
            return self.data
        if self._folded is None:
            self._folded = self.data.lower()
        return self._folded

    def find(
        self, pattern: bytes, start: int, forward: bool, case_sensitive: bool
    ) -> tuple[int, bool] | None:
        """Position of the next match from ``start`` and whether the search wrapped; None if absent."""
        hay = self._haystack(case_sensitive)
        needle = pattern if case_sensitive else pattern.lower()
        if forward:
            pos = self._next(hay, needle, start, len(hay))
            if pos >= 0:
                return pos, False
            pos = self._next(hay, needle, 0, start + len(needle) - 1)
        else:
            # The last match that begins before ``start`` (it may run past it), then the last
            # one of all.
            pos = self._previous(hay, needle, 0, max(start, 0) + len(needle) - 1)
            if pos >= 0:
                return pos, False
            pos = self._previous(hay, needle, max(start, 0), len(hay))
        return (pos, True) if pos >= 0 else None

    def _next(self, hay: bytes, needle: bytes, start: int, end: int) -> int:
        """The first whole match in ``hay[start:end]``, or -1."""
        pos = hay.find(needle, start, end)
        while pos >= 0 and not self._whole(pos, len(needle)):
            pos = hay.find(needle, pos + 1, end)
        return pos

    def _previous(self, hay: bytes, needle: bytes, start: int, end: int) -> int:
        """The last whole match in ``hay[start:end]``, or -1."""
        pos = hay.rfind(needle, start, end)
        while pos >= 0 and not self._whole(pos, len(needle)):
            pos = hay.rfind(needle, start, pos + len(needle) - 1)
        return pos

    def all(self, pattern: bytes, case_sensitive: bool, limit: int = 100_000) -> list[int]:
        """Every match's position, overlapping ones too, in order (at most ``limit``)."""
        hay = self._haystack(case_sensitive)
        needle = pattern if case_sensitive else pattern.lower()
        found: list[int] = []
        pos = self._next(hay, needle, 0, len(hay))
        while pos >= 0 and len(found) < limit:
            found.append(pos)
            pos = self._next(hay, needle, pos + 1, len(hay))
        return found
