"""One-packet conversations are listed, as tshark lists them (each gets a tcp.stream).

A lone ACK or RST from a server port, with no handshake and no data, is a
session of one packet on both session paths; a storm of them is one session
per packet, nothing more.  (tshark 4.0 on the same generated capture gives
one stream per lone packet; checked with shared/tools/oracle.py when this
test was written.)  They stay cheap: one flow of each kind is replayed, the
others copy its row (flows/lone.py), and the rows equal the exact replay's.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pytest

import monoview.core.flows.table as table
from monoview.core.analyse import analyse
from monoview.core.capture.index import build_index
from monoview.core.capture.source import CaptureFile
from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.export import Exporter, ExportOptions
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.table import session_rows
from tests.pcapgen import ACK, FIN, PSH, RST, Conversation, Frame, ethernet, tcp_ip, write_pcap

T0 = 1_700_000_000_000_000_000


def _lone(ts_ns: int, src: tuple[str, int], dst: tuple[str, int], flags: int) -> Frame:
    return Frame(ts_ns, ethernet(tcp_ip(src, dst, 777, 888, flags)))


def _describe(source: object) -> dict[str, object]:
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    return Exporter(source, "unused", options).describe()  # type: ignore[arg-type]


def test_lone_acks_and_resets_are_sessions(tmp_path: Path) -> None:
    c = (
        Conversation()
        .handshake()
        .send(True, b"GET / HTTP/1.0\r\n\r\n")
        .send(False, b"HTTP/1.0 200 OK\r\n\r\n")
    )
    frames = c.close().frames
    frames += [
        _lone(T0 + 10**9, ("10.0.0.2", 80), ("10.0.0.9", 5555), ACK),
        _lone(T0 + 10**9 + 1000, ("10.0.0.2", 443), ("10.0.0.9", 5556), RST | ACK),
        _lone(T0 + 10**9 + 2000, ("10.0.0.7", 33333), ("10.0.0.2", 22), RST),
    ]
    path = write_pcap(tmp_path / "lone.pcap", frames)
    sessions = analyse(path).sessions
    assert len(sessions) == 4
    lone = sessions[1:]
    assert [s.packets for s in lone] == [1, 1, 1]
    assert [s.server.port for s in lone] == [80, 443, 22]  # the service port's side
    assert [s.state for s in lone] == ["open", "reset", "reset"]
    assert all(s.kept("c2s") == s.kept("s2c") == 0 and not s.handshake for s in lone)
    for workers in (1, 2):
        with local_executor(workers) as pool:
            document = CaptureDocument(path, workers=workers, executor=pool, min_range=64, batch=2)
        assert len(document.rows) == 4
        assert _describe(document) == _describe(analyse(path))
        document.close()


def test_a_storm_of_lone_resets_is_one_session_each(tmp_path: Path) -> None:
    count = 3000
    frames = [
        _lone(T0 + i * 1000, ("10.255.0.1", 80), (f"10.1.{i >> 8}.{i & 255}", 1024 + i), RST | ACK)
        for i in range(count)
    ]
    path = write_pcap(tmp_path / "storm.pcap", frames)
    document = CaptureDocument(path, workers=1)
    rows = document.rows
    assert len(rows) == count
    assert set(rows["packets"].tolist()) == {1}
    assert _describe(document) == _describe(analyse(path))


def _every_kind(tmp_path: Path) -> tuple[Path, int]:
    """Lone packets of many kinds (flags, directions, port pairs that decide the client
    differently), three flows of each; the capture and its frame count."""
    ports = [(80, 40000), (40000, 80), (8080, 50000), (50000, 8080), (3000, 3000), (22, 80), (5000, 6000)]
    flag_sets = [ACK, RST, RST | ACK, FIN, FIN | ACK, PSH | ACK, 0x20 | ACK]
    frames, t = [], T0
    for k, ((sport, dport), flags) in enumerate(product(ports, flag_sets)):
        for copy in range(3):  # three flows of each kind, from other addresses
            t += 1000
            src = (f"10.{k}.{copy}.1", sport)
            dst = (f"10.{k}.{copy}.{2 + copy}", dport)  # the sender is sometimes the higher address
            if copy == 1:
                src, dst = (f"10.{k}.{copy}.9", sport), (f"10.{k}.{copy}.3", dport)
            frames.append(_lone(t, src, dst, flags))
    return write_pcap(tmp_path / "kinds.pcap", frames), len(frames)


def _counted(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """Count the calls of ``table.<name>`` (still made) for the rest of the test."""
    calls: list[int] = []
    real = getattr(table, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(table, name, counted)
    return calls


def test_lone_packets_of_every_kind_are_the_exact_replays_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copied rows equal the exact replay's, field by field, and only one flow of each
    kind is replayed."""
    path, count = _every_kind(tmp_path)
    index = build_index(path, workers=1)
    grouped = GroupedRows.of_index(index)
    buf = CaptureFile.open(path).buffer
    with monkeypatch.context() as patch:
        calls = _counted(patch, "replay_flow")
        fast = session_rows(grouped, buf, index.flows)
    exact = session_rows(grouped, buf, index.flows, vectorised=False, fast=False, runs=False)
    assert len(exact) == count
    assert np.array_equal(fast, exact)
    assert len(calls) < count // 2  # kinds (flags, direction, client rule), not flows


def test_the_kinds_of_lone_packets_are_replayed_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One gathering of rows and run hints for all the kinds' template flows, not one per
    kind: each costs a couple of milliseconds whatever its size, and a storm with random
    flags (fuzz 41:46864) has hundreds of kinds in each shard of a ranged build (it took
    2,152 calls, 4 s).  The other call is the dirty flows' replay (here none)."""
    path, count = _every_kind(tmp_path)
    index = build_index(path, workers=1)
    grouped = GroupedRows.of_index(index)
    buf = CaptureFile.open(path).buffer
    calls = _counted(monkeypatch, "run_hints")
    rows = session_rows(grouped, buf, index.flows)
    assert len(rows) == count
    assert len(calls) <= 2  # before: one per kind and one (49 kinds: 50)
