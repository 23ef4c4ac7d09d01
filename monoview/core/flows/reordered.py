"""One direction of clean-but-reordered flows: segments that tile the stream, in any order.

A segment that arrives beyond a hole waits and is delivered when the hole
fills; the exact reassembler then delivers the prefix of the stream that has
become whole, in offset order.  When a direction's segments, taken once each
by offset, tile its stream exactly from the first byte (every byte in exactly
one segment; later copies of a segment equal to it in place and length), and
nothing is ever given up (the peer never acknowledges past a hole while
bytes wait; fewer bytes than any receive window), the delivery is this:

* segment ``k`` in offset order is delivered at the row
  ``d_k = max(arrival of segments 0..k)``, so ``d`` is a running maximum;
* the stream's next offset after row ``r`` is the end of the last segment
  with ``d_k <= r``;
* a row delivers bytes when it is the arrival that completed a prefix;
* later copies deliver nothing and are compared with the segment (a one-byte
  copy just below the next offset is a keep-alive, as in the reassembler).

Everything else a session's row needs follows from those columns in
``simple``; which flows qualify, and that their rows equal the replay's, is
checked by ``tests/core/test_session_table.py`` and the property tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monoview.core.tcp.stream import MAX_WAITING_BYTES

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclass
class Tiled:
    """The direction's columns in the candidate groups, as positions and their values."""

    ok: Bool  # per group: a candidate whose segments tile the stream as described
    rows: I64  # positions of every row in a candidate group
    before: I64  # at ``rows``: the next offset before the row
    after: I64  # at ``rows``: ... after it
    delivering: I64  # positions of the rows that deliver bytes
    pieces: I64  # positions of the rows whose own segment is a delivered piece
    piece_start: I64  # at ``pieces``
    piece_end: I64
    compared: I64  # positions of later copies compared with the delivered segment
    compare_end: I64  # at ``compared``


def tile(of_row: I64, data_rows: I64, offset: I64, length: I64, candidates: Bool, groups: int) -> Tiled:
    """The tiled columns of a direction.

    ``data_rows`` are the positions of its data rows in arrival order,
    ``offset`` and ``length`` their stream offsets and wire lengths,
    ``of_row`` every row's group, ``candidates`` the groups to compute.
    """
    nothing = np.zeros(0, dtype=np.int64)
    everywhere = np.flatnonzero(candidates[of_row])
    chosen = candidates[of_row[data_rows]]
    pos, off, ln = data_rows[chosen], offset[chosen], length[chosen]
    if not len(pos):
        zeros = np.zeros(len(everywhere), dtype=np.int64)
        return Tiled(candidates.copy(), everywhere, zeros, zeros, *(nothing,) * 6)
    grp = of_row[pos]
    order = np.lexsort((pos, off, grp))  # by group, then offset, then arrival
    pos, off, ln, grp = pos[order], off[order], ln[order], grp[order]
    new = np.ones(len(pos), dtype=np.bool_)
    new[1:] = (grp[1:] != grp[:-1]) | (off[1:] != off[:-1])
    tile_of = np.cumsum(new) - 1
    t_pos, t_off, t_len, t_grp = pos[new], off[new], ln[new], grp[new]
    t_end = t_off + t_len
    first = np.ones(len(t_pos), dtype=np.bool_)
    first[1:] = t_grp[1:] != t_grp[:-1]
    previous_end = np.zeros(len(t_pos), dtype=np.int64)
    previous_end[1:] = t_end[:-1]
    bad = np.zeros(groups, dtype=np.bool_)
    bad[t_grp[np.where(first, t_off != 0, t_off != previous_end)]] = True
    copies = ~new
    bad[grp[copies & (ln != t_len[tile_of])]] = True
    total = np.bincount(grp, weights=ln.astype(np.float64), minlength=groups)
    bad |= total > MAX_WAITING_BYTES
    # Delivery: the running maximum of arrivals in offset order (groups lie in
    # ascending positions, so one running maximum serves them all).
    delivered_at = np.maximum.accumulate(t_pos)
    here = of_row[everywhere]
    ends = []
    for side in ("left", "right"):
        k = np.searchsorted(delivered_at, everywhere, side=side) - 1
        k0 = np.maximum(k, 0)
        ends.append(np.where((k >= 0) & (t_grp[k0] == here), t_end[k0], 0))
    before, after = ends
    c_pos, c_off, c_len = pos[copies], off[copies], ln[copies]
    nxt = before[np.searchsorted(everywhere, c_pos)]
    keepalive = (c_len == 1) & (c_off == nxt - 1)
    compared = ~keepalive
    return Tiled(
        candidates & ~bad, everywhere, before, after, t_pos[delivered_at == t_pos], t_pos, t_off, t_end,
        c_pos[compared], (c_off + c_len)[compared],
    )  # fmt: skip
