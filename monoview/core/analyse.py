"""The single entry point that the GUI worker and the command line share.

``Analysis(path).run()`` reads the capture, drives the dispatcher and yields
``Batch`` objects: small at first (so the first sessions show at once), then
larger.  It checks a cancel callback between batches and reports progress in
bytes.  A damaged file ends the run early with ``read_error`` set; every
session read before the damage is kept and finished normally.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from os import PathLike

from monoview.core.capture.counts import CaptureStats
from monoview.core.capture.decode import Cut, Several, Skip, decode, reassembler
from monoview.core.capture.fragments import Fragment, FragmentReassembler
from monoview.core.capture.records import Record
from monoview.core.capture.source import CaptureFile
from monoview.core.dispatcher import Dispatcher
from monoview.core.errors import CaptureReadError, UnknownSessionError
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.listener import TcpListener, TcpOptions
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

FIRST_BATCH_PACKETS = 2048
MAX_BATCH_PACKETS = 262_144
MAX_BATCH_SECONDS = 0.2


@dataclass
class Batch:
    """What changed since the previous batch."""

    new_sessions: list[TcpSession]
    monologues: list[Monologue]
    ended: list[TcpSession]
    bytes_read: int
    total_bytes: int
    frames: int
    done: bool = False
    cancelled: bool = False
    error: str | None = None


class _Collector(Listener):
    """Remembers the monologues and session ends since the last batch."""

    def __init__(self) -> None:
        self.monologues: list[Monologue] = []
        self.ended: list[TcpSession] = []

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        """Override Listener.tcp_monologue."""
        self.monologues.append(monologue)

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """Override Listener.tcp_session_end."""
        self.ended.append(session)

    def take(self) -> tuple[list[Monologue], list[TcpSession]]:
        """What was collected since the last call, and start afresh."""
        monologues, ended = self.monologues, self.ended
        self.monologues, self.ended = [], []
        return monologues, ended


class Analysis:
    """A capture and everything reassembled from it.

    Opening raises CaptureFormatError for a file that is no capture at all;
    damage later in the file is reported through ``read_error`` instead.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        options: TcpOptions | None = None,
        listeners: Iterable[Listener] = (),
        trace: Callable[[str], None] | None = None,
    ) -> None:
        self.capture = CaptureFile.open(path)
        self.options = options or TcpOptions()
        self.stats = CaptureStats()
        self.read_error: str | None = None
        self.cancelled = False
        self.done = False
        self.dispatcher = Dispatcher()
        self.tcp = TcpListener(self.capture.buffer, self.options, trace)
        self.dispatcher.add_listener(self.tcp, pos="first")
        self._collector = _Collector()
        self.dispatcher.add_listener(self._collector, pos="last")
        for listener in listeners:
            self.dispatcher.add_listener(listener)
        self._reported_sessions = 0

    @property
    def sessions(self) -> list[TcpSession]:
        """Every session, in order of first packet (ids are 1-based positions)."""
        return self.tcp.sessions

    def session(self, session_id: int) -> TcpSession:
        """The session with this id."""
        if 1 <= session_id <= len(self.sessions):
            return self.sessions[session_id - 1]
        raise UnknownSessionError(
            f"{self.capture.name} has no session {session_id} (it has {len(self.sessions)})"
        )

    def run(
        self, cancel: Callable[[], bool] | None = None, tick: Callable[[], None] | None = None
    ) -> Iterator[Batch]:
        """Read the whole capture, yielding a Batch at least every 0.2 s of work.

        ``tick`` is called every 32 frames: a GUI worker uses it to hand the
        interpreter lock to the GUI thread now and then.
        """
        # The analysis creates millions of small objects and no garbage cycles
        # worth collecting; the cyclic collector would only rescan them (about
        # a fifth of the run time on a 1 GB capture).
        collecting = gc.isenabled()
        gc.disable()
        try:
            yield from self._read(cancel, tick)
        finally:
            if collecting:
                gc.enable()

    def _read(self, cancel: Callable[[], bool] | None, tick: Callable[[], None] | None) -> Iterator[Batch]:
        dispatcher, stats, buf = self.dispatcher, self.stats, self.capture.buffer
        emit = dispatcher.emit
        # The TCP listener is nearly always the only one taking raw packets: call it
        # directly rather than through the dispatcher, once per packet.
        only_tcp = [listener for listener, _ in dispatcher.handlers("packet")] == [self.tcp]
        tcp_packet = self.tcp.packet
        skipped = stats.skipped
        fragments = reassembler()
        dispatcher.emit("setup")
        limit = FIRST_BATCH_PACKETS
        frames = tcp_packets = 0  # local counters, copied into stats at each batch
        batch_end = limit
        started = time.monotonic()
        try:
            for record in self.capture.records():
                try:
                    result = decode(buf, record)
                except Exception:  # noqa: BLE001 - a decoder bug costs its frame (malformed), not the load
                    result = Skip.MALFORMED
                if isinstance(result, Cut):  # shorter than its IP length: counted, then decoded
                    stats.cut_packet(record.frame, result.short)
                    result = result.packet
                if isinstance(result, TcpPacket):
                    tcp_packets += 1
                    if only_tcp:
                        try:
                            tcp_packet(result)
                        except Exception as exc:  # noqa: BLE001 - one odd packet must not stop the load
                            dispatcher.record_failure(self.tcp, "packet", exc)
                    else:
                        emit("packet", packet=result)
                elif isinstance(result, Fragment):
                    try:
                        whole = fragments.add(buf, result)
                    except Exception as exc:  # noqa: BLE001 - one odd datagram must not stop the load
                        dispatcher.record_failure(self.tcp, "fragment", exc)
                        whole = ()
                    if not whole:
                        skipped[Skip.FRAGMENT.value] += 1
                    else:  # a tunnel's datagram may hold several packets (an 802.11 A-MSDU)
                        tcp_packets += len(whole)
                        stats.aggregated += len(whole) - 1
                        for packet in whole:
                            emit("packet", packet=packet)
                elif isinstance(result, Several):  # an 802.11 A-MSDU: several packets of one frame
                    tcp_packets += self._several(result, record, fragments)
                else:
                    stats.skip(result, record.frame, record.linktype)
                frames += 1
                if tick is not None and not frames & 31:
                    tick()
                if frames >= batch_end:
                    stats.frames, stats.tcp_packets = frames, tcp_packets
                    stats.bytes_read = record.offset + record.caplen
                    # Grow batches while they are quick, shrink them when slow, so one
                    # comes at least every MAX_BATCH_SECONDS of work.
                    elapsed = time.monotonic() - started
                    if elapsed < MAX_BATCH_SECONDS / 2:
                        limit = min(limit * 2, MAX_BATCH_PACKETS)
                    elif elapsed > MAX_BATCH_SECONDS:
                        limit = max(limit // 2, FIRST_BATCH_PACKETS)
                    batch_end = frames + limit
                    yield self._batch()
                    started = time.monotonic()
                    if cancel is not None and cancel():
                        self.cancelled = True
                        break
        except CaptureReadError as exc:
            self.read_error = str(exc)
        stats.frames, stats.tcp_packets = frames, tcp_packets
        stats.incomplete_fragments = fragments.finish()
        if not self.cancelled and self.read_error is None:
            stats.bytes_read = self.capture.size
        dispatcher.emit("teardown")
        self.done = True
        yield self._batch(done=True)

    def _several(self, several: Several, record: Record, fragments: FragmentReassembler) -> int:
        """Take each packet and fragment of a frame of several as a frame's; return how many
        TCP packets it gave (its own and those of the datagrams it completed, all of them but
        the first counted as ``aggregated``)."""
        dispatcher, stats, packets, own = self.dispatcher, self.stats, 0, 0
        for part in stats.several(several, record.frame, record.linktype):
            whole: tuple[TcpPacket, ...] = ()
            if isinstance(part, Fragment):
                try:
                    whole = fragments.add(self.capture.buffer, part)
                except Exception as exc:  # noqa: BLE001 - one odd datagram must not stop the load
                    dispatcher.record_failure(self.tcp, "fragment", exc)
                if not whole:
                    stats.skipped[Skip.FRAGMENT.value] += 1
            else:
                whole, own = (part,), own + 1
            for packet in whole:
                packets += 1
                dispatcher.emit("packet", packet=packet)
        # ``several`` counted the frame's own packets after the first; now the rest.
        stats.aggregated += max(packets - 1, 0) - max(own - 1, 0)
        return packets

    def run_to_end(self) -> Analysis:
        """Run without batches (command line, tests); return self."""
        for _batch in self.run():
            pass
        return self

    def _batch(self, done: bool = False) -> Batch:
        sessions = self.sessions
        new = sessions[self._reported_sessions :]
        self._reported_sessions = len(sessions)
        monologues, ended = self._collector.take()
        return Batch(
            new_sessions=new,
            monologues=monologues,
            ended=ended,
            bytes_read=self.stats.bytes_read,
            total_bytes=self.capture.size,
            frames=self.stats.frames,
            done=done,
            cancelled=self.cancelled,
            error=self.read_error if done else None,
        )

    def close(self) -> None:
        """Release the mapped file; sessions can no longer read their bytes."""
        self.capture.close()


def analyse(
    path: str | PathLike[str],
    options: TcpOptions | None = None,
    listeners: Iterable[Listener] = (),
) -> Analysis:
    """Open and fully analyse ``path``."""
    return Analysis(path, options, listeners).run_to_end()
