"""The campaign replaces a worker whose heap stayed high, and counts a memory finding only from a
fresh worker: one input's heap is not charged to the inputs after it (``tests/fuzz/recycle.py``).

The workers here run a stand-in for ``harness.run_input`` (they are forked after the patch):
input 0 is a file over 10 MB (not itself a memory finding, as 41:224819 of the campaign
was) that leaves a ballast on the worker's heap; input 3 peaks high and frees it (a real
outlier).  The peaks are the harness's own, ``VmHWM`` after ``clear_refs``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import corpus, harness, recycle

MB = 1 << 20
BALLAST_MB = 128
_kept: list[bytes] = []


def _stand_in(path: Path, index: int = 0, limits: Any = None) -> dict[str, Any]:
    harness.reset_peak()
    base = recycle.rss_mb()
    size = path.stat().st_size
    if index == 0:
        _kept.append(b"\x01" * (BALLAST_MB * MB))  # what a large input's run left behind
        size = 12 * MB
    elif index == 3:
        transient = b"\x01" * (BALLAST_MB * MB)  # a true outlier: freed before the input ends
        del transient
    return {"size": size, "status": "ok", "peak_mb": harness._status_kb("VmHWM") / 1024, "base_mb": base}


def _run(monkeypatch: pytest.MonkeyPatch, inputs: int, **limits: Any) -> harness.Report:
    monkeypatch.setattr(harness, "run_input", _stand_in)
    bases = [b for b in corpus.load(shared=False) if b.name == "gen_plain.pcap"]
    # above a fresh worker's RSS (the forked parent's, at most), below one with the ballast
    memory_mb = int(recycle.rss_mb()) + BALLAST_MB // 2
    chosen = harness.Limits(memory_mb=memory_mb, full_every=10**9, **limits)
    return harness.campaign(bases, 7, inputs, workers=1, limits=chosen)


@pytest.mark.skipif(not hasattr(os, "fork") or not recycle.rss_mb(), reason="forked workers, /proc")
def test_a_memory_finding_counts_only_from_a_fresh_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without recycling by RSS, inputs 1, 2, ... in input 0's worker peak at its ballast: the
    first is run again in a fresh worker and is not a finding there; input 3 is one there too."""
    report = _run(monkeypatch, 6, recycle_mb=10**6, recycle_every=0)
    assert report.inputs == 6 and report.statuses["ok"] == 6
    assert report.rechecked == 2 and report.cleared == 1  # input 1 (the ballast's), input 3 (its own)
    assert report.classes["memory"] == 1
    assert [inputs for (cls, _sig), inputs in report.signatures.items() if cls == "memory"] == [[3]]
    example = next(iter(report.examples.values()))
    assert example["memory_first_peak_mb"] > example["base_mb"]
    assert not report.recycled


@pytest.mark.skipif(not hasattr(os, "fork") or not recycle.rss_mb(), reason="forked workers, /proc")
def test_a_worker_is_replaced_when_its_heap_stays_high_and_every_n_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Input 0 leaves its worker 128 MB above its fresh RSS: replaced before input 1, which
    then peaks low; and a worker is replaced after its fourth input."""
    report = _run(monkeypatch, 12, recycle_mb=32, recycle_every=4)
    assert report.inputs == 12
    # after 0 (rss); input 3 (its own peak) is run again in a fresh worker, which is replaced
    # after its fourth input (3, 4, 5, 6), as is the next one (7, 8, 9, 10)
    assert report.recycled == {"rss": 1, "every": 2}
    assert report.rechecked == 1 and report.cleared == 0
    assert report.classes["memory"] == 1


def test_retire_reason() -> None:
    outcome = {"worker_fresh_mb": 90.0, "worker_rss_mb": 160.0, "worker_inputs": 10}
    assert recycle.retire_reason(outcome, 64, 0) == "rss"
    assert recycle.retire_reason(outcome, 100, 0) is None
    assert recycle.retire_reason(outcome, 100, 11) == "every"
    assert recycle.retire_reason(outcome, 100, 12) is None
    memory = [("memory", "> 500 MB")]
    assert recycle.recheck({"worker_inputs": 3}, memory)
    assert not recycle.recheck({"worker_inputs": 0}, memory)  # a fresh worker's: it counts
    assert not recycle.recheck({"worker_inputs": 3}, [("hang", "> 5 s")])
