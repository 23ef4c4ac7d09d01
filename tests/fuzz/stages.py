"""What one fuzz input is run through, in two tiers, and what makes an input go through both.

Every input gets the **cheap tier**, in the worker's process (a few
milliseconds for a typical input):

* ``open``: ``CaptureDocument(path, workers=1)`` (on one input in three with
  other listener options: interfaces kept apart, a small ``max_session_size``,
  a short or endless linger), which reads the file, builds the index and the
  flow table and replays every session (the reader, the decoder, reassembly);
* ``sessions``: the listing ``monoview sessions`` prints (table and JSON);
* ``conversation``: a bounded sample of the exact paths, on the largest
  session: each direction's bytes with gap markers, the transcript in
  any format and gap policy, ``follow``'s monologue chunks, and what the window
  asks of a conversation (a byte's frame, a frame's session, the stream graphs,
  the text in a "show as" encoding).

The **full tier** adds the stages that cost the most per input:

* ``more``: up to three more conversations (the first and the last session,
  one at random);
* ``export``: ``Exporter(...).describe()``, the manifest an export would write,
  from which the bytes ``--gaps zero`` would write are computed;
* ``dispatch``: ``document.dispatch`` to the trace listener of ``monoview
  trace -v 7`` and the HTTP listener of ``monoview http``;
* ``ranges`` (on one full input in ``ranges_every``, and on every damaged one):
  the document built again in ranges of a few kB and small batches, as worker
  processes build a big capture, in this process: it must equal the first;
* ``analysis``: the per-packet path, ``analyse.Analysis`` with its TcpListener.

An input gets the full tier when it is in the seeded sample (one in
``full_every``, chosen from the input's number) or when its cheap tier looks
unusual (:func:`unusual`): slow, many sessions or frames, big gaps, many
conflicts, clamped timestamps, warnings logged or printed.  (Damage alone is
not unusual: half the inputs are damaged.)  Each class
of finding is still looked for where it shows: escapes and memory in any
stage, hangs first in the cheap tier (the reader, the decoder, replaying every
session: where every hang so far was) and then in the full one, which every
slow or large input reaches; ``ranges`` differences on damaged files, which
all get the ranged build; amplification where gaps are big; listener failures
where timestamps are clamped or damage is.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from monoview.core.streambytes import GapPolicy

RANGE_BYTES = 512  # the smallest range of a ranged build (a real one cuts at 32 MiB)
MB = 1 << 20
_NOT_ZERO = [GapPolicy.OMIT, GapPolicy.MARKER]

# What makes a cheap tier unusual (so the input goes through the full tier too).
# A cheap tier slower than this many CPU seconds, plus one per MB of input, is slow: a typical
# input runs it at 4-5 MB/s (a few milliseconds for most; CPU time grows on a busy machine).
SLOW_S = 0.25
MANY_SESSIONS = 300  # storms of tiny sessions: export's per-session cost
MANY_FRAMES = 20_000
# Gap bytes, all sessions together, from which an export's zero-fill is looked at: below the
# smallest export budget and the per-gap cap (64 MiB), neither finding can happen.
BIG_GAPS = 16 * MB
MANY_CONFLICTS = 1000  # what conflicts keep: memory
TINY_BATCH_FRAMES = 120  # ranged builds walk batches of a few records on files of so many frames


FULL = ("more", "export", "dispatch", "ranges", "analysis")
# The full tier's stages an unusual cheap tier leads to: where what it showed can go wrong.
PROMOTES: dict[str, tuple[str, ...]] = {
    "slow": FULL,  # what is slow once may hang elsewhere (the ranged build, per packet)
    "warnings": FULL,
    "sessions": ("export",),  # per-session costs: storms of tiny sessions
    "frames": ("export", "dispatch"),
    "gaps": ("export",),  # zero-fill, amplification, the output budget
    "conflicts": ("more", "export"),  # what conflicts keep: memory, the manifest's list
    "timestamps": ("dispatch", "analysis"),  # listeners on clamped times (OverflowError)
}


def sampled(index: int, full_every: int) -> bool:
    """Is input ``index`` in the seeded sample that gets the full tier?"""
    if full_every <= 1:
        return True
    return random.Random(f"tier:{index}").randrange(full_every) == 0


def stage(out: dict[str, Any], name: str) -> None:
    """Note that ``name`` starts now (and the CPU seconds the stage before took: on a shared
    machine wall time says little)."""
    now = time.process_time()
    times = out.setdefault("stages", {})
    if "_at" in out:
        times[out["stage"]] = round(now - out["_at"], 4)
    out["stage"], out["_at"] = name, now


def document_options(index: int) -> Any:
    """The listener options that change sessions, on one input in three (None: the defaults):
    interfaces kept apart, a small ``max_session_size``, a short linger."""
    from monoview.core.document import DocumentOptions

    rng = random.Random(f"options:{index}")
    if rng.random() >= 1 / 3:
        return None
    return DocumentOptions(
        split_interfaces=rng.random() < 0.5,
        max_session_size=rng.choice([None, 0, 1, 100, 1500, 65536]),
        linger_ns=rng.choice([0, 1, 10**9, 120 * 10**9, 2**63 - 1]),
    )


# -- the cheap tier ------------------------------------------------------------------


def cheap(document: Any, out: dict[str, Any], index: int) -> list[int]:
    """The cheap tier's stages after ``open``; the sessions the full tier is to look at too."""
    from monoview.core.flows.jsonlist import listing_chunks
    from monoview.core.flows.listing import session_entries, table_lines

    stage(out, "sessions")
    out["frames"] = document.stats.frames
    out["read_error"] = document.read_error
    count = len(document)
    out["sessions"] = count
    for _line in table_lines(document.rows, document.flows):
        pass
    entries = session_entries(document.rows, document.flows)
    for _chunk in listing_chunks({"capture": document.name}, "sessions", entries):
        pass
    if not count:
        return []
    stage(out, "conversation")
    rng = random.Random(index)
    kept = document.rows["kept0"] + document.rows["kept1"]
    first = {int(kept.argmax()) + 1}
    later = {1, count, rng.randint(1, count)} - first
    for session_id in sorted(first):
        conversation(document, session_id, rng)
    return sorted(later)


def conversation(document: Any, session_id: int, rng: random.Random) -> None:
    """Everything a person can ask of one conversation, on the CLI and in the window."""
    from monoview.core.export import Format, transcript_chunks
    from monoview.core.streambytes import direction_bytes, monologue_chunks

    session = document.conversation(session_id)
    for direction in ("c2s", "s2c"):
        direction_bytes(session, direction, GapPolicy.MARKER)
    # (not --gaps zero: what that writes is the output finding, computed in ``export``)
    for _piece in transcript_chunks(session, rng.choice(list(Format)), rng.choice(_NOT_ZERO)):
        pass
    for monologue in session.monologues[:50]:
        for _piece in monologue_chunks(monologue, GapPolicy.MARKER):
            pass
    _views(document, session, session_id, rng)


def _views(document: Any, session: Any, session_id: int, rng: random.Random) -> None:
    """What the window and ``follow --show-as`` ask of a conversation: a byte's frame and
    place in the file, a frame's byte and session, the stream graphs, the text shown."""
    from monoview.core.flows.lookup import session_of_frame
    from monoview.core.graphs import stream_graphs
    from monoview.core.showas import ShowAs, render, segments

    for monologue in session.monologues[:3]:
        if monologue.length:
            frame, _ts, _offset = monologue.locate(rng.randrange(monologue.length))
            monologue.byte_of_frame(frame)
            session_of_frame(document, frame)
    session_of_frame(document, rng.randint(0, max(1, document.stats.frames + 1)))
    stream_graphs(document, session_id)
    if sum(s.kept for s in session.streams) <= 256 * 1024 and len(session.monologues) <= 2000:
        how = rng.choice(list(ShowAs))
        if rng.random() < 0.3:
            render(session, segments(session.monologues), how)
        else:
            _formats_chunked(session, how, rng)


def _formats_chunked(session: Any, how: Any, rng: random.Random) -> None:
    """The text view's chunks of a format, laid end to end, are the whole format (an
    ``AssertionError`` is an escape finding)."""
    import numpy as np

    from monoview.core.blob import session_blob
    from monoview.core.formatchunks import FormatChunks
    from monoview.core.showas import render, turns
    from monoview.core.textchunks import editor_map

    whole = render(session, turns(session.monologues), how) if session.monologues else ""
    chunks = FormatChunks(session_blob(session, session.monologues), how, rng.choice([64, 101, None]))
    if "".join(chunks.text(k) for k in range(chunks.count)) != whole:
        raise AssertionError(f"FormatChunks differs from showas.render ({how.value})")
    maps = [chunks.chunk(k).map for k in range(chunks.count)]
    if "".join(m.text for m in maps) != editor_map(whole).text:
        raise AssertionError(f"FormatChunks' editor text differs ({how.value})")
    if any(bool((np.diff(m.starts) < 0).any()) for m in maps):
        raise AssertionError(f"FormatChunks' byte map goes back ({how.value})")


def unusual(document: Any, out: dict[str, Any], cpu_seconds: float) -> list[str]:
    """Why the cheap tier of an input looks unusual (empty: it does not)."""
    reasons = []
    rows = document.rows
    if cpu_seconds > SLOW_S + out["size"] / MB:
        reasons.append("slow")
    if len(document) > MANY_SESSIONS:
        reasons.append("sessions")
    if document.stats.frames > MANY_FRAMES:
        reasons.append("frames")
    if int(rows["gap_bytes0"].sum() + rows["gap_bytes1"].sum()) > BIG_GAPS:
        reasons.append("gaps")
    if int(rows["conflicts0"].sum() + rows["conflicts1"].sum()) > MANY_CONFLICTS:
        reasons.append("conflicts")
    if document.stats.clamped_timestamps:
        reasons.append("timestamps")
    if out.get("_logged"):
        reasons.append("warnings")
    return reasons


def extra_stages(
    index: int, reasons: list[str], damaged: bool, full_every: int, ranges_every: int
) -> list[str]:
    """The full tier's stages input ``index`` gets, in order: all of them (the ranged build
    on damaged inputs and one in ``ranges_every`` of the others) when it is in the sample,
    else those that its cheap tier's ``reasons`` point to (:data:`PROMOTES`)."""
    if sampled(index, full_every):
        ranged = damaged or (ranges_every > 0 and index % ranges_every == 1 % ranges_every)
        wanted = {s for s in FULL if s != "ranges" or ranged}
    else:
        wanted = {s for reason in reasons for s in PROMOTES[reason]}
    return [s for s in FULL if s in wanted]


# -- the full tier -------------------------------------------------------------------


def more(document: Any, out: dict[str, Any], index: int, later: list[int]) -> None:
    """Up to three more conversations (the first and the last session, one at random)."""
    rng = random.Random(-index - 1)
    for session_id in later:
        conversation(document, session_id, rng)


def export(document: Any, out: dict[str, Any], index: int) -> None:
    """The manifest an export would write, and from it what ``--gaps zero`` would write."""
    import numpy as np

    from monoview.core.export import Exporter, ExportOptions, Format
    from monoview.core.export.zeros import export_budget, share_out
    from monoview.core.streambytes import filler_length
    from monoview.core.tcp.gaps import fit_in_budget

    with tempfile.TemporaryDirectory(prefix="fuzz-export-") as folder:
        fmt = random.Random(f"format:{index}").choice(list(Format))
        chosen = ExportOptions(
            fmt=fmt, gaps=GapPolicy.MARKER, directions=False, monologues=False, transcript=False
        )
        manifest = Exporter(document, Path(folder) / "out", chosen, workers=1).describe()
    zero_bytes, zeros, largest_fill = 0, 0, 0
    # what --gaps zero would write: each direction's share of the export's budget of zeros
    wanted = [sum(g["missing"] for g in s[d]["gaps"]) for s in manifest["streams"] for d in ("c2s", "s2c")]
    shares = iter(share_out(np.array(wanted, dtype=np.int64), export_budget(document.path)).tolist())
    for stream in manifest["streams"]:
        for direction in ("c2s", "s2c"):
            info = stream[direction]
            zero_bytes += info["captured"]
            fits = fit_in_budget((gap["missing"] for gap in info["gaps"]), next(shares))
            for gap, gap_fits in zip(info["gaps"], fits, strict=True):
                written = filler_length(gap["missing"], GapPolicy.ZERO, gap_fits)
                zero_bytes += written
                if gap_fits:  # zeros, not the marker
                    largest_fill = max(largest_fill, written)
                    zeros += written
    out["zero_bytes"] = zero_bytes
    out["zeros"], out["zero_budget"] = zeros, export_budget(document.path)
    out["largest_fill"] = largest_fill


def dispatch(document: Any, out: dict[str, Any]) -> None:
    """``monoview trace -v 7`` and ``monoview http``: the document's sessions dispatched to
    their listeners; every listener failure is a finding."""
    from monoview.core.http import http_listeners
    from monoview.core.tcp.trace import TraceOptions, trace_listener

    listener = trace_listener(TraceOptions(v=7), keep=True)
    dispatcher = document.dispatch([listener, *http_listeners()])
    failures = [f"{f.listener}.{f.event}: {f.error}"[:300] for f in dispatcher.failures.values()]
    if failures:
        out["listener_failures"] = failures


def ranges(path: Path, index: int, out: dict[str, Any], single: Any | None) -> None:
    """The document built again as workers would build it (the file cut into ranges that
    re-synchronise, records walked a few at a time), in this process: its sessions, frames,
    counts and error must be those of ``single`` (a one-walk build with the default options;
    None: built here).  A difference is a ``ranges`` finding."""
    from monoview.core.document import CaptureDocument
    from monoview.core.executor import InlineExecutor

    rng = random.Random(-index)
    workers = rng.choice([2, 3, 4, 8])
    min_range = max(RANGE_BYTES, out["size"] // (workers * 4) - rng.randrange(1024))
    # Tiny batches only for files of few frames: a batch costs some numpy calls whatever its
    # size (a millisecond), and 100,000 batches of one record take a minute (not an input's
    # doing: the harness's own choice of batch).
    few = out["size"] < 256 * 1024 and out.get("frames", 0) <= TINY_BATCH_FRAMES
    batch = rng.choice([1, 2, 3, 7, 64, 8192] if few else [64, 512, 8192])
    owned = single is None
    if owned:
        single = CaptureDocument(path, workers=1)
    try:
        with CaptureDocument(
            path, workers=workers, executor=InlineExecutor(), min_range=min_range, batch=batch
        ) as ranged:
            differences = _differences(single, ranged)
            if differences:
                out["ranges"] = {
                    "differ": differences,
                    "workers": workers,
                    "min_range": min_range,
                    "batch": batch,
                    "single": [len(single), single.stats.frames, single.read_error],
                    "ranged": [len(ranged), ranged.stats.frames, ranged.read_error],
                }
    finally:
        if owned:
            single.close()


def _differences(single: Any, ranged: Any) -> list[str]:
    return [
        what
        for what, same in (
            ("rows", single.rows.shape == ranged.rows.shape and bool((single.rows == ranged.rows).all())),
            (
                "flows",
                len(single.flows) == len(ranged.flows)
                and all(
                    single.flows.endpoints(f) == ranged.flows.endpoints(f)
                    and single.flows.context(f) == ranged.flows.context(f)
                    for f in range(len(single.flows))
                ),
            ),
            ("stats", dataclasses.astuple(single.stats) == dataclasses.astuple(ranged.stats)),
            ("read_error", single.read_error == ranged.read_error),
        )
        if not same
    ]


def analysis(path: Path, out: dict[str, Any]) -> None:
    """The per-packet path (``monoview analyse``): every listener failure is a finding."""
    from monoview.core.analyse import Analysis

    run = Analysis(path, trace=lambda _line: None)
    try:
        for _batch in run.run():
            pass
        failures = [f"{f.listener}.{f.event}: {f.error}"[:300] for f in run.dispatcher.failures.values()]
        if failures:
            out.setdefault("listener_failures", []).extend(failures)
    finally:
        run.capture.close()
