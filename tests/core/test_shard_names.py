"""The Application and Stream columns worked out with the session list (``flows.shardnames``)
are the ones worked out after it over the whole index (``applications.application_names``,
``tcpstream.tcp_streams(...).session_pairs()``, which ``test_app_names`` and ``test_follow``
hold to tshark): on every shared capture, built in this process and by two worker processes
(eight shards, so that flows of one 4-tuple in several VLANs could land in different shards).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pytest

import monoview.core.flows.shardnames as shardnames
from monoview.core.capture.indexparts import FlowTable
from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.flows.applications import application_names
from monoview.core.flows.tcpstream import endpoint_keys, tcp_streams
from tests.conftest import CAPTURES, DATA, shared_capture

EVERY = sorted(f"{p.parent.name}/{p.name}" for p in CAPTURES.glob("*/*.pcap*")) if CAPTURES.exists() else []
# Flows of one 4-tuple in several VLANs (one tshark stream), a 4-tuple used twice, a session
# that tshark cuts in two.
ODD = ("wild/zeek_vlan-collisions.pcap", "lab/reuse.pcap", "wild/tcpflow_test5-lines-randomized.pcap")


@pytest.fixture(scope="module")
def pool() -> Iterator[Executor]:
    with local_executor(2) as executor:
        yield executor


def _open(path: Path, pool: Executor | None) -> CaptureDocument:
    if pool is None:
        return CaptureDocument(path, workers=1, names=True)
    # small ranges: a small capture is indexed in several too, as a big one is
    return CaptureDocument(path, executor=pool, workers=2, min_range=1 << 12, names=True)


def _assert_same_as_after_the_list(path: Path, pool: Executor | None) -> None:
    with _open(path, pool) as document:
        named = document.names
        assert named is not None
        assert named.applications == application_names(document.parts, document.rows, document.buffer)
        sessions, streams = tcp_streams(document.parts, document.flows, document.rows).session_pairs()
        assert np.array_equal(named.streams[0], sessions) and np.array_equal(named.streams[1], streams)
        assert named.streams[0].dtype == sessions.dtype and named.streams[1].dtype == streams.dtype


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", EVERY)
def test_names_and_streams_with_the_list_are_those_after_it(name: str, workers: int, pool: Executor) -> None:
    _assert_same_as_after_the_list(shared_capture(name), pool if workers == 2 else None)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.pcap*")))
def test_the_repositorys_captures_too(name: str, workers: int, pool: Executor) -> None:
    _assert_same_as_after_the_list(DATA / name, pool if workers == 2 else None)


def _keys_by_endpoints(flows: FlowTable) -> list[int]:
    """The reference: one number per distinct ``FlowTable.endpoints``, by first appearance."""
    seen: dict[object, int] = {}
    return [seen.setdefault(flows.endpoints(f), len(seen)) for f in range(len(flows))]


@pytest.mark.parametrize("name", EVERY)
def test_endpoint_keys_are_the_endpoints(name: str) -> None:
    with CaptureDocument(shared_capture(name), workers=1) as document:
        assert endpoint_keys(document.flows).tolist() == _keys_by_endpoints(document.flows)


def test_the_odd_captures_have_what_they_are_here_for() -> None:
    """The captures that exercise the shard merge's corners really hold them."""
    if not EVERY:
        pytest.skip("shared captures not available")
    with CaptureDocument(shared_capture(ODD[0]), workers=1) as document:
        keys = endpoint_keys(document.flows)
        assert len(np.unique(keys)) < len(keys)  # flows sharing endpoints: kept in one shard
    with CaptureDocument(shared_capture(ODD[2]), workers=1) as document:
        assert document.names is None  # not asked for
        sessions, _streams = tcp_streams(document.parts, document.flows, document.rows).session_pairs()
        assert len(sessions) > len(document)  # a session in two streams


def test_flows_of_equal_endpoints_go_to_one_shard() -> None:
    keys = np.array([0, 1, 0, 2, 1, 3], dtype=np.int64)
    shards = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]
    together = shardnames.keep_endpoints_together(shards, keys)
    assert [s.tolist() for s in together] == [[0, 1, 2, 4], [3], [5]]
    distinct = np.arange(4, dtype=np.int64)
    assert shardnames.keep_endpoints_together(shards, distinct) is shards


def test_no_payload_names_nothing() -> None:
    """What lets ``shardnames`` skip the sessions without payload."""
    from monoview.core.appnames import application_name

    assert application_name(b"", b"") == ""


def test_the_plain_list_does_none_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """``monoview sessions`` (a document not asked for names) names nothing while it lists."""

    def refuse(*_args: object) -> None:
        raise AssertionError("named without being asked")

    monkeypatch.setattr(shardnames, "shard_names", refuse)
    monkeypatch.setattr(shardnames, "merged", refuse)
    with CaptureDocument(DATA / "chatter.pcap", workers=1) as document:
        assert len(document) and document.names is None
    with pytest.raises(AssertionError, match="named without"):
        CaptureDocument(DATA / "chatter.pcap", workers=1, names=True)


@pytest.mark.parametrize("seed", range(40))
def test_rows_by_endpoints_are_lexsorts(seed: int) -> None:
    """The shortcut of ``_by_endpoints`` (no sort when the groups' keys rise and their rows are in
    frame order) gives what the sort gives, on groups of shared or rising keys and frames in
    or out of order."""
    rng = np.random.default_rng(seed)
    groups = int(rng.integers(1, 8))
    counts = rng.integers(1, 6, size=groups)
    bounds = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    keys = np.sort(rng.choice(groups + 2, size=groups, replace=bool(seed % 2))).astype(np.int64)
    frame = rng.integers(0, 30, size=int(bounds[-1])).astype(np.int64)
    if seed % 3:  # each group's rows in frame order, as most are
        frame = np.concatenate([np.sort(frame[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    expected = np.lexsort((frame, np.repeat(keys, counts)))
    assert shardnames._by_endpoints(keys, frame, bounds).tolist() == expected.tolist()
