"""The short fuzz run: a few thousand seeded inputs through every entry point, on both cores.

The standing campaign is ``bench/fuzz.py`` (millions of inputs, full-size
storms and floods); this run takes the same mutators at smaller sizes over the
generated captures and the shared ones up to 60 kB, and fails on any escape,
listener failure, printed traceback, crash, hang (20 s: a generous margin on
a busy machine; the inputs take milliseconds), memory outlier or difference
between a ranged and a one-walk build.  A failure names the input; re-make
and run it with ``bench/fuzz.py --replay SEED:INDEX --light --small 60000``.
"""

from __future__ import annotations

import os

import pytest

from tests.fuzz import corpus, harness

SEED = 20261202
INPUTS = int(os.environ.get("MONOVIEW_FUZZ_INPUTS", "2000"))
SMALL = 60_000  # shared captures up to this size
FAILING = ("escape", "listener", "noise", "crash", "hang", "memory", "ranges", "amplification")


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
