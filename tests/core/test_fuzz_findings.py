"""What the fuzz campaign (``bench/fuzz.py``) found, each class pinned by a small generated capture."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from monoview.core.capture import linktypes
from monoview.core.capture.decode import Skip, decode_any
from monoview.core.capture.records import Record
from monoview.core.document import CaptureDocument
from tests.pcapgen import Conversation, Frame, write_pcap

MALFORMED = Skip.MALFORMED.value


def _tagged(frame: bytes, tags: int) -> bytes:
    """An Ethernet frame with ``tags`` more 802.1ad/802.1Q tags after its addresses."""
    stack = b"".join(struct.pack(">HH", 0x88A8 if k == 0 else 0x8100, k & 0xFFF) for k in range(tags))
    return frame[:12] + stack + frame[12:]


def test_vlan_tag_flood_is_malformed_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames with 1,000 stacked tags (issue 10: 50 of them took more than 10 s, each tag copying
    the tuple of tags so far) are malformed, and reading one costs a bounded number of steps."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"hello")
    conv.close()
    frames = [Frame(f.ts_ns, _tagged(f.data, 1000)) for f in conv.frames]
    path = write_pcap(tmp_path / "tags.pcap", [*frames, *conv.frames])
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.skipped[MALFORMED] == len(frames)
        (session,) = document.sessions
        assert session.packets == len(conv.frames)  # the untagged copies are kept
    reads = 0
    unpack = linktypes._u16

    def counting(buf: bytes, offset: int) -> tuple[int]:
        nonlocal reads
        reads += 1
        return unpack(buf, offset)

    monkeypatch.setattr(linktypes, "_u16", counting)
    data = _tagged(conv.frames[3].data, 10_000)
    assert decode_any(data, Record(1, 0, 1, 0, 0, len(data), len(data))) is Skip.MALFORMED
    assert reads <= 2 * (linktypes.MAX_VLAN_TAGS + 1)


@pytest.mark.parametrize("tags", [1, 2, 3, linktypes.MAX_VLAN_TAGS])
def test_stacks_up_to_the_cap_are_decoded(tmp_path: Path, tags: int) -> None:
    conv = Conversation(vlans=tuple(range(10, 10 + tags)))
    conv.handshake()
    conv.send(True, b"tagged")
    conv.close()
    path = write_pcap(tmp_path / "stack.pcap", conv.frames)
    with CaptureDocument(path, workers=1) as document:
        (session,) = document.sessions
        assert session.context == tuple(range(10, 10 + tags))
        assert document.conversation(1).streams[0].kept + document.conversation(1).streams[1].kept == 6

