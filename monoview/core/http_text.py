"""Text for the bytes of an HTTP start line or header field, with no byte dropped.

HTTP/1.x is bytes on the wire: a client may send a raw ``é`` (``c3 a9``) or
``ÿ`` (``ff``) in a URI or a header.  The old parser decoded each line as ASCII
and dropped the rest (``GET /café/漢字`` became ``/caf/``).  Here:

* a URI shows valid UTF-8 as its characters and every other byte as
  ``%XX``, its RFC 3986 percent-encoding (what a browser or curl would send
  for it, so the shown URI can be pasted back).  tshark 4.0's
  ``http.request.uri`` turns each such byte into U+FFFD, which loses them;
  its packet details show the request line decoded as UTF-8, as here.
  ASCII control bytes and characters that do not print (C1 controls, bidi
  overrides, non-breaking spaces) are percent-encoded too, so a URI can
  neither drive the terminal it is printed on nor hide part of itself;
* a header value, a reason phrase or a version shows valid UTF-8 as its
  characters and other bytes as ``\\xNN`` (RFC 9110 5.5 calls them opaque
  "obs-text"; a ``%`` there would read as part of the value).

Printable ASCII is unchanged in both, so what was shown before still is.
Where the output cannot hold the characters (a terminal that is not UTF-8),
:func:`ascii_uri` percent-encodes the rest of a URI as well.
"""

from __future__ import annotations

import re
from typing import Final

# Characters of a URI shown as %XX: ASCII controls and DEL, undecodable bytes (as the
# surrogates "surrogateescape" gives them), and any other character that does not print.
_ASCII_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")


def _percent(char: str) -> str:
    """``%XX`` for each byte the character stood for."""
    if "\udc80" <= char <= "\udcff":  # an undecodable byte, kept by surrogateescape
        return f"%{ord(char) - 0xDC00:02X}"
    return "".join(f"%{b:02X}" for b in char.encode("utf-8"))


def uri_text(raw: bytes) -> str:
    """The request target for display: UTF-8 where valid, ``%XX`` for any other byte."""
    if raw.isascii():
        text = raw.decode("ascii")
        return _ASCII_CONTROL.sub(lambda m: _percent(m.group()), text) if not text.isprintable() else text
    text = raw.decode("utf-8", "surrogateescape")
    text = _ASCII_CONTROL.sub(lambda m: _percent(m.group()), text)
    return _NON_ASCII.sub(lambda m: m.group() if m.group().isprintable() else _percent(m.group()), text)


def field_text(raw: bytes) -> str:
    """A header name or value, reason phrase or version: UTF-8 where valid, ``\\xNN`` otherwise."""
    if raw.isascii():
        return raw.decode("ascii")
    return raw.decode("utf-8", "backslashreplace")


def ascii_uri(text: str) -> str:
    """A URI from :func:`uri_text` with its non-ASCII characters percent-encoded too (as UTF-8)."""
    return text if text.isascii() else _NON_ASCII.sub(lambda m: _percent(m.group()), text)
