"""One connection whose two directions carry different VLAN tags is one flow.

A trunk or SPAN port often tags one direction of a connection and not the
other (or tags it with another VLAN): the client's packets come in VLAN 3136,
the server's untagged.  Keyed by endpoints and context alone, that connection
became two one-way sessions, the request in one and the SYN/ACK with the
whole response in the other (suricata-verify's ``bug-4376`` capture, first
taken for a SYN retransmission splitting the connection).  The same endpoints
in two contexts are still two conversations when each context carries both
ways (zeek's ``vlan-collisions``).

The rule is decided at a flow's first packet, from what came before it only,
so the per-packet pipeline (``tcp.table.SessionTable``), which cannot look
ahead, applies it identically: a flow (endpoints E, context c2) whose first
packet goes X->Y joins the first earlier flow of E (context c1, on the same
interface when interfaces are kept apart) that has so far carried packets
Y->X and none X->Y.  From then on every packet of (E, c2) belongs to the flow
(E, c1) and its sessions have c1's context.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from monoview.core.capture.flowkeys import FlowKeys, group

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]
Select = Callable[[npt.NDArray[np.bool_]], dict[str, Array]]
_NEVER = np.iinfo(np.int64).max
_INTERFACE = (1 << 32) - 1  # the interface part of a context code


def one_way_joins(keys: FlowKeys, select: Select) -> I64 | None:
    """Each flow's new number once one-way flows have joined theirs (None: no flow joins).

    ``keys`` are the flows in order of first appearance; ``select(wanted)``
    gives the ``frame``, ``dir`` and ``flow`` columns of the wanted flows' rows.
    Flows keep their order; a joining flow takes the number of the flow it joins.
    """
    first, endpoints = group(
        [keys.family, keys.a_hi, keys.a_lo, keys.a_port, keys.b_hi, keys.b_lo, keys.b_port]
    )
    shared = np.bincount(endpoints, minlength=len(first))[endpoints] > 1
    if not shared.any():
        return None
    rows = select(shared)
    flow, frame = rows["flow"].astype(np.int64), rows["frame"].astype(np.int64)
    direction = rows["dir"].astype(np.int64)
    # Per flow: the frame of its first row each way, and its first row's direction.
    earliest = np.full((len(keys), 2), _NEVER, dtype=np.int64)
    np.minimum.at(earliest, (flow, direction), frame)
    opening = np.minimum(earliest[:, 0], earliest[:, 1])
    opens_with = (earliest[:, 1] < earliest[:, 0]).astype(np.int64)
    target = np.arange(len(keys), dtype=np.int64)
    roots: dict[int, list[int]] = {}
    for f in np.flatnonzero(shared).tolist():  # in order of first appearance
        candidates = roots.setdefault(int(endpoints[f]), [])
        joined = _joins(f, candidates, earliest, opening, opens_with, keys.context)
        if joined is None:
            candidates.append(f)
        else:
            target[f] = joined
            # The joined flow's rows now count as the root's, from the joining flow's first on.
            earliest[joined] = np.minimum(earliest[joined], earliest[f])
    if (target == np.arange(len(keys))).all():
        return None
    kept = target == np.arange(len(keys))
    number = np.cumsum(kept) - 1
    renumbered: I64 = number[target]
    return renumbered


def _joins(
    flow: int, roots: list[int], earliest: I64, opening: I64, opens_with: I64, context: I64
) -> int | None:
    """The earlier flow ``flow`` joins: one that, before ``flow``'s first row, carried rows only
    the other way (on the same interface); None if there is none."""
    at, way = int(opening[flow]), int(opens_with[flow])
    for root in roots:
        if int(context[root]) & _INTERFACE != int(context[flow]) & _INTERFACE:
            continue
        if earliest[root, 1 - way] < at and earliest[root, way] > at:
            return root
    return None
