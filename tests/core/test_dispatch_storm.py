"""Replaying a storm of tiny sessions to listeners reads the index a chunk at a time
(issue 10: fuzz input 17:15105, 6,000 RSTs, 6 s, most of it in ``document.dispatch``).

Each session used to read its flow's rows from every range of the index with
two selects of a few dozen numpy calls each, more than the replay itself.  The
test counts the index's column reads, not time; what the listeners see is
checked against the per-packet analysis (``Analysis``), which reads the
capture frame by frame and never touches the index.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from monoview.core.analyse import Analysis
from monoview.core.capture import ranges
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.executor import InlineExecutor
from monoview.core.tcp.listener import TcpOptions
from tests.core.test_document import EventsOnly, Log
from tests.core.test_fragments import fragment_ipv4
from tests.pcapgen import ACK, PSH, RST, Conversation, Frame, ethernet, pcap_bytes, tcp_ip

STORM = 3000


def storm_capture(path: Path, seed: int = 1) -> Path:
    """``STORM`` RSTs to distinct tuples, a few of them re-sent later (one flow, several
    sessions), two real conversations, one with a segment cut into IP fragments."""
    rng = random.Random(seed)
    frames: list[Frame] = []
    t = 1_700_000_000_000_000_000
    talk = Conversation(start_ns=t)
    talk.handshake().send(True, b"GET / HTTP/1.0\r\n\r\n").send(False, b"x" * 3000)
    frames += talk.frames[:4]
    for k in range(STORM):
        t += 1000
        src = (f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}", 1024 + k % 60000)
        flags = RST if k % 7 else RST | ACK
        frames.append(Frame(t, ethernet(tcp_ip(src, ("10.255.0.1", 80), rng.getrandbits(32), 0, flags))))
        if k % 500 == 17:  # the same tuple again: a second session of that flow
            frames.append(Frame(t + 1, ethernet(tcp_ip(src, ("10.255.0.1", 80), 7, 0, RST))))
    frames += [Frame(t + 10 + i, f.data) for i, f in enumerate(talk.frames[4:])]
    other = Conversation(client=("10.9.9.9", 5555), start_ns=t + 100)
    other.handshake()
    big = other.segment(True, 0, bytes(range(256)) * 12, PSH | ACK)
    other.frames.pop()
    for i, piece in enumerate(fragment_ipv4(big.data[14:], 1024)):
        other.frames.append(Frame(big.ts_ns + i, ethernet(piece)))
    other.c_next += 256 * 12
    other.ack(False)
    frames += other.frames
    path.write_bytes(pcap_bytes(frames))
    return path


class _Counted:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = ranges.RangePart.column

        def column(part: ranges.RangePart, name: str) -> object:
            self.calls += 1
            return original(part, name)

        monkeypatch.setattr(ranges.RangePart, "column", column)


@pytest.mark.parametrize("packets", [True, False], ids=["with tcp_packet", "events only"])
@pytest.mark.parametrize("workers", [1, 3])
def test_a_storm_is_dispatched_in_a_few_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packets: bool, workers: int
) -> None:
    path = storm_capture(tmp_path / "storm.pcap")
    kind = Log if packets else EventsOnly
    expected = kind()
    Analysis(path, listeners=[expected]).run_to_end()
    size = path.stat().st_size
    with CaptureDocument(path, workers=workers, executor=InlineExecutor(), min_range=size // 3) as document:
        assert len(document) > STORM
        document.dispatch([EventsOnly()], ids=[1])  # the flow locator is made once, first
        counted = _Counted(monkeypatch)
        seen = kind()
        document.dispatch([seen])
        reads = counted.calls
    assert seen.events == sorted(expected.events, key=lambda e: e[0])
    # One read per column, range and chunk of ~65,000 rows (and the fragments' flow alone),
    # not one per session (that was more than 20 per session).
    assert reads <= 4 * 11 * workers + 50


def test_dispatch_of_chosen_sessions_and_listener_options(tmp_path: Path) -> None:
    """Chosen ids (unsorted, with a reused flow's sessions apart) and the listener options
    that change sessions: the per-packet path's events, session by session."""
    path = storm_capture(tmp_path / "storm.pcap", seed=2)
    options = DocumentOptions(split_interfaces=True, max_session_size=100, linger_ns=1)
    expected = Log()
    tcp = TcpOptions(split_interfaces=True, max_session_size=100, linger_ns=1)
    Analysis(path, tcp, listeners=[expected]).run_to_end()
    with CaptureDocument(path, options, workers=1) as document:
        ids = random.Random(3).sample(range(1, len(document) + 1), 400) + [1, len(document)]
        ids = sorted(set(ids), reverse=True)
        seen = Log()
        document.dispatch([seen], ids=ids)
    wanted = set(ids)
    assert seen.events == sorted((e for e in expected.events if e[0] in wanted), key=lambda e: e[0])
