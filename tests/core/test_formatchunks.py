"""A "Show data as" format chunk by chunk is the whole format, character for character.

``FormatChunks`` renders only the chunks the text view holds; ``showas.render`` of
the same monologues is what Save As writes and ``monoview follow --show-as``
prints (and what tshark prints, where tshark has the format: test_showas.py).
Laid end to end, the chunks must be that text exactly, and what the editor holds
(line breaks for CR LF) the whole text's, on every shared capture and on a
generated one made to put the awkward bytes (UTF-8 and UTF-16 characters,
surrogate pairs, CR LF in three encodings, holes) across every cut.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monoview.core.blob import Blob, direction_blob, session_blob
from monoview.core.document import CaptureDocument
from monoview.core.formatchunks import FormatChunks
from monoview.core.showas import ShowAs, render, turns
from monoview.core.tcp.session import TcpSession
from monoview.core.textchunks import editor_map
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, pcap_bytes

AWKWARD = (
    "é€😀 line\r\n".encode() * 7
    + "\r\n😀\r\nx".encode("utf-16-le") * 9
    + b"\x0d\x25\xc1\xc2" * 11
    + bytes(range(256))
    + b"\xf0\x9f\x98"  # a character cut short
    + b"\r\n" * 20
)


def _awkward_capture(folder: Path) -> Path:
    """Both sides send the awkward bytes, with holes before, inside and after monologues."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, AWKWARD, mss=97)
    conv.segment(False, 5, AWKWARD[5:200])  # five bytes missing before the server's first byte
    conv.segment(False, 260, AWKWARD[260:400])  # and 60 inside
    conv.s_next += 400 + 31  # 31 missing at its end (the client's next bytes acknowledge them)
    conv.send(True, AWKWARD[::-1], mss=211)
    conv.send(False, AWKWARD, mss=1000)
    conv.close()
    path = folder / "awkward.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    return path


def _check(session: TcpSession, blob: Blob, how: ShowAs, chunk: int | None = None) -> None:
    monologues = [span.monologue for span in blob.spans if span.monologue is not None]
    whole = render(session, turns(monologues), how) if monologues else ""
    chunks = FormatChunks(blob, how, chunk)
    texts = [chunks.text(k) for k in range(chunks.count)]
    assert "".join(texts) == whole, (how, chunk)
    editor = [chunks.chunk(k).map for k in range(chunks.count)]
    assert "".join(m.text for m in editor) == editor_map(whole).text, (how, chunk)
    cuts = [chunks.cut(k) for k in range(chunks.count + 1)]
    assert cuts[0] == 0 and cuts[-1] == blob.size and cuts == sorted(cuts)
    assert editor[0].starts[0] == 0  # the first byte is where the text begins (its head shown)
    # The holes' words are marked where a format writes them in line (C arrays and YAML say
    # it in their heads); Raw writes them as hex.
    holes = [chunks.chunk(k).markers for k in range(chunks.count)]
    in_line = how not in (ShowAs.C_ARRAYS, ShowAs.YAML)
    assert sum(map(len, holes)) == (sum(len(t.holes) for t in chunks.turns) if in_line else 0)
    words = "bytes missing in capture file"
    words = words.encode().hex() if how is ShowAs.RAW else words
    for text_map, marked in zip(editor, holes, strict=True):
        units = text_map.text.encode("utf-16-le", errors="surrogatepass")
        for a, b in marked:
            assert words in units[2 * a : 2 * b].decode("utf-16-le")
    for k, text_map in enumerate(editor):
        assert len(text_map.starts) == cuts[k + 1] - cuts[k] + 1
        units = len(text_map.text.encode("utf-16-le", errors="surrogatepass")) // 2  # as Qt counts
        assert np.all(np.diff(text_map.starts) >= 0) and text_map.starts[-1] == units
        assert chunks.chunk_of(cuts[k]) == k or cuts[k] == cuts[k + 1]


def test_the_awkward_bytes_across_every_cut(tmp_path: Path) -> None:
    path = _awkward_capture(tmp_path)
    with CaptureDocument(path, workers=1) as document:
        session = document.conversation(1)
        assert session.gaps("s2c")  # the holes are there
        blobs = [session_blob(session, session.monologues)]
        for side in ("c2s", "s2c"):
            sent = [m for m in session.monologues if m.direction == side]
            blobs.append(direction_blob(session, side, sent))
        for blob in blobs:
            for how in ShowAs:
                for chunk in (64, 65, 66, 67, 70, 77, 97, 128, 131, 200, 256, 1000, None):
                    _check(session, blob, how, chunk)


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_every_format_of_every_shared_capture(path: Path) -> None:
    with CaptureDocument(path, workers=1) as document:
        count = len(document.rows)
        for number in sorted({n for n in (1, 2, count // 2, count) if 1 <= n <= count}):  # a few of each
            session = document.conversation(number)
            blob = session_blob(session, session.monologues)
            if blob.size > 400_000:
                continue  # the synthetic giants prove nothing more, slowly
            for how in ShowAs:
                for chunk in (64, 101, None):
                    _check(session, blob, how, chunk)


def _capture(folder: Path, conv: Conversation) -> Path:
    path = folder / "case.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    return path


def test_a_lone_high_surrogate_before_a_parts_odd_last_byte_is_one_character(tmp_path: Path) -> None:
    """UTF-16 of ``... D83D 41``: the surrogate and the odd byte decode to one replacement
    character, so no cut goes between them (review: helper; a cut there made two)."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"A\x00" * 31 + b"\x3d\xd8" + b"A")
    conv.send(False, b"A\x00" * 4095 + b"\x3d\xd8" + b"A")  # at the default chunk's end too
    conv.close()
    with CaptureDocument(_capture(tmp_path, conv), workers=1) as document:
        session = document.conversation(1)
        for chunk in (64, 65, 66, None):
            _check(session, session_blob(session, session.monologues), ShowAs.UTF16, chunk)


def test_a_hole_at_a_turns_end_stays_with_that_turn(tmp_path: Path) -> None:
    """A snaplen cut at the end of the client's turn: in the hex dump its words are the
    client's, and the server's first byte maps to the server's first line, not to them."""
    conv = Conversation()
    conv.handshake()
    cut = conv.segment(True, 0, bytes(range(40)))
    cut.origlen, cut.data = len(cut.data), cut.data[:-10]
    conv.c_next += 40
    conv.send(False, bytes(range(20)))
    conv.close()
    with CaptureDocument(_capture(tmp_path, conv), workers=1) as document:
        session = document.conversation(1)
        blob = session_blob(session, session.monologues)
        _check(session, blob, ShowAs.HEX_DUMP)
        chunk = FormatChunks(blob, ShowAs.HEX_DUMP).chunk(0)
        ((_start, hole_end),) = chunk.markers
        server_first = int(chunk.map.starts[blob.spans[1].start])
        assert server_first >= hole_end
        assert chunk.map.text[server_first:].startswith("\t00000000")
