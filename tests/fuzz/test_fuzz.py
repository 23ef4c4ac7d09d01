"""The short fuzz run: a few thousand seeded inputs through every entry point, on both cores.

The standing campaign is ``bench/fuzz.py`` (millions of inputs, full-size
storms and floods); this run takes the same mutators at smaller sizes over the
generated captures and the shared ones up to 60 kB, and fails on any escape,
listener failure, printed traceback, crash, input too slow to make, hang
(20 s: a generous margin on a busy machine; the inputs take milliseconds),
memory outlier or difference between a ranged and a one-walk build.  A failure names the input; re-make
and run it with ``bench/fuzz.py --replay SEED:INDEX --light --small 60000``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz import corpus, harness, stages

SEED = 20261202
INPUTS = int(os.environ.get("MONOVIEW_FUZZ_INPUTS", "2000"))
SMALL = 60_000  # shared captures up to this size
FAILING = ("escape", "listener", "noise", "crash", "hang", "build", "memory", "ranges", "amplification")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the workers are forked")
def test_short_fuzz_run() -> None:
    bases = corpus.load(only_small=SMALL, light=True)
    # Half the inputs in the full tier (the campaign samples one in 50): the short run is
    # where each stage must be reached often; the rest go the campaign's cheap way.
    limits = harness.Limits(hang_s=20.0, kill_s=20.0, light=True, ranges_every=6, full_every=2)
    report = harness.campaign(bases, SEED, INPUTS, workers=2, limits=limits)
    assert report.inputs == INPUTS
    found = {key: indices for key, indices in report.signatures.items() if key[0] in FAILING}
    details = "\n".join(
        f"{cls}: {sig}: inputs {SEED}:{indices[0]} ... ({len(indices)} or more)\n"
        f"{report.examples[(cls, sig)].get('traceback') or report.examples[(cls, sig)].get('plan')}"
        for (cls, sig), indices in found.items()
    )
    assert not found, details
    # The run reached what it is for: sessions, damage, and every mutator.
    assert report.statuses["ok"] > INPUTS // 2
    # Both tiers ran, and every stage of the full one, many times.
    assert report.tiers["cheap"] > INPUTS // 10 and report.tiers["sampled"] > INPUTS // 4
    ran = report.stage_seconds
    assert {"open", "sessions", "conversation", "more", "export", "dispatch", "ranges", "analysis"} <= set(
        ran
    )
    assert set(report.mutators) >= {f.__name__ for f, _w in harness.mutators.STRUCTURAL} - {"linktype_lie"}


def test_an_unusual_cheap_tier_gets_the_stages_it_points_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An input outside the seeded sample gets the cheap tier only, unless what the cheap tier
    saw points to a stage of the full one: a storm of 400 sessions gets the export (where
    storms were slow), and is told apart from a plain capture."""
    monkeypatch.setattr(stages, "SLOW_S", 1000.0)  # "slow" (CPU time on a busy machine) aside
    never = harness.Limits(full_every=10**9)
    made = dict(corpus.generated())
    results = {}
    for name in ("gen_storm.pcap", "gen_plain.pcap"):
        path = tmp_path / name
        path.write_bytes(made[name])
        index = next(i for i in range(100) if not stages.sampled(i, never.full_every))
        results[name] = harness.run_input(path, index, never)
    storm, plain = results["gen_storm.pcap"], results["gen_plain.pcap"]
    assert storm["sessions"] > stages.MANY_SESSIONS and "sessions" in storm["unusual"]
    assert storm["tier"] == "unusual" and "export" in storm["extra"] and "export" in storm["stages"]
    assert plain["tier"] == "cheap" and plain["extra"] == [] and "export" not in plain["stages"]
    assert {"open", "sessions", "conversation"} <= set(plain["stages"])


def test_the_sample_is_seeded_by_the_input_number() -> None:
    chosen = [i for i in range(5000) if stages.sampled(i, 50)]
    assert chosen == [i for i in range(5000) if stages.sampled(i, 50)]
    assert 50 < len(chosen) < 150
    assert all(stages.sampled(i, 1) for i in range(100))
