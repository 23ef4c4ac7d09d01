"""Quiet sessions (no payload, nothing missing) are exported from their rows alone
(``export.quiet``): every line must be, byte for byte, the one the replay writes, on
every shared capture and hand-made storms, under every export option; and a storm of
them costs no replay and no file."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.ranges import mapped
from monoview.core.document import CaptureDocument
from monoview.core.export import Exporter, ExportOptions, Format
from monoview.core.export.options import Layout
from monoview.core.export.quiet import quiet, quiet_lines
from monoview.core.export.session import SessionFiles
from monoview.core.flows.conversations import replay_sessions
from monoview.core.streambytes import GapPolicy
from tests.conftest import SHARED
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import ACK, FIN, RST, SYN, Conversation, Frame, ethernet, tcp_ip, write_pcap

T0 = 1_700_000_000_000_000_000
OPTIONS = [
    ExportOptions(fmt=fmt, gaps=gaps, layout=layout, transcript=transcript)
    for fmt, gaps, layout, transcript in itertools.product(
        Format, (GapPolicy.OMIT, GapPolicy.ZERO), Layout, (True, False)
    )
]


def _storm(path: Path) -> Path:
    """Lone resets, FINs and SYNs, a handshake with a close and nothing said, one session with
    data (not quiet), under two VLANs and on IPv6 too."""
    frames: list[Frame] = []
    for i, flags in enumerate([RST | ACK, RST, FIN | ACK, SYN, ACK] * 6):
        src = (f"10.1.0.{i + 1}", 1024 + i) if i % 3 else (f"fd00::{i + 1:x}", 2000 + i)
        dst = ("10.255.0.1", 80) if i % 3 else ("fd00::ff", 443)
        frames.append(
            Frame(
                T0 + i * 1000,
                ethernet(tcp_ip(src, dst, 777 + i, 888, flags), vlans=(i % 2,) if i % 4 else ()),
            )
        )
    frames += Conversation(start_ns=T0 + 10**9, client=("10.8.8.8", 4444)).handshake().close().frames
    frames += (
        Conversation(start_ns=T0 + 2 * 10**9, client=("10.9.9.9", 5555))
        .handshake()
        .send(True, b"hi")
        .close()
        .frames
    )
    return write_pcap(path, frames)


def _replayed_lines(path: Path, ids: np.ndarray, options: ExportOptions) -> dict[int, str]:
    document = CaptureDocument(path, workers=1)
    try:
        files = SessionFiles(Path("unused"), dataclasses.replace(options, directions=False, monologues=False))
        with mapped(str(path)) as buf:
            return {
                r.session.id: "".join(files.encode(r.session))
                for r in replay_sessions(document.parts, buf, document.rows, ids)
            }
    finally:
        document.close()


def _check(path: Path, options_tried: list[ExportOptions] = OPTIONS) -> int:
    document = CaptureDocument(path, workers=1)
    try:
        ids = np.arange(1, len(document) + 1, dtype=np.int64)
        still = ids[quiet(document.rows, ids)]
        for options in options_tried:
            fast = dict(quiet_lines(document.rows, document.flows, still, options))
            assert fast == _replayed_lines(path, still, options), options
        return len(still)
    finally:
        document.close()


def test_a_storm_of_quiet_sessions_is_the_replays_lines(tmp_path: Path) -> None:
    path = _storm(tmp_path / "storm.pcap")
    assert _check(path) >= 30  # the quiet ones; the one with data is not among them


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_quiet_sessions_of_shared_captures_are_the_replays_lines(path: Path) -> None:
    _check(path, OPTIONS[::5])


def test_the_corpus_has_quiet_sessions() -> None:
    """The comparison proves something only if quiet sessions occur in it (they are rare in
    the shared captures, hence the hand-made storm above)."""
    if not (SHARED / "captures").exists():
        pytest.skip("shared captures not available")
    found = 0
    for path in CAPTURE_FILES[::3]:
        with CaptureDocument(path, workers=1) as document:
            found += int(quiet(document.rows, np.arange(1, len(document) + 1, dtype=np.int64)).sum())
    assert found >= 2


def test_an_export_of_quiet_sessions_replays_none_and_writes_only_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monoview.core.flows.conversations as conversations

    replayed: list[int] = []
    real = conversations.replay_sessions

    def counting(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for r in real(*args, **kwargs):  # type: ignore[arg-type]
            replayed.append(r.session.id)
            yield r

    monkeypatch.setattr(conversations, "replay_sessions", counting)
    # The one session with data is tiny (``export.tiny``, not replayed either): off, so that
    # it is replayed and shows that the quiet ones are not.
    monkeypatch.setattr("monoview.core.export.tiny.ENABLED", False)
    path = _storm(tmp_path / "storm.pcap")
    out = tmp_path / "out"
    with CaptureDocument(path, workers=1) as document:
        Exporter(document, out, ExportOptions(return_streams=False)).export()
        data_session = [i + 1 for i, row in enumerate(document.rows) if row["kept0"] + row["kept1"]]
    assert replayed == data_session  # only the session that said something
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("s")) == ["manifest.json"]
    assert len([p for p in out.iterdir() if p.is_dir()]) == 1
