"""The fuzzer's own cost: making an input is bounded, and a slow one is never called a hang.

Input 41:656644 of the long run (10,000 stacked VLAN tags on 50 frames, then
30,000 conflicts and a sequence jump over 30,534 records) was killed at the
deadline before monoview saw it: the fuzzer's frame view walked every tag of
every frame each time a mutator looked at it (177 CPU seconds).  Its view now
stops where the reader's does, and a worker killed while making an input is
a ``build`` finding of the fuzzer, not a ``hang`` of monoview.
"""

from __future__ import annotations

import os
import struct

import pytest

from monoview.core.capture import ethernet
from monoview.core.capture.tunnelkind import Next
from tests.fuzz import corpus, frames, harness


def tagged_frame(tags: int) -> bytes:
    """An Ethernet frame carrying a TCP segment behind ``tags`` stacked 802.1Q tags."""
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack(">HHIIBBHHH", 1234, 80, 1, 0, 0x50, 0x02, 8192, 0, 0)
    return b"\x02" * 6 + b"\x04" * 6 + b"\x81\x00\x00\x07" * tags + b"\x08\x00" + ip + tcp


@pytest.mark.parametrize("tags", [0, 1, ethernet.MAX_LINK_STEPS, ethernet.MAX_LINK_STEPS + 1, 10_000])
def test_the_fuzzers_view_of_a_tagged_frame_ends_where_the_readers_does(tags: int) -> None:
    frame = tagged_frame(tags)
    link = ethernet.follow(frame, 0, Next.ETHERNET, len(frame), ethernet.NO_TAGS, len(frame))
    reader_sees_ip = isinstance(link, ethernet.Link) and link.offset >= 0
    found = frames.link_ip(frame, 1)
    assert (found is not None) == reader_sees_ip == (tags <= ethernet.MAX_LINK_STEPS)
    if found is not None:
        assert isinstance(link, ethernet.Link) and found[0] == link.offset == 14 + 4 * tags
        assert frames.view(frame, 1) is not None


def _endless_making(*_args: object, **_kwargs: object) -> tuple[bytes, list[str], str]:
    while True:  # CPU-bound, as the tag walk was
        pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the workers are forked")
def test_a_worker_killed_while_making_an_input_is_a_build_finding_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent kills it at the deadline, twice (the second time in a fresh worker), and
    records the fuzzer's cost without making the input again itself (that would take as
    long again, in the parent)."""
    bases = corpus.load(only_small=2_000, light=True)[:1]
    monkeypatch.setattr(harness, "build", _endless_making)  # the forked workers inherit it
    limits = harness.Limits(kill_s=0.3, light=True)
    report = harness.campaign(bases, 7, 1, workers=1, limits=limits)
    assert report.inputs == 1
    assert report.classes == {"build": 1}
    assert report.statuses["build"] == 1
