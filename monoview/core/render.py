"""Pure functions that turn stream bytes into text: hex dump and escaped text.

The views and the export share them, so what a user sees is what they save.
"""

from __future__ import annotations

from typing import Final

_PRINTABLE: Final = bytes(range(0x20, 0x7F))
# One table lookup per byte: printable ASCII stays, the rest becomes '.'.
_DOTS: Final = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))


def ascii_column(data: bytes) -> str:
    """Printable ASCII of ``data``, other bytes as ``.`` (the hex dump's right column)."""
    return data.translate(_DOTS).decode("ascii")


def hexdump_lines(data: bytes, start_offset: int = 0, width: int = 16) -> list[str]:
    """``hexdump -C`` style lines: offset, hex bytes in two groups, ASCII column."""
    lines = []
    half = width // 2
    for pos in range(0, len(data), width):
        chunk = data[pos : pos + width]
        left = chunk[:half].hex(" ")
        right = chunk[half:].hex(" ")
        hex_part = f"{left:<{half * 3 - 1}}  {right:<{half * 3 - 1}}"
        lines.append(f"{start_offset + pos:08x}  {hex_part}  |{ascii_column(chunk)}|")
    return lines


def hexdump(data: bytes, start_offset: int = 0) -> str:
    """The whole hex dump as text, one line per 16 bytes, newline-terminated."""
    lines = hexdump_lines(data, start_offset)
    return "\n".join(lines) + "\n" if lines else ""


def _escape_table(upper: range) -> dict[int, str]:
    table = {c: f"\\x{c:02x}" for c in (*range(0x20), *upper) if c not in (0x09, 0x0A)}
    table[0x0D] = "\\r"
    table[0x5C] = "\\\\"
    return table


# Text view and export: control characters (and, for ASCII, every byte >= 0x7f)
# become \xNN; backslash is doubled so the escaping can be undone.
_ASCII_ESCAPES: Final = _escape_table(range(0x7F, 0x100))
_CONTROL_ESCAPES: Final = {
    **_escape_table(range(0x7F, 0xA0)),
    # surrogateescape turns each undecodable byte b into U+DC00+b
    **{0xDC00 + b: f"\\x{b:02x}" for b in range(0x80, 0x100)},
}


def escape_text(data: bytes) -> str:
    """Printable ASCII as is, newlines and tabs kept, every other byte as ``\\xNN``."""
    return data.decode("latin-1").translate(_ASCII_ESCAPES)


ENCODINGS: Final = ("ascii", "utf-8", "latin-1", "utf-16", "ebcdic")
# Escapes for text decoded from UTF-16 or EBCDIC: control characters only (a lone surrogate
# is a character of its own there, not an undecodable byte).
_PLAIN_CONTROL_ESCAPES: Final = _escape_table(range(0x7F, 0xA0))


def decode_text(data: bytes, encoding: str) -> str:
    """Decode for display in ``ascii``, ``utf-8``, ``latin-1``, ``utf-16`` (little-endian, as
    Wireshark's UTF-16) or ``ebcdic`` (code page 037); control characters escaped.

    Undecodable UTF-8 sequences, and the odd last byte of UTF-16, appear as ``\\xNN``
    too, so no byte is hidden.
    """
    if encoding == "ascii":
        return escape_text(data)
    if encoding == "ebcdic":
        return data.decode("cp037").translate(_PLAIN_CONTROL_ESCAPES)
    if encoding == "utf-16":
        even = len(data) & ~1
        # A lone surrogate becomes U+FFFD: one character for its one code unit, as Qt counts.
        text = data[:even].decode("utf-16-le", errors="replace").translate(_PLAIN_CONTROL_ESCAPES)
        return text + (f"\\x{data[-1]:02x}" if len(data) & 1 else "")
    return data.decode(encoding, errors="surrogateescape").translate(_CONTROL_ESCAPES)
