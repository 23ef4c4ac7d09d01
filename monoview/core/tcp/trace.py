"""The Net::Analysis verbosity options as a listener: ``v``, ``k`` and ``dump``.

``TcpListener`` prints these lines as it reassembles packet by packet; a
capture document replays sessions one after another and hands their events
to listeners, so the same options there are this listener.  Both use the
line formats below, so the lines are the same; on a document they come
session by session (in order of session start) instead of interleaved in
packet order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monoview.core.atomic import AtomicWriter
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket, format_ts
from monoview.core.paths import safe_name
from monoview.core.streambytes import GapPolicy, monologue_chunks
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

VERBOSE_PACKET = 0x01
VERBOSE_MONOLOGUE = 0x02
VERBOSE_SESSION = 0x04

Trace = Callable[[str], None]


def packet_line(session: TcpSession, packet: TcpPacket) -> str:
    """``[id] <packet> <kind>``: one packet as the reassembler classified it."""
    kind = packet.kind.value if packet.kind else "?"
    return f"[{session.id}] {packet.describe()} {kind}"


def monologue_line(session: TcpSession, monologue: Monologue) -> str:
    """``[id] monologue #n dir N bytes in P packets, first..last``."""
    return (
        f"[{session.id}] monologue #{monologue.index} {monologue.direction} "
        f"{monologue.length} bytes in {monologue.packets} packets, "
        f"{format_ts(monologue.first_ts_ns)}..{format_ts(monologue.last_ts_ns)}"
    )


def session_line(session: TcpSession, what: str) -> str:
    """``[id] session start|end: <session>``."""
    return f"[{session.id}] session {what}: {session.describe()}"


def watched(session: TcpSession, k: str | None) -> bool:
    """Is ``session`` the one ``k`` (a key or an id) asks about?"""
    return k is not None and k in (session.key, str(session.id))


def dump_name(session_id: int, key: str, index: int) -> str:
    """``s<id>_<key>.<n>``: Net::Analysis's ``<key>.<n>``, with the session's id first, so
    that sessions reusing one 4-tuple do not share names (and the names sort by session)."""
    return f"s{session_id:05d}_{safe_name(key)}.{index}"


def dump_monologue(
    folder: Path, session: TcpSession, monologue: Monologue, force: bool = False, checked: bool = False
) -> None:
    """Write the monologue's bytes to ``folder`` (Net::Analysis's ``dump``) as the exporter
    writes its files: complete or not at all, never through a link planted there, and
    never over an existing file without ``force`` (``checked``: the caller refused
    existing files already)."""
    name = dump_name(session.id, session.key, monologue.index)
    AtomicWriter(folder, name, force, checked=checked).write(monologue_chunks(monologue, GapPolicy.OMIT))


@dataclass(frozen=True)
class TraceOptions:
    """What ``monoview trace`` prints and dumps (Net::Analysis's ``v``, ``k``, ``dump``).

    ``force``: dumps may overwrite files; ``checked``: the caller refused
    existing ones already (``dump_monologue``).
    """

    v: int = VERBOSE_MONOLOGUE | VERBOSE_SESSION
    k: str | None = None
    dump: Path | None = None
    force: bool = False
    checked: bool = False


def trace_listener(options: TraceOptions, trace: Trace | None = None, *, keep: bool = False) -> TraceListener:
    """The listener for these options: with packet lines (``v & 0x01`` or ``k``) it
    takes ``tcp_packet``, which makes the document replay packet by packet."""
    kind = PacketTraceListener if options.v & VERBOSE_PACKET or options.k is not None else TraceListener
    return kind(options, trace, keep=keep)


def kept_trace_listeners(options: TraceOptions) -> list[Listener]:
    """A trace listener that keeps its lines (what each worker of ``fanout.map_sessions``
    runs, with the options bound by ``functools.partial``)."""
    return [trace_listener(options, keep=True)]


def trace_lines(listeners: list[Listener]) -> list[tuple[int, str]]:
    """The lines the trace listeners among ``listeners`` kept, by session id."""
    return [pair for x in listeners if isinstance(x, TraceListener) and x.lines for pair in x.lines]


class TraceListener(Listener):
    """Monologue and session lines, and monologue dumps."""

    def __init__(self, options: TraceOptions, trace: Trace | None = None, *, keep: bool = False) -> None:
        """``trace`` gets each line; with ``keep`` the lines are kept in ``lines`` instead,
        each with its session's id (for ``trace_lines``)."""
        self.options = options
        self.v, self.k, self.dump = options.v, options.k, options.dump
        self.trace = trace or (lambda line: sys.stderr.write(line + "\n"))
        self.lines: list[tuple[int, str]] | None = [] if keep else None

    def _line(self, session: TcpSession, line: str) -> None:
        if self.lines is not None:
            self.lines.append((session.id, line))
        else:
            self.trace(line)

    def tcp_session_start(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """Override Listener.tcp_session_start: the start line."""
        if self.v & VERBOSE_SESSION:
            self._line(session, session_line(session, "start"))

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        """Override Listener.tcp_monologue: the monologue line, and its dump."""
        if self.v & VERBOSE_MONOLOGUE:
            self._line(session, monologue_line(session, monologue))
        if self.dump is not None:
            dump_monologue(self.dump, session, monologue, self.options.force, self.options.checked)

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """Override Listener.tcp_session_end: the end line."""
        if self.v & VERBOSE_SESSION:
            self._line(session, session_line(session, "end"))


class PacketTraceListener(TraceListener):
    """Also a line per packet: of every session (``v & 0x01``) or of the one ``k`` names."""

    def tcp_packet(self, packet: TcpPacket, session: TcpSession) -> None:
        """Override Listener.tcp_packet: the packet line."""
        if self.v & VERBOSE_PACKET or watched(session, self.k):
            self._line(session, packet_line(session, packet))
