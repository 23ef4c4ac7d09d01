"""A conversation "shown as" Wireshark's Follow Stream shows it: the same choices, as text.

``ASCII``, ``UTF-8``, ``Latin-1``, ``UTF-16`` and ``EBCDIC`` decode the bytes (what
cannot be shown becomes ``.``, as in Wireshark; newlines and tabs stay);
``Hex Dump`` is Wireshark's (an offset running on per direction, two groups of
eight bytes, the ASCII beside them; the server's lines indented by a tab, as
tshark prints them); ``C Arrays`` is one ``char peerN_M[]`` array per turn;
``Raw`` is the bytes as one hex string per turn (the server's indented);
``YAML`` is tshark's ``follow,tcp,yaml`` layout, one entry per turn with its
first frame and time, the bytes in base64.  Where bytes are missing, every
text format says ``[N bytes missing in capture file]`` in line, as Wireshark
does; C arrays and YAML say it in a comment.

A *turn* is a monologue (what one side sent before the other answered).  The
window shows these, copies them and saves them (Save As), and ``monoview follow``
can print them: one renderer for all, so what is seen is what is saved.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

Part = bytes | int  # captured bytes, or the number of bytes missing there
# Printable ASCII plus newline, carriage return and tab stay; the rest becomes '.'.
_KEEP: Final = frozenset((0x09, 0x0A, 0x0D, *range(0x20, 0x7F)))
_ASCII_DOTS: Final = bytes(b if b in _KEEP else ord(".") for b in range(256))
# tshark's follow,tcp,ascii: printable ASCII, newline and carriage return; a tab becomes '.'.
_TSHARK_DOTS: Final = bytes(b if b in _KEEP and b != 0x09 else ord(".") for b in range(256))
# The hex dump's right column: printable ASCII only.
_HEX_DOTS: Final = bytes(b if 0x20 <= b < 0x7F else ord(".") for b in range(256))
C_ARRAY_WIDTH: Final = 8
BASE64_WIDTH: Final = 76


class ShowAs(Enum):
    """Wireshark's "Show data as" choices."""

    ASCII = "ASCII"
    UTF8 = "UTF-8"
    LATIN1 = "Latin-1"
    UTF16 = "UTF-16"
    EBCDIC = "EBCDIC"
    HEX_DUMP = "Hex Dump"
    C_ARRAYS = "C Arrays"
    RAW = "Raw"
    YAML = "YAML"

    @property
    def cli_name(self) -> str:
        """The name ``--show-as`` takes (``hex-dump`` for Hex Dump)."""
        return self.value.lower().replace(" ", "-")

    @classmethod
    def named(cls, cli_name: str) -> ShowAs:
        """The format ``--show-as`` names (``cli_name``)."""
        return next(how for how in cls if how.cli_name == cli_name)

    @property
    def suffix(self) -> str:
        """A file name suffix for Save As."""
        return {ShowAs.C_ARRAYS: ".c", ShowAs.YAML: ".yaml", ShowAs.RAW: ".hex"}.get(self, ".txt")


@dataclass(frozen=True)
class Turn:
    """One monologue as the renderers see it: who sent it, when, and its bytes with the holes."""

    direction: str  # c2s or s2c
    index: int
    frame: int  # the first frame that carried its bytes
    ts_ns: int
    parts: tuple[Part, ...]
    node0: str = "c2s"  # the direction Wireshark's peer 0 sends: tshark's is the first packet's sender

    @property
    def peer(self) -> int:
        """Wireshark's peer number: 0 for ``node0``'s sender (the client unless told), 1 for the other."""
        return 0 if self.direction == self.node0 else 1

    @property
    def data(self) -> bytes:
        """The captured bytes, holes left out."""
        return b"".join(p for p in self.parts if isinstance(p, bytes))

    @classmethod
    def of(cls, monologue: Monologue, node0: str = "c2s") -> Turn:
        """The monologue's pieces in stream order, with its gaps where they are."""
        read = monologue.session.read
        events: list[tuple[int, int, Part]] = [(g.offset, 0, g.length) for g in monologue.gaps()]
        for offset, length, file_offset, _frame in monologue.pieces():
            events.append((offset, 1, read(file_offset, length)))
        events.sort(key=lambda e: (e[0], e[1]))
        # The bytes between two holes joined once (``+=`` on bytes copies the whole so far:
        # 26,000 pieces of a 37.7 MB monologue took four minutes).
        parts: list[Part] = []
        run: list[bytes] = []
        for _offset, _kind, part in events:
            if isinstance(part, bytes):
                run.append(part)
                continue
            if run:
                parts.append(b"".join(run))
                run = []
            parts.append(part)
        if run:
            parts.append(b"".join(run))
        frames = monologue.frames
        first = frames[0] if frames else 0
        return cls(monologue.direction, monologue.index, first, monologue.first_ts_ns, tuple(parts), node0)


def turns(monologues: Iterable[Monologue], node0: str = "c2s") -> list[Turn]:
    """The turns of these monologues, in the order given (``node0``: see ``Turn``)."""
    return [Turn.of(m, node0) for m in monologues]


def segments(monologues: Iterable[Monologue], node0: str = "c2s") -> list[Turn]:
    """Each piece of these monologues as a turn of its own, with its own frame and time: the
    chunks tshark's ``follow`` prints (the new bytes each segment added), a hole as a turn
    holding only the count of bytes missing."""
    out: list[Turn] = []
    for monologue in monologues:
        stream, read = monologue.stream, monologue.session.read
        origin = stream.origin()
        holes = {gap.offset: gap.length for gap in monologue.gaps()}
        for i in monologue.piece_indices():
            offset = stream.p_start[i] - origin
            frame, ts = stream.p_frame[i], stream.p_ts[i]
            for start in sorted(o for o in holes if o < offset):
                out.append(Turn(monologue.direction, monologue.index, frame, ts, (holes.pop(start),), node0))
            data = read(stream.p_file[i], stream.p_len[i])
            out.append(Turn(monologue.direction, monologue.index, frame, ts, (data,), node0))
        for start in sorted(holes):
            out.append(
                Turn(monologue.direction, monologue.index, 0, monologue.last_ts_ns, (holes[start],), node0)
            )
    return out


def missing(length: int) -> str:
    """Wireshark's words for a hole in the stream."""
    return f"[{length} bytes missing in capture file]"


def render(session: TcpSession, chosen: Sequence[Turn], how: ShowAs) -> str:
    """The turns as ``how`` shows them (the session names the peers)."""
    if how is ShowAs.HEX_DUMP:
        return _hex_dump(chosen)
    if how is ShowAs.C_ARRAYS:
        return _c_arrays(chosen)
    if how is ShowAs.RAW:
        return "".join(_raw(turn) for turn in chosen)
    if how is ShowAs.YAML:
        return _yaml(session, chosen)
    return "".join(_decoded(turn, how) for turn in chosen)


def decode(data: bytes, how: ShowAs) -> str:
    """Bytes as text in one of the decoding choices; what cannot be shown becomes ``.``."""
    if how is ShowAs.ASCII:
        return data.translate(_ASCII_DOTS).decode("ascii")
    if how is ShowAs.EBCDIC:
        return _dotted(data.decode("cp037"))
    if how is ShowAs.LATIN1:
        return _dotted(data.decode("latin-1"))
    if how is ShowAs.UTF16:
        return _dotted(data.decode("utf-16-le", errors="replace"))
    return _dotted(data.decode("utf-8", errors="replace"))


def _dotted(text: str) -> str:
    """Control characters (but newline, carriage return and tab) as ``.``."""
    return "".join("." if (ord(c) < 0x20 and c not in "\n\r\t") or 0x7F <= ord(c) < 0xA0 else c for c in text)


def _decoded(turn: Turn, how: ShowAs) -> str:
    out = []
    for part in turn.parts:
        out.append(decode(part, how) if isinstance(part, bytes) else missing(part))
    text = "".join(out)
    return text + line_end(text)


def line_end(text: str) -> str:
    """What ends a decoded turn: a newline, unless its text is empty or ends with one."""
    return "\n" if text and not text.endswith("\n") else ""


def hole_line(indent: str, count: int) -> str:
    """A hole as the hex dump writes it (a line, without its newline)."""
    return f"{indent}{missing(count)}"


def raw_hole(count: int) -> str:
    """A hole as Raw writes it: Wireshark's words, as hex."""
    return missing(count).encode().hex()


def yaml_line(encoded: str) -> str:
    """A line of a YAML entry's base64 (``BASE64_WIDTH`` characters at most)."""
    return f"      {encoded}\n"


def chunked(chosen: Sequence[Turn], how: ShowAs = ShowAs.ASCII) -> str:
    """tshark's ``follow,tcp,ascii`` layout: each turn as its length on a line of its own (the
    second peer's indented by a tab), then its bytes decoded as ``how`` and a newline.  A hole
    is the marker tshark prints, its words and a NUL (shown as ``.``), counted in the length.
    Unlike the window's ASCII, tshark's shows a tab as ``.``."""

    def shown(data: bytes) -> str:
        return data.translate(_TSHARK_DOTS).decode("ascii") if how is ShowAs.ASCII else decode(data, how)

    out = []
    for turn in chosen:
        indent = "" if turn.peer == 0 else "\t"
        length = sum(len(p) if isinstance(p, bytes) else len(missing(p)) + 1 for p in turn.parts)
        text = "".join(shown(p) if isinstance(p, bytes) else missing(p) + "." for p in turn.parts)
        out.append(f"{indent}{length}\n{text}\n")
    return "".join(out)


def _hex_dump(chosen: Sequence[Turn]) -> str:
    """Wireshark's hex dump: 16 bytes a line, the offset running on per direction."""
    offsets = {"c2s": 0, "s2c": 0}
    lines: list[str] = []
    for turn in chosen:
        indent = "" if turn.peer == 0 else "\t"
        for part in turn.parts:
            if isinstance(part, int):
                lines.append(hole_line(indent, part))
                continue
            start = offsets[turn.direction]
            rows = range(0, len(part), 16)
            lines.extend(hex_line(indent, start + pos, part[pos : pos + 16]) for pos in rows)
            offsets[turn.direction] = start + len(part)
    return "\n".join(lines) + ("\n" if lines else "")


def hex_line(indent: str, offset: int, row: bytes) -> str:
    """One line of the hex dump (without its newline): up to 16 bytes at ``offset`` of their
    direction."""
    left, right = row[:8].hex(" "), row[8:].hex(" ")
    text = row.translate(_HEX_DOTS).decode("ascii")
    shown = f"{text[:8]} {text[8:]}" if len(row) >= 8 else text
    line = f"{indent}{offset:08X}  {left:<23}  {right:<23}  {shown}"
    # tshark puts the middle space after the eighth character even when nothing follows
    # it, then drops one trailing space (the middle one, or the data's): what it prints,
    # byte for byte.
    return line[:-1] if line.endswith(" ") else line


def _c_arrays(chosen: Sequence[Turn]) -> str:
    """``char peer0_0[] = { /* Packet 4 */ ... };``: one array per turn, as Wireshark writes them."""
    counts = [0, 0]
    out = []
    for turn in chosen:
        number = counts[turn.peer]
        counts[turn.peer] += 1
        out.append(c_array_head(turn.peer, number, turn.frame, [p for p in turn.parts if isinstance(p, int)]))
        data = turn.data
        rows = [data[i : i + C_ARRAY_WIDTH] for i in range(0, len(data), C_ARRAY_WIDTH)]
        out.extend(c_array_row(row, k == len(rows) - 1) for k, row in enumerate(rows))
        out.append("};\n")
    return "".join(out)


def c_array_head(peer: int, number: int, frame: int, holes: Sequence[int]) -> str:
    """A C array's first line, and a comment for each hole of its turn."""
    return f"char peer{peer}_{number}[] = {{ /* Packet {frame} */\n" + "".join(
        f"/* {missing(n)} */\n" for n in holes
    )


def c_array_row(row: bytes, last: bool) -> str:
    """A line of up to ``C_ARRAY_WIDTH`` bytes of a C array."""
    return ", ".join(f"0x{b:02x}" for b in row) + ("\n" if last else ",\n")


def _raw(turn: Turn) -> str:
    indent = "" if turn.peer == 0 else "\t"
    text = "".join(p.hex() if isinstance(p, bytes) else raw_hole(p) for p in turn.parts)
    return f"{indent}{text}\n"


def _yaml_time(ts_ns: int) -> str:
    """Seconds with nine decimals as tshark's YAML prints them: through a double (seconds plus
    nanoseconds), so the last digits are the double's, not the capture's."""
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return f"{seconds + ns / 1e9:.9f}"


def _yaml(session: TcpSession, chosen: Sequence[Turn]) -> str:
    """tshark's ``follow,tcp,yaml`` layout: the peers, then each turn's first frame, time and bytes."""
    out = [yaml_peers(session, chosen[0].node0 if chosen else "c2s")]
    for turn in chosen:
        holes = [p for p in turn.parts if isinstance(p, int)]
        out.append(yaml_head(turn.frame, turn.peer, turn.ts_ns, holes))
        encoded = base64.b64encode(turn.data).decode("ascii")
        for i in range(0, len(encoded), BASE64_WIDTH):
            out.append(yaml_line(encoded[i : i + BASE64_WIDTH]))
    return "".join(out)


def yaml_peers(session: TcpSession, node0: str = "c2s") -> str:
    """The start of the YAML layout: the two peers (peer 0 sends ``node0``), then ``packets:``."""
    out = ["peers:\n"]
    peers = (session.client, session.server)
    if node0 != "c2s":
        peers = peers[::-1]
    for peer, endpoint in enumerate(peers):
        host = str(endpoint).rsplit(":", 1)[0].strip("[]")
        out.append(f"  - peer: {peer}\n    host: {host}\n    port: {endpoint.port}\n")
    out.append("packets:\n")
    return "".join(out)


def yaml_head(frame: int, peer: int, ts_ns: int, holes: Sequence[int]) -> str:
    """A turn's YAML entry up to its base64 lines."""
    out = f"  - packet: {frame}\n    peer: {peer}\n    timestamp: {_yaml_time(ts_ns)}\n"
    if holes:
        out += f"    missing: {sum(holes)}\n"
    return out + "    data: !!binary |\n"


__all__ = [
    "BASE64_WIDTH", "C_ARRAY_WIDTH", "ShowAs", "Turn", "c_array_head", "c_array_row", "chunked", "decode",
    "hex_line", "hole_line", "line_end", "missing", "raw_hole", "render", "segments", "turns", "yaml_head",
    "yaml_line", "yaml_peers",
]  # fmt: skip
