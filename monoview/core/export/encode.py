"""Exported bytes as written: raw, a hex dump with running offsets, or escaped text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum

from monoview.core.render import escape_text, hexdump_lines
from monoview.core.streambytes import Chunk


class Format(Enum):
    """How exported bytes are written."""

    RAW = "raw"
    HEX = "hex"
    TEXT = "text"

    @property
    def suffix(self) -> str:
        """File name suffix for this format."""
        return {"raw": ".bin", "hex": ".hex", "text": ".txt"}[self.value]


class _Encoder:
    """Turns a stream of byte chunks into the output format, keeping hex offsets running."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self._pending = b""
        self._offset = 0

    def feed(self, chunk: bytes) -> bytes:
        """The encoded form of ``chunk`` (a hex dump holds back an incomplete last line)."""
        if self.fmt is Format.RAW:
            return chunk
        if self.fmt is Format.TEXT:
            return escape_text(chunk).encode("ascii")
        data = self._pending + chunk
        whole = len(data) - len(data) % 16
        self._pending = data[whole:]
        return self._lines(data[:whole])

    def finish(self) -> bytes:
        """Whatever ``feed`` held back."""
        if self.fmt is Format.HEX and self._pending:
            out = self._lines(self._pending)
            self._pending = b""
            return out
        return b""

    def _lines(self, data: bytes) -> bytes:
        if not data:
            return b""
        lines = hexdump_lines(data, self._offset)
        self._offset += len(data)
        return ("\n".join(lines) + "\n").encode("ascii")


def encoded(chunks: Iterable[Chunk], fmt: Format) -> Iterator[Chunk]:
    """``chunks`` converted to ``fmt`` (raw: the chunks themselves, untouched)."""
    if fmt is Format.RAW:
        return iter(chunks)
    return _encoded(chunks, fmt)


def _encoded(chunks: Iterable[Chunk], fmt: Format) -> Iterator[bytes]:
    encoder = _Encoder(fmt)
    for chunk in chunks:
        yield encoder.feed(bytes(chunk))
    yield encoder.finish()
