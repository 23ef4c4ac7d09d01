"""The standing fuzz campaign: mutated captures through monoview's real entry points, on both cores.

Engine: our own seeded, structure-aware mutation loop (``tests/fuzz/``), not a
general-purpose engine.  atheris is not installed here (it needs a libFuzzer
build and would be a new dependency), and it would fuzz bytes blind to the
formats.  hypothesis is installed, and the property tests use it, but it fits
a campaign badly: it runs examples one after another in its own process, so
it cannot put a deadline on an input that hangs, measure one input's peak
memory, survive a crash, or use the second core, and its shrinking replays
an input dozens of times (minutes, for a hang).  What the campaign needs is
what the loop here does: every input made from ``random.Random(f"{seed}:{i}")``
by mutators that know pcap, pcapng, link, IP and TCP (so they can lie about a
length the reader trusts, or stack 1,000 VLAN tags), run in worker processes
that the parent kills at a deadline, each input re-made from its two numbers
(``--replay``).  The mutators draw boundary values (2^63, 2^64-1, 0xFFFFFFFF,
the reader's own limits) as often as random ones, as hypothesis would.

    .venv/bin/python bench/fuzz.py --inputs 200000 --seed 1 --out /tmp/fuzz
    .venv/bin/python bench/fuzz.py --replay 1:4711          # re-make one input, run it, traceback
    .venv/bin/python bench/fuzz.py --replay 1:4711 --save x.pcap
    .venv/bin/python bench/fuzz.py --run FILE.pcap          # any file through the same entry points
    # an input of the test suite's short run (tests/fuzz/test_fuzz.py)
    .venv/bin/python bench/fuzz.py --replay 20261202:17 --light --small 60000

Tiers (``tests/fuzz/stages.py``), so that a million inputs is a run of hours, not a day:

* every input gets the **cheap tier** in its worker's process: the document opened
  (reader, decoder, index, flow table, every session replayed: where every hang,
  escape, memory outlier and timestamp overflow so far showed), the session listing,
  and the largest session's conversation through every path a person can ask for;
* a **seeded sample** (one input in ``--full-every``, 50 by default, chosen from the
  input's number; ``--replay`` and ``--run`` run every stage unless told otherwise)
  gets the **full tier** as well: three more conversations, the
  export manifest (and from it the zeros ``--gaps zero`` would write), dispatch to the
  trace and HTTP listeners, the ranged build in tiny ranges and batches (on every
  damaged input of the sample, and one in three of the others) and the per-packet
  analysis;
* an input whose cheap tier looks **unusual** gets the full tier's stages where what
  it showed can go wrong (``stages.PROMOTES``): slow for its size or warnings: all
  of them; more than 300 sessions (storms): export; many frames: export and dispatch;
  more than 16 MiB of gaps (zero-fill, amplification, the output budget): export;
  many conflicts: more conversations and export; clamped timestamps: dispatch and
  the per-packet analysis.

Workers are forked and reused (the parent sends input numbers only), and replaced by a
fresh fork when an input leaves their RSS more than ``--recycle-mb`` above what they
started with, or after ``--recycle-every`` inputs, so that no input's peak memory
includes an earlier input's heap; a memory finding counts only from a fresh worker
(otherwise the input is run again in one: ``tests/fuzz/recycle.py``).  Inputs,
indexes and export folders live in ``/dev/shm``; a small document keeps its index in
memory.  The summary gives each tier's count, why inputs were unusual, and the CPU
milliseconds per input of each stage.

``--out`` gets ``findings.jsonl`` (one line per finding: class, signature,
the input's plan and outcome), ``inputs/`` (the first inputs of each
signature) and ``summary.json``.  Exit status 1 if anything was found.
What is run and what counts as a finding: ``tests/fuzz/harness.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FULL_EVERY = 50  # the campaign's seeded sample for the full tier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=0, help="first input index (to resume a campaign)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--hang", type=float, default=5.0, help="seconds that make a small file's run a hang")
    parser.add_argument(
        "--kill",
        type=float,
        default=60.0,
        help="a worker is killed after this many CPU seconds on an input (or ten times as many wall seconds)",
    )
    parser.add_argument("--memory", type=int, default=500, help="peak RSS (MB) that makes an outlier")
    parser.add_argument(
        "--recycle-mb",
        type=float,
        default=64.0,
        help="replace a worker whose RSS after an input stays this many MB above its fresh RSS",
    )
    parser.add_argument(
        "--recycle-every", type=int, default=5000, help="replace a worker after this many inputs (0: never)"
    )
    parser.add_argument("--small", type=int, default=None, help="only shared captures up to this many bytes")
    parser.add_argument(
        "--full-every",
        type=int,
        default=None,
        help="one input in this many gets the full tier (1: all; default 50, 1 with --replay and --run)",
    )
    parser.add_argument("--light", action="store_true", help="the test suite's smaller storms and floods")
    parser.add_argument("--no-shared", action="store_true", help="generated captures only")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="re-make one input and run it here")
    parser.add_argument("--save", type=Path, help="with --replay: write the input there")
    parser.add_argument("--run", type=Path, help="run one file through the entry points")
    parser.add_argument("--progress", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.fuzz import corpus, harness

    limits = harness.Limits(
        hang_s=args.hang,
        kill_s=args.kill,
        memory_mb=args.memory,
        recycle_mb=args.recycle_mb,
        recycle_every=args.recycle_every,
        light=args.light,
        full_every=args.full_every or (1 if args.replay or args.run else FULL_EVERY),
    )
    if args.run is not None:
        outcome = harness.run_input(args.run, 0, limits)
        return _show(outcome, limits)
    bases = corpus.load(shared=not args.no_shared, only_small=args.small, light=args.light)
    if args.replay:
        seed, index = (int(x) for x in args.replay.split(":"))
        data, plan, base = harness.build(bases, seed, index, args.light)
        print(f"input {seed}:{index}: {len(data):,} bytes from {base}: {' + '.join(plan)}")
        path = args.save or Path(f"/tmp/fuzz-{seed}-{index}.pcap")
        path.write_bytes(data)
        print(f"written to {path}")
        outcome = harness.run_input(path, index, limits)
        return _show(outcome, limits)

    def progress(report: harness.Report) -> None:
        rate = report.inputs / report.seconds if report.seconds else 0
        print(
            f"{time.strftime('%H:%M:%S')} {report.inputs:,} inputs, {rate:.1f}/s, findings "
            f"{dict(report.classes) or 'none'}",
            flush=True,
        )

    print(
        f"seed {args.seed}, inputs {args.start}..{args.start + args.inputs - 1}, {len(bases)} base "
        f"captures, {args.workers} workers",
        flush=True,
    )
    report = harness.campaign(
        bases,
        args.seed,
        args.inputs,
        start=args.start,
        workers=args.workers,
        limits=limits,
        out=args.out,
        progress=progress,
        progress_every=args.progress,
    )
    summary = report.summary()
    summary.update(start=args.start, workers=args.workers, bases=len(bases))
    text = json.dumps(summary, indent=1)
    if args.out is not None:
        (args.out / "summary.json").write_text(text + "\n")
    print(text)
    for (cls, sig), example in sorted(report.examples.items()):
        print(
            f"\n== {cls}: {sig}  (smallest: input {args.seed}:{example['index']}, {example['size']:,} bytes, "
            f"{example['base']}: {' + '.join(example['plan'] or [])})"
        )
        if example.get("traceback"):
            print(example["traceback"])
    return 1 if report.classes else 0


def _show(outcome: dict[str, object], limits: object) -> int:
    from tests.fuzz import harness

    trace = outcome.pop("traceback", None)
    print(json.dumps(outcome, indent=1, default=str))
    if trace:
        print(trace)
    found = harness.findings(outcome, limits)  # type: ignore[arg-type]
    print("findings:", found or "none")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
