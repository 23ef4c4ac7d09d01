"""A session followed as ``tshark -q -z follow,tcp,MODE,STREAM`` prints it.

What is printed comes from the window's renderers (``showas``): tshark's hex,
raw and YAML are ``showas.render`` of the session's segments, its ascii layout
``showas.chunked``.  This module adds what tshark puts around them (the ``===``
block with the Follow, Filter and Node lines; YAML has none) and chooses the
session: by monoview's id, by tshark's stream number (``flows.tcpstream``, which
also says where the two disagree) or by a pair of endpoints ``A:P,B:P``.

Node 0 is the sender of the session's first captured packet, as in tshark (not
necessarily the client): it is the unindented side.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from monoview.core.errors import UnknownSessionError
from monoview.core.flows.info import SessionInfo
from monoview.core.flows.tcpstream import TcpStreams
from monoview.core.showas import ShowAs, Turn, chunked, missing, render, segments, turns
from monoview.core.tcp.session import Endpoint, TcpSession

SEPARATOR: Final = "=" * 67
# --format's choices that print text (``bytes``, the raw bytes, is the command line's own).
FOLLOW_FORMATS: Final = ("ascii", "hex", "raw", "yaml", "c-array", "utf-8")
_SHOWN: Final = {"hex": ShowAs.HEX_DUMP, "raw": ShowAs.RAW, "yaml": ShowAs.YAML, "c-array": ShowAs.C_ARRAYS}


@dataclass(frozen=True)
class Chosen:
    """The session to follow, tshark's Filter line for it, and what to tell the user about it."""

    session_id: int
    filter: str
    note: str | None = None


def parse_pair(text: str) -> tuple[Endpoint, Endpoint]:
    """``A:P,B:P`` (IPv4, or IPv6 as ``[addr]:port``) as two endpoints; ValueError if it is not."""
    halves = text.split(",")
    if len(halves) != 2:
        raise ValueError(f"not two endpoints A:P,B:P: {text!r}")
    return _endpoint(halves[0]), _endpoint(halves[1])


def _endpoint(text: str) -> Endpoint:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 0xFFFF:
        raise ValueError(f"not an address and port: {text!r}")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise ValueError(f"an IPv6 address goes in brackets, [addr]:port: {text!r}")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"not an IP address: {host!r}") from None
    return Endpoint(address.packed, int(port))


def address_filter(a: Endpoint, b: Endpoint) -> str:
    """tshark's Filter line for a stream chosen by its endpoints, in the order given."""

    def side(src: Endpoint, dst: Endpoint) -> str:
        field = "ipv6" if len(src.ip) == 16 else "ip"
        s, d = ipaddress.ip_address(src.ip), ipaddress.ip_address(dst.ip)
        return (
            f"(({field}.src eq {s} and tcp.srcport eq {src.port}) and "
            f"({field}.dst eq {d} and tcp.dstport eq {dst.port}))"
        )

    return f"{side(a, b)} or {side(b, a)}"


def stream_filter(numbers: Sequence[int]) -> str:
    """``tcp.stream eq N``; a session holding several of tshark's streams names them all."""
    if len(numbers) == 1:
        return f"tcp.stream eq {numbers[0]}"
    return "tcp.stream in {" + ", ".join(str(n) for n in numbers) + "}"


def by_id(streams: TcpStreams, session_id: int) -> Chosen:
    """Session ``session_id`` (checked by the caller), with its stream numbers."""
    numbers = streams.streams_of(session_id)
    note = None
    if len(numbers) > 1:
        note = f"session {session_id} holds tshark's streams {listed(numbers)}"
    return Chosen(session_id, stream_filter(numbers), note)


def by_stream(streams: TcpStreams, number: int, name: str) -> Chosen:
    """The session of tshark's stream ``number``.  When monoview cut the capture otherwise:
    a session holding this stream and others is followed whole (and said so); a stream that
    monoview keeps as several sessions (equal endpoints on different VLANs or interfaces) is
    refused, naming them, since tshark's bytes of it are theirs interleaved."""
    if not 0 <= number < streams.count:
        raise UnknownSessionError(f"{name} has no tcp.stream {number} (it has {streams.count}, from 0)")
    ids = streams.sessions_of(number)
    if not ids:
        raise UnknownSessionError(f"{name}: tcp.stream {number} has no packet monoview keeps in a session")
    if len(ids) > 1:
        raise UnknownSessionError(
            f"{name}: tshark's stream {number} is monoview's sessions {listed(ids)} (equal endpoints "
            "kept apart by their VLAN tags or interfaces); follow one of them by its id"
        )
    held = streams.streams_of(ids[0])
    note = None
    if held != [number]:
        note = f"tshark's stream {number} is part of session {ids[0]}, which holds streams {listed(held)}"
    return Chosen(ids[0], stream_filter([number]), note)


def by_pair(sessions: Sequence[SessionInfo], pair: tuple[Endpoint, Endpoint], name: str, text: str) -> Chosen:
    """The first session between these two endpoints (in either order)."""
    wanted = set(pair)
    ids = [s.id for s in sessions if set(s.endpoints) == wanted]
    if not ids:
        raise UnknownSessionError(f"{name} has no session between {text}")
    note = None
    if len(ids) > 1:
        note = f"{len(ids)} sessions between {text} (ids {listed(ids)}): following session {ids[0]}"
    return Chosen(ids[0], address_filter(*pair), note)


def listed(numbers: Sequence[int]) -> str:
    """``1``, ``1 and 2``, ``1, 2 and 3``."""
    words = [str(n) for n in numbers]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


def _marked(turn: Turn) -> Turn:
    """A turn's holes as tshark prints them in follow: its marker's words and a NUL, as if they
    were bytes of the stream (the hex dump's offset runs on over them; a YAML entry that is only
    a marker has the time 0)."""
    if all(isinstance(p, bytes) for p in turn.parts):
        return turn
    data = b"".join(p if isinstance(p, bytes) else missing(p).encode("ascii") + b"\0" for p in turn.parts)
    only_hole = all(isinstance(p, int) for p in turn.parts)
    return replace(turn, parts=(data,), ts_ns=0 if only_hole else turn.ts_ns)


def follow_text(session: TcpSession, fmt: str, filter_text: str, *, monologues: bool = False) -> str:
    """The session in ``fmt`` (one of ``FOLLOW_FORMATS``) as tshark prints it: each segment's
    new bytes as one entry, or with ``monologues`` one entry per monologue."""
    node0 = "c2s" if session.client_side == 0 else "s2c"
    chosen: list[Turn] = (
        turns(session.monologues, node0) if monologues else segments(session.monologues, node0)
    )
    if fmt in ("yaml", "hex", "raw"):
        chosen = [_marked(turn) for turn in chosen]
    if fmt == "yaml":
        return render(session, chosen, ShowAs.YAML)
    if fmt in _SHOWN:
        body = render(session, chosen, _SHOWN[fmt])
    else:
        body = chunked(chosen, ShowAs.UTF8 if fmt == "utf-8" else ShowAs.ASCII)
    first, second = session.endpoints
    head = f"\n{SEPARATOR}\nFollow: tcp,{fmt}\nFilter: {filter_text}\nNode 0: {first}\nNode 1: {second}\n"
    return head + body + SEPARATOR + "\n"


__all__ = [
    "FOLLOW_FORMATS", "Chosen", "address_filter", "by_id", "by_pair", "by_stream", "follow_text",
    "parse_pair", "stream_filter",
]  # fmt: skip
