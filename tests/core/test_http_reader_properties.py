"""The message reader gives the same messages however a direction's bytes are cut into
monologues outside message heads, and whatever garbage is put between messages.

Cuts inside a head are left out on purpose: a head cut at a parse point is judged on what
has arrived, as dpkt judged it (http_reader's docstring; ``lab/snaplen96`` depends on it).

The reference is the message list itself, built by the test (start lines, bodies), not
the reader's output on some other input.
"""

from __future__ import annotations

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from monoview.core.http_reader import MessageReader

Body = st.binary(min_size=0, max_size=300)


def _response(body: bytes, kind: int) -> bytes:
    if kind == 0:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    if kind == 1:
        size = max(1, len(body) // 3)
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
        )
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    coded = gzip.compress(body, mtime=0)
    return b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(coded) + coded


def _read(stream: bytes, cuts: list[int], gaps: dict[int, int] | None = None) -> list[bytes]:
    """Bodies read from ``stream`` fed in pieces ending at ``cuts`` (a parse point after each)."""
    reader = MessageReader(response=True)
    bodies: list[bytes] = []
    start = 0
    for index, end in enumerate([*sorted(set(cuts)), len(stream)]):
        if end <= start:
            continue
        piece_gaps = tuple((0, start, size) for at, size in (gaps or {}).items() if at == start)
        reader.feed(stream[start:end], index, index, piece_gaps)
        start = end
        while (message := reader.next(at_end=end == len(stream))) is not None:
            bodies.append(bytes(message.body))
    return bodies


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(Body, st.integers(0, 2)), min_size=1, max_size=5),
    st.lists(st.integers(0, 5000), max_size=12),
    st.lists(st.sampled_from([b"", b"\x00", b"\r\n", b"junk HTTP/1.x\n", b"HTTP/1.1"]), max_size=5),
)
def test_any_cutting_gives_the_same_messages(
    messages: list[tuple[bytes, int]], cuts: list[int], junk: list[bytes]
) -> None:
    parts = []
    heads = []  # (start, end) of each message head: no cut there
    at = 0
    for k, (body, kind) in enumerate(messages):
        if k < len(junk):
            parts.append(junk[k])  # garbage between messages is skipped to the next status line
            at += len(junk[k])
        message = _response(body, kind)
        heads.append((at, at + message.index(b"\r\n\r\n") + 4))
        parts.append(message)
        at += len(message)
    stream = b"".join(parts)
    expected = [gzip.compress(b, mtime=0) if kind == 2 else b for b, kind in messages]
    points = [c % (len(stream) + 1) for c in cuts]
    points = [c for c in points if not any(start < c < end for start, end in heads)]
    assert _read(stream, points) == expected


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=300), min_size=2, max_size=4),
    st.integers(0, 3),
    st.integers(0, 10_000),
    st.integers(1, 300),
    st.lists(st.integers(0, 5000), max_size=6),
)
def test_a_gap_in_a_body_leaves_the_other_messages_whole(
    bodies: list[bytes], which: int, where: int, size: int, cuts: list[int]
) -> None:
    """Bytes missing inside one Content-Length body: that body is its captured bytes with
    the gap noted, and every message after it is still read whole."""
    which %= len(bodies)
    messages = [_response(b, 0) for b in bodies]
    start = sum(len(m) for m in messages[:which])
    head = messages[which].index(b"\r\n\r\n") + 4
    body = bodies[which]
    hole = where % len(body)
    size = min(size, len(body) - hole)
    gap_at = start + head + hole  # stream offset of the first missing byte
    stream = b"".join(messages)
    captured = stream[:gap_at] + stream[gap_at + size :]
    reader = MessageReader(response=True)
    heads, at = [], 0
    for m in messages:
        heads.append((at, at + m.index(b"\r\n\r\n") + 4))
        at += len(m)
    points = [c % (len(captured) + 1) for c in cuts]
    points = [c for c in points if not any(a < (c if c < gap_at else c + size) < b for a, b in heads)]
    points = sorted({*points, gap_at, len(captured)})
    found = []
    begin = 0
    for index, end in enumerate(points):
        if end < begin or (end == begin and end != gap_at):
            continue
        gaps = ((0, gap_at, size),) if begin == gap_at else ()
        reader.feed(captured[begin:end], index, index, gaps)
        begin = end
        while (message := reader.next(at_end=end == len(captured), end_offset=gap_at)) is not None:
            found.append(message)
    assert [bytes(m.body) for m in found] == [
        b if k != which else b[:hole] + b[hole + size :] for k, b in enumerate(bodies)
    ]
    assert [m.gap for m in found] == [None if k != which else (gap_at, size) for k in range(len(bodies))]
    assert [m.body_length for m in found] == [len(b) for b in bodies]
