"""Byte to frame and frame to session: every byte of every monologue leads back to its packet,
and every packet of a session back to that session (all shared captures); a frame of
several sessions' packets to each of them (generated A-MSDUs, against tshark)."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.flows.lookup import session_of_frame, sessions_of_frame
from monoview.core.flows.packets import packet_columns
from monoview.core.streambytes import direction_bytes
from tests.core.test_amsdu import aggregated
from tests.core.test_amsdu_fragments import fragmented_subframes, fragmented_tunnel
from tests.core.test_cli import run
from tests.core.test_walk import CAPTURE_FILES

TSHARK = shutil.which("tshark")


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_frames_lead_to_their_session_and_bytes_to_their_frame(path: Path) -> None:
    rng = random.Random(path.name)
    data = path.read_bytes()
    with CaptureDocument(path, workers=1) as document:
        tcp_frames: set[int] = set()
        for session_id in range(1, len(document) + 1):
            frames = packet_columns(document, session_id, ("frame",))["frame"].tolist()
            tcp_frames.update(frames)
            for frame in rng.sample(frames, min(len(frames), 20)):
                assert session_of_frame(document, frame) == session_id, frame
            session = document.conversation(session_id)
            for monologue in session.monologues[:10]:
                payload = monologue.data()
                for i in sorted(rng.sample(range(len(payload)), min(len(payload), 8))):
                    frame, ts, offset = monologue.locate(i)
                    assert data[offset] == payload[i]
                    assert frame in monologue.frames and frame == monologue.frame_at(i)
                    assert ts in set(packet_columns(document, session_id, ("frame", "ts"))["ts"].tolist())
                for frame in monologue.frames[:5]:
                    first = monologue.byte_of_frame(frame)
                    assert first is not None and monologue.locate(first)[0] == frame
        others = [f for f in range(1, document.stats.frames + 1) if f not in tcp_frames][:20]
        assert all(session_of_frame(document, f) is None for f in others)


def _tshark_sessions(path: Path) -> dict[int, list[int]]:
    """Per frame with TCP, tshark's streams in the order the frame holds them, as session ids
    (stream N is session N + 1 in these captures), each once."""
    out = subprocess.run(
        [
            TSHARK or "tshark",
            "-r",
            str(path),
            "-Y",
            "tcp",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "tcp.stream",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        frame, streams = line.split("\t")
        found[int(frame)] = list(dict.fromkeys(int(s) + 1 for s in streams.split(",")))
    return found


SEVERAL: dict[str, Callable[[Path], Path]] = {
    "A-MSDU": lambda tmp: aggregated(tmp, "ieee802_11")[0],
    "A-MSDU in fragmented Aruba GRE": lambda tmp: fragmented_tunnel(tmp, 24, True)[0],
    "A-MSDU of fragments": lambda tmp: fragmented_subframes(tmp, "radiotap")[0],
}


@pytest.mark.parametrize("case", sorted(SEVERAL))
def test_a_frame_of_several_sessions_leads_to_each(tmp_path: Path, case: str) -> None:
    """A frame holding packets of several sessions (an A-MSDU's subframes, a tunnel datagram's
    packets, fragments completing two datagrams) leads to every one of them, in the order the
    frame holds them, as tshark lists its streams; session_of_frame named the first alone, so
    Go to Frame and the command line could never reach the others."""
    path = SEVERAL[case](tmp_path)
    with CaptureDocument(path, workers=1) as document:
        expected: dict[int, set[int]] = {}
        for session_id in range(1, len(document) + 1):
            for frame in packet_columns(document, session_id, ("frame",))["frame"].tolist():
                expected.setdefault(frame, set()).add(session_id)
        found = {f: sessions_of_frame(document, f) for f in range(1, document.stats.frames + 1)}
        assert {f: set(ids) for f, ids in found.items() if ids} == expected
        assert any(len(ids) > 1 for ids in found.values())
        assert all(session_of_frame(document, f) == (ids[0] if ids else None) for f, ids in found.items())
    if TSHARK:
        assert {f: ids for f, ids in found.items() if ids} == _tshark_sessions(path)


def test_the_command_line_takes_a_frame(tmp_path: Path) -> None:
    """``follow --frame N`` follows the first session of frame N and names the others;
    ``export --frame N`` takes every one of them."""
    path = aggregated(tmp_path, "ieee802_11")[0]
    with CaptureDocument(path, workers=1) as document:
        frame = next(
            f for f in range(1, document.stats.frames + 1) if len(sessions_of_frame(document, f)) > 1
        )
        first, second = sessions_of_frame(document, frame)
        wanted = direction_bytes(document.conversation(first), "c2s")
    done = run("follow", str(path), "--frame", str(frame), "--format", "bytes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(wanted[:16])
    note = f"frame {frame} holds packets of sessions {first} and {second}: following session {first}"
    assert note in done.stderr.decode()
    out = tmp_path / "frame.pcap"
    done = run("export", str(path), "--pcap", str(out), "--frame", str(frame))
    assert done.returncode == 0, done.stderr
    with CaptureDocument(out, workers=1) as exported:
        assert len(exported) == 2
    assert run("follow", str(path), "--frame", "100000").returncode == 2
    assert run("follow", str(path), "1", "--frame", str(frame)).returncode == 2
