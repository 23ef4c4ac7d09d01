"""Events as Net::Analysis emits them, the dispatcher, and the TCP listener's options."""

from __future__ import annotations

from pathlib import Path

import pytest

from monoview.core.analyse import Analysis, analyse
from monoview.core.dispatcher import Dispatcher
from monoview.core.listener import Listener
from monoview.core.packet import ACK, FIN, SegmentKind
from monoview.core.streambytes import direction_bytes
from monoview.core.tcp.listener import TcpOptions
from monoview.core.tcp.trace import dump_name
from tests.conftest import DATA
from tests.pcapgen import Conversation, write_pcap


class Recorder(Listener):
    def __init__(self) -> None:
        self.events: list[tuple[str, object, object]] = []

    def setup(self) -> None:
        self.events.append(("setup", None, None))

    def tcp_packet(self, packet, session) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("tcp_packet", session.id, packet))

    def tcp_session_start(self, session, packet) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("tcp_session_start", session.id, packet))

    def tcp_monologue(self, session, monologue) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("tcp_monologue", session.id, monologue))

    def tcp_session_end(self, session, packet) -> None:  # type: ignore[no-untyped-def]
        self.events.append(("tcp_session_end", session.id, packet))

    def teardown(self) -> None:
        self.events.append(("teardown", None, None))

    def names(
        self, kinds: tuple[str, ...] = ("tcp_session_start", "tcp_monologue", "tcp_session_end")
    ) -> list[str]:
        return [e[0] for e in self.events if e[0] in kinds]


def http_exchange(tmp: Path, close: bool = True) -> Path:
    conv = Conversation()
    conv.handshake().send(True, b"GET / HTTP/1.0\r\n\r\n").send(False, b"HTTP/1.0 200 OK\r\n\r\nbody")
    conv.send(True, b"more")
    if close:
        conv.close()
    return write_pcap(tmp / "x.pcap", conv.frames)


def test_event_order_and_packets(tmp_path: Path) -> None:
    recorder = Recorder()
    analyse(http_exchange(tmp_path), listeners=[recorder])
    assert recorder.events[0][0] == "setup" and recorder.events[-1][0] == "teardown"
    assert recorder.names() == [
        "tcp_session_start",
        "tcp_monologue",
        "tcp_monologue",
        "tcp_monologue",
        "tcp_session_end",
    ]
    start = next(e for e in recorder.events if e[0] == "tcp_session_start")
    assert start[2].frame == 3  # the ACK that completed the handshake
    end = next(e for e in recorder.events if e[0] == "tcp_session_end")
    assert end[2] is not None and end[2].flags == ACK  # the ACK of the last FIN
    directions = [e[2].direction for e in recorder.events if e[0] == "tcp_monologue"]
    assert directions == ["c2s", "s2c", "c2s"]


def test_tcp_packet_precedes_what_it_caused(tmp_path: Path) -> None:
    """Net::Analysis emits tcp_packet first, then the events the packet triggered."""
    recorder = Recorder()
    analyse(http_exchange(tmp_path), listeners=[recorder])
    names = [e[0] for e in recorder.events]
    first_start = names.index("tcp_session_start")
    assert names[first_start - 1] == "tcp_packet"
    assert recorder.events[first_start - 1][2].frame == 3


def test_session_running_out_ends_without_packet(tmp_path: Path) -> None:
    recorder = Recorder()
    analyse(http_exchange(tmp_path, close=False), listeners=[recorder])
    end = next(e for e in recorder.events if e[0] == "tcp_session_end")
    assert end[2] is None


def test_packets_are_classified(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"abcd")
    conv.segment(True, 8, b"ijkl")  # ahead of a hole
    conv.segment(True, 4, b"efgh")  # fills it
    conv.segment(True, 0, b"abcd")  # retransmission
    conv.c_next += 12
    conv.ack(False)
    conv.segment(True, 11, b"l", flags=ACK)  # keep-alive probe: the last byte again
    recorder = Recorder()
    analyse(write_pcap(tmp_path / "k.pcap", conv.frames), listeners=[recorder])
    kinds = [e[2].kind for e in recorder.events if e[0] == "tcp_packet"]
    assert kinds == [
        SegmentKind.CONTROL, SegmentKind.CONTROL, SegmentKind.CONTROL,
        SegmentKind.DATA, SegmentKind.FUTURE, SegmentKind.DATA, SegmentKind.DUPLICATE,
        SegmentKind.CONTROL, SegmentKind.KEEPALIVE,
    ]  # fmt: skip


def test_listener_failure_is_isolated(tmp_path: Path) -> None:
    class Broken(Listener):
        def tcp_monologue(self, session, monologue) -> None:  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    recorder = Recorder()
    analysis = analyse(http_exchange(tmp_path), listeners=[Broken(), recorder])
    assert recorder.names().count("tcp_monologue") == 3
    failure = analysis.dispatcher.failures[("Broken", "tcp_monologue")]
    assert failure.count == 3 and "boom" in failure.error


def test_dispatcher_positions() -> None:
    order: list[str] = []

    class Named(Listener):
        def __init__(self, name: str) -> None:
            self.name = name

        def setup(self) -> None:
            order.append(self.name)

    dispatcher = Dispatcher()
    dispatcher.add_listener(Named("middle"))
    dispatcher.add_listener(Named("last"), pos="last")
    dispatcher.add_listener(Named("first"), pos="first")
    dispatcher.add_listener(Named("middle2"))
    dispatcher.emit("setup")
    assert order == ["first", "middle", "middle2", "last"]
    with pytest.raises(ValueError, match="first position"):
        dispatcher.add_listener(Named("again"), pos="first")


def test_verbosity_and_key(tmp_path: Path) -> None:
    lines: list[str] = []
    path = http_exchange(tmp_path)
    Analysis(path, TcpOptions(v=0x06), trace=lines.append).run_to_end()
    assert sum("session start" in line for line in lines) == 1
    assert sum("session end" in line for line in lines) == 1
    assert sum("monologue #" in line for line in lines) == 3
    assert not any("seq " in line for line in lines)
    frames = analyse(path).stats.frames
    lines.clear()
    Analysis(path, TcpOptions(v=0x01), trace=lines.append).run_to_end()
    assert len(lines) == frames and all("seq " in line for line in lines)
    lines.clear()
    Analysis(path, TcpOptions(k="10.0.0.1:40000-10.0.0.2:80"), trace=lines.append).run_to_end()
    assert len(lines) == frames
    lines.clear()
    Analysis(path, TcpOptions(k="99"), trace=lines.append).run_to_end()
    assert lines == []


def test_dump_writes_each_monologue(tmp_path: Path) -> None:
    out = tmp_path / "dump"
    analysis = Analysis(http_exchange(tmp_path), TcpOptions(dump=out)).run_to_end()
    session = analysis.sessions[0]
    files = sorted(p.name for p in out.iterdir())
    assert files == [dump_name(session.id, session.key, i) for i in range(3)]
    assert (out / files[1]).read_bytes() == b"HTTP/1.0 200 OK\r\n\r\nbody"


def test_max_session_size_truncates_and_keeps_state(tmp_path: Path) -> None:
    analysis = Analysis(DATA / "chatter.pcap", TcpOptions(max_session_size=5000)).run_to_end()
    (session,) = analysis.sessions
    assert session.truncated
    kept = sum(session.stream(d).kept for d in ("c2s", "s2c"))
    assert kept == 5000
    assert session.state == "closed"  # FINs after the cut are still seen
    full = analyse(DATA / "chatter.pcap").sessions[0]
    assert session.packets == full.packets
    assert sum(m.length for m in session.monologues) == 5000


def test_fin_with_data_counts_once(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"bye", flags=FIN | ACK)
    conv.c_next += 4
    conv.ack(False)
    (session,) = analyse(write_pcap(tmp_path / "f.pcap", conv.frames)).sessions
    assert session.monologues[0].data() == b"bye"
    assert session.gaps("c2s") == [] and session.fin[session.client_side]


def test_late_fill_does_not_split_the_other_sides_monologue(tmp_path: Path) -> None:
    """Mid-stream capture: the client's bytes from before the first captured segment arrive
    (retransmitted) while the server is talking.  The server's monologue is not cut in two;
    the early bytes go first in the client's next monologue."""
    conv = Conversation()
    conv.segment(True, 100, b"A" * 100)  # the capture starts here
    conv.segment(False, 0, b"B" * 50)
    conv.segment(True, 0, b"a" * 100, flags=ACK)  # bytes sent before the capture, again
    conv.segment(False, 50, b"b" * 50)
    conv.segment(True, 200, b"C" * 10)
    (session,) = analyse(write_pcap(tmp_path / "m.pcap", conv.frames)).sessions
    assert [(m.direction, m.data()) for m in session.monologues] == [
        ("c2s", b"A" * 100),
        ("s2c", b"B" * 50 + b"b" * 50),
        ("c2s", b"a" * 100 + b"C" * 10),
    ]
    assert direction_bytes(session, "c2s") == b"a" * 100 + b"A" * 100 + b"C" * 10


def test_late_fill_at_the_end_is_a_monologue_of_its_own(tmp_path: Path) -> None:
    conv = Conversation()
    conv.segment(True, 100, b"A" * 100)
    conv.segment(False, 0, b"B" * 50)
    conv.segment(True, 0, b"a" * 100, flags=ACK)
    (session,) = analyse(write_pcap(tmp_path / "m.pcap", conv.frames)).sessions
    assert [(m.direction, m.data()) for m in session.monologues] == [
        ("c2s", b"A" * 100),
        ("s2c", b"B" * 50),
        ("c2s", b"a" * 100),
    ]
