"""One-packet conversations are listed, as tshark lists them (each gets a tcp.stream).

A lone ACK or RST from a server port, with no handshake and no data, is a
session of one packet on both session paths; a storm of them is one session
per packet, nothing more.  (tshark 4.0 on the same generated capture gives
one stream per lone packet; checked with shared/tools/oracle.py when this
test was written.)
"""

from __future__ import annotations

from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.export import Exporter, ExportOptions
from tests.pcapgen import ACK, RST, Conversation, Frame, ethernet, tcp_ip, write_pcap

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
