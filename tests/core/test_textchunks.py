"""Chunks rendered one by one are the blob rendered whole: same text, same byte map, markers in line.

The text view holds only a few chunks of a big blob, so every chunk must render
on its own exactly as it renders inside the whole (no character split at a cut,
in any encoding), and the gap markers must be where the whole text has them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monoview.core.blob import Blob, gap_marker
from monoview.core.render import ENCODINGS
from monoview.core.textchunks import BlobChunks, editor_map
from monoview.core.textmap import join_maps, render

# Bytes rich in UTF-8 lead and continuation bytes, so that cuts fall inside sequences.
_BYTES = st.lists(
    st.sampled_from([b"a", b"\n", b"\x80", b"\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xff", b"\x00"]),
    max_size=200,
).map(b"".join)


def _whole(blob: Blob, encoding: str) -> str:
    """The blob's text as one piece: each stretch between holes rendered, a marker at each hole."""
    texts, at = [], 0
    for position, missing in blob.gaps:
        texts += [render(blob.read(at, position - at), encoding).text, gap_marker(missing)]
        at = position
    texts.append(render(blob.read(at, blob.size - at), encoding).text)
    return "".join(texts)


def _units(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le", errors="surrogatepass")[2 * start : 2 * end].decode("utf-16-le")


@given(
    data=_BYTES,
    size=st.integers(4, 13),
    encoding=st.sampled_from(list(ENCODINGS)),
    holes=st.lists(st.integers(0, 200), max_size=3),
)
def test_chunks_render_as_the_whole(data: bytes, size: int, encoding: str, holes: list[int]) -> None:
    gaps = tuple((min(h, len(data)), 10 + k) for k, h in enumerate(sorted(holes)))
    blob = Blob("t", data, gaps=gaps)
    chunks = BlobChunks(blob, encoding, chunk=size)
    pieces = [chunks.chunk(k) for k in range(chunks.count)]
    assert [p.start for p in pieces[1:]] == [p.end for p in pieces[:-1]]
    assert pieces[0].start == 0 and pieces[-1].end == len(data)
    joined = join_maps([p.map for p in pieces])
    assert joined.text == _whole(blob, encoding)
    if not gaps:
        assert joined.starts.tolist() == render(data, encoding).starts.tolist()
    # Marker ranges count UTF-16 units, as Qt's text positions do.
    texts = [_units(p.map.text, a, b) for p in pieces for a, b in p.markers]
    assert texts == [gap_marker(missing) for _position, missing in gaps]
    for position in range(len(data) + 1):
        k = chunks.chunk_of(position)
        assert pieces[k].start <= position and (position < pieces[k].end or k == chunks.count - 1)


@given(text=st.text(alphabet="ab\n\r😀é", max_size=300))
def test_the_editor_map_is_the_text_as_qt_holds_it(text: str) -> None:
    """Line breaks for CR LF and CR, two units for an emoji; each character's place in that."""
    held = editor_map(text)
    assert held.text == text.replace("\r\n", "\n").replace("\r", "\n")
    assert len(held.starts) == len(text) + 1
    assert int(held.starts[-1]) == len(held.text.encode("utf-16-le")) // 2
    steps = np.diff(held.starts).tolist()
    for i, (char, step) in enumerate(zip(text, steps, strict=True)):
        crlf = char == "\r" and text[i + 1 : i + 2] == "\n"
        assert step == (0 if crlf else 2 if ord(char) >= 0x10000 else 1)
