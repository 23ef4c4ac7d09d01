"""Finding text or hex bytes in a conversation (the window's find bar drives it).

The haystack is the session blob (every monologue's bytes back to back, gaps
omitted), so a match can span packets but never a monologue boundary's
meaning changes: the caller maps a position back to its monologue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    """Finds a pattern in ``data``, forwards or backwards, wrapping around."""

    data: bytes
    _folded: bytes | None = None

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
            pos = hay.find(needle, start)
            if pos >= 0:
                return pos, False
            pos = hay.find(needle, 0, start + len(needle) - 1)
        else:
            pos = hay.rfind(needle, 0, max(start, 0))
            if pos >= 0:
                return pos, False
            pos = hay.rfind(needle, max(start, 0))
        return (pos, True) if pos >= 0 else None

    def all(self, pattern: bytes, case_sensitive: bool, limit: int = 100_000) -> list[int]:
        """Every match's position, overlapping ones too, in order (at most ``limit``)."""
        hay = self._haystack(case_sensitive)
        needle = pattern if case_sensitive else pattern.lower()
        found: list[int] = []
        pos = hay.find(needle)
        while pos >= 0 and len(found) < limit:
            found.append(pos)
            pos = hay.find(needle, pos + 1)
        return found
