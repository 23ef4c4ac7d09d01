"""The campaign replaces a worker whose heap stayed high, and counts a memory finding only from a
fresh worker: one input's heap is not charged to the inputs after it (``tests/fuzz/recycle.py``).

The workers here run a stand-in for ``harness.run_input`` (they are forked after the patch):
input 0 is a file over 10 MB (not itself a memory finding, as 41:224819 of the campaign
was) that leaves a ballast on the worker's heap; input 3 peaks high and frees it (a real
outlier).  The peaks are the harness's own, ``VmHWM`` after ``clear_refs``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz import corpus, harness, mutators, recycle

MB = 1 << 20
REPO = Path(__file__).resolve().parents[2]
BALLAST_MB = 128
_kept: list[bytes] = []
# The RSS tests below measure forked workers' and a fresh interpreter's resident memory
# against the pytest process's own: inside the whole suite that process's heap (hundreds of
# MB, with free chunks) hides the effects they look for, and they take minutes.  They run
# alone, on request: MONOVIEW_FUZZ_RSS_TESTS=1 pytest tests/fuzz/test_recycle.py
RSS_TESTS = pytest.mark.skipif(
    os.environ.get("MONOVIEW_FUZZ_RSS_TESTS") != "1", reason="RSS tests run alone: MONOVIEW_FUZZ_RSS_TESTS=1"
)


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


@RSS_TESTS
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


@RSS_TESTS
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


def _flooded_conflicts(base: corpus.Base) -> bytes:
    """41:224819's making at a tenth of its size: 3,000 VLAN tags on every Ethernet frame of a
    pcapng capture, 3,000 conflicting copies of one of them (12 kB each), serialized (36 MB)
    and cut to 1 MB, as ``harness.build`` makes inputs."""
    sizes = iter([3000, 500, 3000])
    mutators._n = lambda *_args, **_kwargs: next(sizes)  # (in a process of its own)
    cap = base.cap.copy()
    rng = random.Random(4)  # a seed whose conflicts copy a flooded frame
    mutators.vlan_flood(cap, rng, None)
    mutators.conflicts(cap, rng, None)
    data, _marks = cap.serialize()
    assert len(data) > 30 * MB
    return bytes(data[:MB])


def _made_then_run(folder: str) -> dict[str, float]:
    """In a fresh interpreter (where the heap is laid out as in a worker, not as pytest's):
    the RSS, above a worker's before it makes an input, once 41:224819's shape is made, and
    the base and peak of that input's run."""
    bases = corpus.load(shared=False)
    (base,) = [b for b in bases if b.name == "gen_ng_two.pcapng"]
    path = Path(folder) / "input.pcapng"
    path.write_bytes(base.data)
    harness.run_input(path, 0)  # the imports and caches of a first run
    # as in a worker that ran other inputs: one freed a buffer of 24 MiB, and from then on
    # glibc serves chunks up to that size from its heap (and keeps twice as much free at its
    # top: M_MMAP_THRESHOLD's dynamic adjustment), so the records' chunks stay in the heap
    freed = b"\x01" * (24 * MB)
    del freed
    before = recycle.rss_mb()
    data = _flooded_conflicts(base)  # made last, at the heap's top: it keeps the freed pages below
    path.write_bytes(data)  # and it lives while the input runs, as in ``harness._worker``
    made = recycle.rss_mb()
    outcome = harness.run_input(path, 0)
    del data
    return {
        "made": made - before,
        "base": outcome["base_mb"] - before,
        "peak": outcome["peak_mb"] - before,
        "status": outcome["status"],
    }


@RSS_TESTS
@pytest.mark.skipif(not recycle.release_heap() or not recycle.rss_mb(), reason="glibc's malloc_trim, /proc")
def test_the_heap_that_making_an_input_left_is_not_in_its_peak(tmp_path: Path) -> None:
    """41:224819 read 482 MB: not monoview's (its every stage stays under 60 MB), but the
    pages of the 360 MB of records the harness made it from, freed and kept by glibc."""
    code = (
        "import json; from tests.fuzz.test_recycle import _made_then_run; "
        f"print(json.dumps(_made_then_run({str(tmp_path)!r})))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    figures = json.loads(run.stdout.splitlines()[-1])
    assert figures["made"] > 32, figures  # the shape: glibc kept the records' pages
    assert figures["status"] in ("ok", "format", "error"), figures
    assert figures["base"] < 8, figures  # was 72 MB: the records' pages
    assert figures["peak"] < 24, figures
