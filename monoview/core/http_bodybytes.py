"""The body of the HTTP message being read: its bytes up to a cap, and the gaps it crossed.

Kept apart from :mod:`monoview.core.http_reader`, which frames messages: this only
counts what the framing says is body, keeps the bytes (so the object can be exported,
decoded and hashed) and records the bytes the capture lacks, so a body across a gap is
reported incomplete rather than silently short.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BodyBytes:
    """A body so far: ``length`` bytes on the wire, ``data`` the captured ones (at most ``cap``)."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    length: int = 0  # on the wire, de-chunked, missing bytes counted
    gap: tuple[int, int] | None = None  # (stream offset, size) of the first gap it crossed
    missing: int = 0  # bytes the capture lacks
    capped: bool = False  # more than ``cap`` captured bytes: ``data`` is their start

    def keep(self, buf: bytearray, start: int, count: int) -> None:
        """Count ``buf[start:start + count]`` as body, keeping it up to the cap."""
        room = self.cap - len(self.data)
        if room > 0:
            self.data += buf[start : start + min(room, count)]
        if count > room:
            self.capped = True
        self.length += count

    def lose(self, offset: int, size: int, lost: int) -> None:
        """``lost`` body bytes fall in the gap of ``size`` bytes at stream ``offset``."""
        if self.gap is None:
            self.gap = (offset, size)
        self.missing += lost
        self.length += lost
