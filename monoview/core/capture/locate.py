"""Where each flow's rows lie in an index's ranges, so one flow is read without a scan.

Reading one flow by masking the flow column of every range costs a pass over
the whole index; done for every session (events, follow, the window), that is
quadratic.  One stable sort of the flow column, made once and kept by the
document, gives each flow's row positions in capture order; reading a flow is
then a gather of its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import IndexParts
from monoview.core.capture.indexparts import SUBFRAME_POSITION, merged_order

Array = npt.NDArray[np.generic]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FlowLocator:
    """Row positions of every flow: ``order[bounds[f]:bounds[f + 1]]`` are flow ``f``'s.

    Positions count the ranges' rows one range after another (``starts`` is
    each range's first); the rows made from IP fragments (``extra``) have a
    locator of their own, as they are few and kept apart.
    """

    order: npt.NDArray[np.signedinteger]
    bounds: I64
    starts: I64
    extra_order: npt.NDArray[np.signedinteger] | None
    extra_bounds: I64 | None

    @classmethod
    def of(cls, parts: IndexParts) -> FlowLocator:
        """Sort the index's flow column once (about 10 bytes per row)."""
        flows = len(parts.flows)
        counts = [part.rows for part in parts.ranges]
        starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)])
        columns = [
            mapping[part.column("flow")]
            for part, mapping in zip(parts.ranges, parts.mappings, strict=True)
            if part.rows
        ]
        flow = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        order, bounds = _sorted(flow, flows)
        extra_order = extra_bounds = None
        if parts.extra is not None:
            extra_order, extra_bounds = _sorted(parts.extra["flow"].astype(np.int64), flows)
        return cls(order, bounds, starts, extra_order, extra_bounds)

    def select(self, parts: IndexParts, flow: int, names: tuple[str, ...]) -> dict[str, Array]:
        """Columns ``names`` of flow ``flow``'s rows, in capture order (as ``IndexParts.select``)."""
        asked = names
        if parts.extra is not None and "frame" not in names:
            names = (*names, "frame")  # to merge the fragments' rows in by frame
        positions = self.order[self.bounds[flow] : self.bounds[flow + 1]]
        cuts = np.searchsorted(positions, self.starts)
        pieces: list[dict[str, Array]] = []
        for k, (part, base) in enumerate(zip(parts.ranges, parts.bases, strict=True)):
            lo, hi = int(cuts[k]), int(cuts[k + 1])
            if lo == hi:
                continue
            local = positions[lo:hi] - self.starts[k]
            piece: dict[str, Array] = {}
            for name in names:
                if name == "flow":
                    piece[name] = np.full(hi - lo, flow, dtype=np.int64)
                else:
                    piece[name] = part.in_capture(name, part.column(name)[local], base)
            pieces.append(piece)
        order = None
        if parts.extra is not None and self.extra_order is not None and self.extra_bounds is not None:
            chosen = self.extra_order[self.extra_bounds[flow] : self.extra_bounds[flow + 1]]
            if len(chosen):
                own = pieces[:]
                pieces.append({name: parts.extra[name][chosen] for name in names})
                order = merged_order(
                    _joined([p["frame"] for p in own]),
                    pieces[-1]["frame"],
                    lambda: self._payload(parts, positions, cuts),
                    parts.extra[SUBFRAME_POSITION][chosen],
                )
        out: dict[str, Array] = {}
        for name in asked:
            joined = np.concatenate([p[name] for p in pieces]) if pieces else np.zeros(0, dtype=np.int64)
            out[name] = joined if order is None else joined[order]
        return out

    def _payload(self, parts: IndexParts, positions: Array, cuts: Array) -> Array:
        """The payload offsets of a flow's rows in the ranges (``select``'s ``positions``)."""
        found = []
        for k, (part, base) in enumerate(zip(parts.ranges, parts.bases, strict=True)):
            lo, hi = int(cuts[k]), int(cuts[k + 1])
            if lo < hi:
                found.append(
                    part.in_capture(
                        "payload", part.column("payload")[positions[lo:hi] - self.starts[k]], base
                    )
                )
        return _joined(found)

    def select_flows(
        self, parts: IndexParts, flows: I64, names: tuple[str, ...]
    ) -> tuple[dict[str, I64], I64]:
        """Columns ``names`` (as int64) of the rows of ``flows``, flow after flow, each flow's
        rows in capture order, and where each flow's rows begin and end (``bounds``).

        One gather per range for all of them: reading flows one at a time costs a
        few dozen numpy calls each, which dominates when there are thousands of
        one-packet flows (a storm of RSTs took 3 s to replay to listeners).
        """
        flows = np.asarray(flows, dtype=np.int64)
        out, bounds = self._gathered(parts, flows, names)
        extra = self.extra_bounds
        if parts.extra is None or extra is None:
            return out, bounds
        merged = np.flatnonzero(extra[flows + 1] > extra[flows]).tolist()
        if not merged:
            return out, bounds
        # The few flows with rows from IP fragments: those merge in by frame, one flow at a time.
        pieces: dict[str, list[I64]] = {name: [] for name in names}
        counts = np.diff(bounds)
        done = 0
        for g in [*merged, len(flows)]:
            for name in names:
                pieces[name].append(out[name][bounds[done] : bounds[g]])
            if g < len(flows):
                alone = self.select(parts, int(flows[g]), names)
                counts[g] = len(alone[names[0]])
                for name in names:
                    pieces[name].append(alone[name].astype(np.int64))
            done = g + 1
        joined = {name: np.concatenate(pieces[name]) for name in names}
        return joined, np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)])

    def _gathered(self, parts: IndexParts, flows: I64, names: tuple[str, ...]) -> tuple[dict[str, I64], I64]:
        """``select_flows`` of the ranges' rows alone."""
        counts = self.bounds[flows + 1] - self.bounds[flows]
        bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)])
        total = int(bounds[-1])
        index = np.repeat(self.bounds[flows] - bounds[:-1], counts) + np.arange(total, dtype=np.int64)
        positions = self.order[index].astype(np.int64)
        where = np.searchsorted(self.starts, positions, side="right") - 1
        out = {name: np.empty(total, dtype=np.int64) for name in names}
        if "flow" in out:
            out["flow"] = np.repeat(flows, counts)
        for k, (part, base) in enumerate(zip(parts.ranges, parts.bases, strict=True)):
            chosen = np.flatnonzero(where == k)
            if not len(chosen):
                continue
            local = positions[chosen] - self.starts[k]
            for name in names:
                if name != "flow":  # frames and payload offsets as the capture (a set) numbers them
                    out[name][chosen] = part.in_capture(name, part.column(name)[local], base)
        return out, bounds


def _joined(pieces: list[Array]) -> Array:
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def _sorted(flow: Array, flows: int) -> tuple[npt.NDArray[np.signedinteger], I64]:
    """Positions sorted by flow (capture order within a flow), and each flow's bounds."""
    kind = np.int32 if len(flow) < 1 << 31 else np.int64
    order: npt.NDArray[np.signedinteger] = np.argsort(flow, kind="stable").astype(kind)
    counts = np.bincount(flow.astype(np.int64), minlength=flows)
    bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts, dtype=np.int64)])
    return order, bounds
