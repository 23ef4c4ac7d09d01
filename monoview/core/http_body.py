"""Content-Encoding: an HTTP body as the server meant it, decoded with bounded output.

``gzip`` and ``deflate`` come from :mod:`zlib` (deflate both as RFC 9110 says, zlib-wrapped,
and raw, as some servers send it; tshark and browsers accept both), ``br`` from the
``brotli`` package (Google's own binding) and ``zstd`` from ``zstandard``.  Every decoder is
driven with a limit on its output, so a body of a few kilobytes that inflates to gigabytes
(a decompression bomb) stops at ``cap`` bytes and says so, instead of taking the memory.

Several codings (``Content-Encoding: gzip, br``) are undone last first.  A coding that is
not known, or bytes that do not decode, leave the body as it came, with the reason: what
tshark does, which exports the encoded bytes when it cannot decode them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import brotli
import zstandard

DEFAULT_CAP: Final = 64 << 20  # decoded bytes kept of one body
_STEP: Final = 1 << 16  # input given to a decoder at a time, so output is checked as it grows


@dataclass(frozen=True)
class Decoded:
    """A body after its Content-Encoding: the bytes, and why they are not fully decoded if so."""

    data: bytes | bytearray
    error: str | None = None  # a coding not known or not decodable: ``data`` is the input
    capped: bool = False  # the decoded body reached the cap and was cut there
    cut_short: bool = False  # the coded stream ended early: ``data`` is what it held


class _Capped(Exception):
    """Output reached the cap (the bytes so far are in ``args[0]``)."""


class _Short(Exception):
    """The coded stream ended before its end mark (what it held is in ``args[0]``)."""


def _zlib(data: bytes | bytearray, wbits: int, cap: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    while pending and not decoder.eof:
        out += decoder.decompress(pending, cap + 1 - len(out))
        pending = decoder.unconsumed_tail
        if len(out) > cap:
            raise _Capped(bytes(out[:cap]))
    if not decoder.eof:
        out += decoder.flush()  # a stream cut short: what it held (tshark keeps it too)
        if len(out) > cap:
            raise _Capped(bytes(out[:cap]))
        if not out:
            raise zlib.error("truncated stream")
        raise _Short(bytes(out))
    return bytes(out)


def _gzip(data: bytes | bytearray, cap: int) -> bytes:
    return _zlib(data, 16 + zlib.MAX_WBITS, cap)


def _deflate(data: bytes | bytearray, cap: int) -> bytes:
    """zlib-wrapped deflate, or raw deflate when the first two bytes are no zlib header."""
    if len(data) >= 2 and (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0:
        return _zlib(data, zlib.MAX_WBITS, cap)
    return _zlib(data, -zlib.MAX_WBITS, cap)


def _brotli(data: bytes | bytearray, cap: int) -> bytes:
    decoder = brotli.Decompressor()
    out = bytearray()
    for start in range(0, max(len(data), 1), _STEP):
        out += decoder.process(data[start : start + _STEP], output_buffer_limit=cap + 1 - len(out))
        while not decoder.can_accept_more_data() and len(out) <= cap:
            out += decoder.process(b"", output_buffer_limit=cap + 1 - len(out))
        if len(out) > cap:
            raise _Capped(bytes(out[:cap]))
    if not decoder.is_finished():
        if not out:
            raise brotli.error("truncated stream")
        raise _Short(bytes(out))
    return bytes(out)


def _zstd(data: bytes | bytearray, cap: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    out = bytearray()
    while len(out) <= cap:
        piece = reader.read(min(_STEP, cap + 1 - len(out)))
        if not piece:
            return bytes(out)
        out += piece
    raise _Capped(bytes(out[:cap]))


_DECODERS: Final[dict[str, Callable[[bytes | bytearray, int], bytes]]] = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
}


def decode(data: bytes | bytearray, content_encoding: str, cap: int = DEFAULT_CAP) -> Decoded:
    """``data`` with the codings of ``content_encoding`` undone (last applied, first undone)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            return Decoded(data, f"unknown Content-Encoding {coding!r}")
        try:
            data = decoder(data, cap)
        except _Capped as capped:
            return Decoded(capped.args[0], None, capped=True)
        except _Short as short:
            return Decoded(short.args[0], None, cut_short=True)
        except (zlib.error, brotli.error, zstandard.ZstdError) as exc:
            return Decoded(data, f"{coding}: {exc}")
    return Decoded(data)
