"""Byte to frame and frame to session: every byte of every monologue leads back to its packet,
and every packet of a session back to that session (all shared captures)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.flows.lookup import session_of_frame
from monoview.core.flows.packets import packet_columns
from tests.core.test_walk import CAPTURE_FILES


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
