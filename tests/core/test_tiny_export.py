"""Tiny sessions (a data packet a direction at most, a plain flow) are exported from their rows
(``export.tiny``): the export must be, file for file and byte for byte, the one the general
path writes with ``tiny.ENABLED`` off (names, bytes, modes, folders, manifest), on every
shared capture and test capture, on hand-made edge cases under every export option, and on
random connections; and an export of tiny sessions builds no session object at all."""

from __future__ import annotations

import itertools
import stat
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import monoview.core.export.tiny as tiny
from monoview.core.capture.ranges import mapped
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.export import Exporter, ExportOptions, Format
from monoview.core.export.options import Layout
from monoview.core.export.tiny import tiny_sessions
from monoview.core.streambytes import GapPolicy
from tests.conftest import CAPTURES
from tests.core.test_fast_path_properties import SETTINGS, connections
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import ACK, FIN, PSH, RST, SERVER, SYN, Conversation, Frame, ethernet, tcp_ip, write_pcap

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.tiny_sessions import write as tiny_capture  # noqa: E402

T0 = 1_700_000_000_000_000_000
OPTIONS = [
    ExportOptions(fmt=fmt, gaps=gaps, layout=layout, transcript=transcript, monologues=monologues)
    for fmt, gaps, layout, transcript, monologues in itertools.product(
        Format, (GapPolicy.OMIT, GapPolicy.ZERO), Layout, (True, False), (True, False)
    )
]
Tree = dict[str, tuple[int, bytes | None]]


def _tree(root: Path) -> Tree:
    """Every file and folder under ``root``: its mode and (a file's) bytes."""
    return {
        str(p.relative_to(root)): (
            p.lstat().st_mode,
            p.read_bytes() if stat.S_ISREG(p.lstat().st_mode) else None,
        )
        for p in sorted(root.rglob("*"))
    }


def _export(
    path: Path,
    out: Path,
    options: ExportOptions,
    fast: bool,
    monkeypatch: pytest.MonkeyPatch,
    document_options: DocumentOptions | None = None,
) -> Tree:
    monkeypatch.setattr(tiny, "ENABLED", fast)
    with CaptureDocument(path, document_options, workers=1) as document:
        Exporter(document, out, options, workers=1).export()
    return _tree(out)


def _tiny_count(path: Path, max_session_size: int | None = None) -> int:
    options = DocumentOptions(max_session_size=max_session_size)
    with CaptureDocument(path, options, workers=1) as document, mapped(str(path)) as buf:
        ids = np.arange(1, len(document) + 1, dtype=np.int64)
        found = tiny_sessions(
            document.parts, buf, document.rows, ids, linger_ns=document.options.linger_ns,
            max_session_size=max_session_size,
        )  # fmt: skip
        return int(found.tiny.sum())


def _same_both_ways(
    path: Path,
    tmp: Path,
    options_tried: list[ExportOptions],
    monkeypatch: pytest.MonkeyPatch,
    document_options: DocumentOptions | None = None,
) -> None:
    for n, options in enumerate(options_tried):
        fast = _export(path, tmp / f"fast{n}", options, True, monkeypatch, document_options)
        general = _export(path, tmp / f"general{n}", options, False, monkeypatch, document_options)
        assert fast.keys() == general.keys(), options
        for name, (mode, data) in fast.items():
            assert (mode, data) == general[name], (name, options)


def _edge_cases(path: Path) -> tuple[Path, int]:
    """Sessions of one data packet a side in every shape found so far, and some that are not
    tiny beside them; and how many of them are tiny."""
    frames: list[Frame] = []

    def conv(k: int, **kwargs: Any) -> Conversation:
        return Conversation(start_ns=T0 + k * 10**9, client=(f"10.7.0.{k + 1}", 3000 + k), **kwargs)

    c = conv(0).handshake().send(True, b"x").close()  # one byte, the bench's session
    frames += c.frames
    c = (
        conv(1)
        .handshake()
        .send(True, b"GET / HTTP/1.0\r\n\r\n")
        .send(False, b"HTTP/1.0 200 OK\r\n\r\n\xff\x00")
        .close()
    )
    frames += c.frames  # both directions one packet
    c = conv(2).handshake().send(False, b"220 banner\r\n").close()  # the server speaks first
    frames += c.frames
    c = conv(3).handshake()
    c.segment(True, 0, b"bye" * 7, flags=FIN | PSH | ACK)  # FIN with data (21 bytes: hex lines)
    c.c_next += 22
    c.ack(False)
    frames += c.frames
    c = conv(4).handshake()
    c.segment(True, 0, b"reset with data", flags=RST | ACK)
    frames += c.frames
    # SYN data and a session without its handshake are not plain flows (``flows.simple``): they
    # go the general way, but beside the tiny ones, in the same shards.
    c = conv(5)  # SYN with data, answered
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN, b"early"))
    c._frame(tcp_ip(c.server, c.client, c.server_isn, c.client_isn + 6, SYN | ACK))
    c.c_next += 5
    c.ack(True)
    c.close()
    frames += c.frames
    c = conv(6)  # no handshake: one data packet each way
    c.segment(True, 0, b"mid")
    c.c_next += 3
    c.segment(False, 0, b"stream")
    frames += c.frames
    c = conv(7, vlans=(12,)).handshake().send(True, b"\x00\x01\x02 tagged \x7f\x80").close()
    frames += c.frames
    c = Conversation(start_ns=T0 + 8 * 10**9, client=("fd00::7", 4444), server=("fd00::1", 443))
    frames += c.handshake().send(True, b"six").send(False, b"ok").close().frames
    # Lone packets with data (a scan's answers, fuzz 17:15105's 5,999 RSTs with 64 bytes each).
    for k, flags in enumerate([RST | ACK, RST, PSH | ACK, FIN | PSH | ACK, ACK]):
        src = (f"10.6.0.{k + 1}", 5000 + k) if k % 2 else (f"fd00::6:{k + 1:x}", 5000 + k)
        dst = ("10.255.0.1", 80) if k % 2 else ("fd00::ff", 443)
        packet = tcp_ip(dst, src, 777 + k, 888, flags, bytes(range(k * 11, k * 11 + 64)))  # the server's
        frames.append(Frame(T0 + (20 + k) * 10**9, ethernet(packet, vlans=(k,) if k % 3 == 1 else ())))
    # A lone SYN with data (its ISN+1 is the first byte), of every kind (fuzz 41:50498's storm
    # has random flags), from either side, one with its sequence numbers wrapping.
    frames.append(
        Frame(T0 + 30 * 10**9, ethernet(tcp_ip(("10.6.1.1", 6000), SERVER, 5, 0, SYN, b"syn data")))
    )
    lone_syns = [SYN | ACK, SYN | FIN, SYN | RST, SYN | PSH | ACK, SYN | 0x20, SYN | FIN | RST | PSH | ACK]
    for k, flags in enumerate(lone_syns):
        client = (f"10.6.2.{k + 1}", 7000 + k)
        src, dst = (client, SERVER) if k % 2 else (SERVER, client)
        packet = tcp_ip(src, dst, 2**32 - 3 - k, 77, flags, bytes(range(k, 2 * k + 9)))
        frames.append(Frame(T0 + (32 + k) * 10**9, ethernet(packet)))
    tiny_ones = 7 + 5 + 1 + len(lone_syns)
    # Not tiny: a lone packet cut by the snap length.
    cut_lone = ethernet(tcp_ip(("10.6.1.2", 6001), SERVER, 5, 9, PSH | ACK, b"cut lone packet"))
    frames.append(Frame(T0 + 31 * 10**9, cut_lone[:-4], origlen=len(cut_lone)))
    # Not tiny: nothing said; a cut segment; a retransmission; two sessions in one flow.
    frames += conv(9).handshake().close().frames
    c = conv(10).handshake()
    cut = c.segment(True, 0, b"cut by the snap length")
    c.c_next += 22
    cut.origlen, cut.data = len(cut.data), cut.data[:-10]
    c.close()
    frames += c.frames
    c = conv(11).handshake()
    c.segment(True, 0, b"again")
    c.segment(True, 0, b"again")
    c.c_next += 5
    c.close()
    frames += c.frames
    for k in range(2):  # the same ports again, later
        c = Conversation(
            start_ns=T0 + (12 + k) * 10**9, client=("10.7.0.13", 3012), client_isn=1000 + 10**6 * k
        )
        frames += c.handshake().send(True, b"reuse").close().frames
    frames.sort(key=lambda f: f.ts_ns)
    return write_pcap(path, frames), tiny_ones


def test_edge_cases_export_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, expected = _edge_cases(tmp_path / "edges.pcap")
    assert _tiny_count(path) == expected
    _same_both_ways(path, tmp_path, OPTIONS, monkeypatch)


@pytest.mark.parametrize("limit", [0, 1, 20, 21, 37, 64, 10**6])
def test_a_session_size_limit_exports_the_same_both_ways(
    limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``max_session_size``, a tiny session whose bytes fit in it takes the path (fuzz
    41:50498: 6,000 one-packet sessions and a limit of 64 kB went the general way); one
    whose bytes do not is cut by the limit and goes the general way.  The edge cases' pieces
    are 1 to 64 bytes, so each limit here puts the line between them elsewhere."""
    path, expected = _edge_cases(tmp_path / "edges.pcap")
    count = _tiny_count(path, limit)
    assert count == (0 if limit == 0 else expected if limit >= 64 else count)
    if 1 <= limit < 64:
        assert 0 < count < expected, count
    _same_both_ways(path, tmp_path, OPTIONS[::5], monkeypatch, DocumentOptions(max_session_size=limit))


def test_lone_packets_cut_by_a_session_size_limit_are_tiny(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone packet cut by ``max_session_size`` keeps its first bytes and says where it was
    cut (``truncated_at``): the tiny path writes that as the replay does (fuzz 41:184938:
    6,300 lone packets under a limit of one byte all went the general way: 2.5 s of its
    export; fails before: none of these is tiny unless its bytes fit)."""
    frames = []
    flags = [PSH | ACK, RST, RST | ACK, FIN | PSH | ACK, SYN, SYN | ACK, ACK]
    for k in range(21):
        client, server = (f"10.9.{k // 200}.{k % 200 + 1}", 9000 + k), ("10.255.0.2", 1024 + k)
        src, dst = (server, client) if k % 2 else (client, server)
        packet = tcp_ip(src, dst, 2**32 - 2 * k, 5, flags[k % len(flags)], bytes(range(k, 4 * k + 2)))
        frames.append(Frame(T0 + k * 10**6, ethernet(packet, vlans=(k,) if k % 5 == 2 else ())))
    path = write_pcap(tmp_path / "lone.pcap", frames)
    limits = (1, 7, 40)
    assert [_tiny_count(path, limit) for limit in limits] == [len(frames)] * len(limits)
    for limit in limits:  # (``_same_both_ways`` leaves the path off)
        limited = DocumentOptions(max_session_size=limit)
        _same_both_ways(path, tmp_path / str(limit), OPTIONS[::4], monkeypatch, limited)


def test_the_bench_capture_exports_the_same_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tiny_capture(tmp_path / "tiny.pcap", 40)
    assert _tiny_count(path) == 40
    _same_both_ways(path, tmp_path, OPTIONS[::3], monkeypatch)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_captures_export_the_same_both_ways(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _tiny_count(path):
        return  # nothing takes the path: the export is the general one, line for line
    k = CAPTURE_FILES.index(path)
    _same_both_ways(path, tmp_path, [ExportOptions(), OPTIONS[7 * k % len(OPTIONS)]], monkeypatch)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_the_corpus_has_tiny_sessions() -> None:
    """The comparison above proves something only if tiny sessions occur in the captures."""
    taking = [p for p in CAPTURE_FILES if _tiny_count(p)]
    # Beside ../shared, 9 captures have some; the repository's own test data alone has 1.
    assert len(taking) >= (5 if CAPTURES.exists() else 1), taking


@SETTINGS
@given(frames=connections(), options=st.sampled_from(OPTIONS))
def test_random_connections_export_the_same_both_ways(
    tmp_path_factory: pytest.TempPathFactory, frames: list[Frame], options: ExportOptions
) -> None:
    if not frames:
        return
    tmp = tmp_path_factory.mktemp("random")
    path = write_pcap(tmp / "p.pcap", frames)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_both_ways(path, tmp, [options], monkeypatch)


def test_tiny_sessions_build_no_session_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 tiny sessions each built a session (hydrated: two streams, their monologues)
    and walked it; now none is built, nor replayed."""
    import monoview.core.flows.conversations as conversations
    from monoview.core.tcp.session import TcpSession

    built: list[int] = []
    real_init = TcpSession.__init__

    def counting_init(self: TcpSession, *args: Any, **kwargs: Any) -> None:
        built.append(1)
        real_init(self, *args, **kwargs)

    replayed: list[int] = []
    real_replay = conversations.replay_sessions

    def counting_replay(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        for r in real_replay(*args, **kwargs):
            replayed.append(r.session.id)
            yield r

    path = tiny_capture(tmp_path / "tiny.pcap", 60)
    with CaptureDocument(path, workers=1) as document:
        monkeypatch.setattr(TcpSession, "__init__", counting_init)
        monkeypatch.setattr(conversations, "replay_sessions", counting_replay)
        manifest = Exporter(document, tmp_path / "out", ExportOptions(), workers=1).export()
    assert len(manifest["streams"]) == 60
    assert replayed == []
    assert built == []


def test_a_tiny_sessions_returned_entry_is_its_line_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export that returns the entries (``describe``, the GUI's) hands back each tiny
    session's entry as made, not its manifest line parsed again: the same values and types
    (``repr`` tells a tuple from a list, 1 from 1.0 and True), and no ``json.loads`` for them
    (fails before: one a session)."""
    import json

    path, expected = _edge_cases(tmp_path / "edges.pcap")
    parsed: list[int] = []
    real_loads = json.loads

    def counted(text: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real_loads(text, *args, **kwargs)

    for n, options in enumerate(OPTIONS[::4]):
        with CaptureDocument(path, workers=1) as document:
            monkeypatch.setattr(json, "loads", counted)
            manifest = Exporter(document, tmp_path / f"out{n}", options, workers=1).export()
            monkeypatch.setattr(json, "loads", real_loads)
        written = json.loads((tmp_path / f"out{n}" / "manifest.json").read_text())
        assert repr(manifest["streams"]) == repr(written["streams"]), options
        assert len(parsed) == len(written["streams"]) - expected, options  # the general sessions'
        parsed.clear()
