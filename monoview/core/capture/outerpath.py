"""The outer path of a packet: what it came through on its way to its inner IP header.

For TCP inside a tunnel the inner endpoints name the session (as tshark names
it), so a session's tunnel, VLAN tags and source route are context, not key:
they are kept so the list and the manifest can say how the session arrived.

A path is a tuple of hops, outermost first, each a short text: ``VLAN 100``,
``GRE 192.0.2.1→192.0.2.2`` (the tunnel's name and its outer addresses), and
for an IPv4 source route ``LSRR via 10.0.0.254: 10.0.0.2`` (or ``SSRR``: the
header's destination, the next hop, then the addresses the option lists).  A
plain frame's path is ``()``.  L2 shims (E-Tag, PBB's I-TAG, MPLS labels,
PPPoE) are not hops: they name no endpoint a person would look for.

Paths are few in any capture (one per tunnel endpoint pair and VLAN stack), so
a scanner numbers them (:class:`PathTable`, in the rows' ``path`` column) and
the index keeps, per flow, only its distinct (flow, path) pairs
(:func:`flow_paths`): no text and no column per packet.  A flow's paths are
those of all its packets, so every session of one flow shows them (the
per-packet analysis keeps them per session: the two differ only when one
flow's sessions came different ways).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.records import Buffer
from monoview.core.packet import format_ip
from monoview.core.sets import unique_rows

I64 = npt.NDArray[np.int64]
OuterPath = tuple[str, ...]
NO_PATH: Final[OuterPath] = ()
SEPARATOR: Final = " · "
_ROUTE_NAMES: Final = {0x83: "LSRR", 0x89: "SSRR"}


def vlan_hops(tags: tuple[int, ...]) -> OuterPath:
    """The hops of VLAN tags, outermost first."""
    return tuple(f"VLAN {tag}" for tag in tags)


def tunnel_hop(name: str, src: bytes, dst: bytes) -> str:
    """A tunnel as a hop: its name and the outer packet's addresses."""
    return f"{name} {format_ip(src)}→{format_ip(dst)}"


def route_hop(buf: Buffer, kind: int, pos: int, length: int, header_dst: bytes) -> str:
    """A loose or strict source route option (at ``pos``, ``length`` bytes) as a hop: its
    name, the header's destination (the next hop: tshark's "via") and the addresses the
    option lists (a cut last address left out): ``LSRR via 10.0.0.254: 10.0.0.2``."""
    addresses = [format_ip(bytes(buf[at : at + 4])) for at in range(pos + 3, pos + length - 3, 4)]
    return f"{_ROUTE_NAMES[kind]} via {format_ip(header_dst)}: {', '.join(addresses)}".rstrip()


def known_paths(paths: Iterable[OuterPath]) -> list[OuterPath]:
    """Distinct paths in order (``[]`` when the only one is the empty path: plain packets)."""
    found = sorted(set(paths))
    return [] if found in ([], [NO_PATH]) else found


def paths_text(paths: list[OuterPath]) -> str:
    """Paths as one line: each path's text, `` | `` between several, ``plain`` for the empty one."""
    return " | ".join(path_text(path) or "plain" for path in paths)


def path_text(path: OuterPath) -> str:
    """The path as one line: ``VLAN 100 · GRE 192.0.2.1→192.0.2.2``."""
    return SEPARATOR.join(path)


class PathTable:
    """The distinct paths seen, each numbered once (0 is the empty path)."""

    def __init__(self) -> None:
        self.paths: list[OuterPath] = [NO_PATH]
        self._ids: dict[OuterPath, int] = {NO_PATH: 0}

    def id(self, path: OuterPath) -> int:
        """The number of ``path``, given it if new."""
        found = self._ids.get(path)
        if found is None:
            found = self._ids[path] = len(self.paths)
            self.paths.append(path)
        return found

    def __len__(self) -> int:
        return len(self.paths)


def flow_paths(flow: I64, path: I64, flows: int) -> I64:
    """The distinct (flow, path) pairs of rows, as an (n, 2) array sorted by flow.

    Nearly every row has the empty path: those are counted per flow (one ``bincount``,
    no sort); only the others are sorted for their distinct pairs.
    """
    plain = path == 0
    flows_plain = np.flatnonzero(np.bincount(flow[plain], minlength=flows)).astype(np.int64)
    found = np.stack([flows_plain, np.zeros_like(flows_plain)], axis=1)
    if not plain.all():
        other = np.stack([flow[~plain], path[~plain]], axis=1).astype(np.int64)
        found = np.concatenate([found, other])
    return distinct(found)


def no_pairs() -> I64:
    """No (flow, path) pairs."""
    return np.zeros((0, 2), dtype=np.int64)


def distinct(pairs: I64) -> I64:
    """Distinct (flow, path) pairs, sorted."""
    if len(pairs) <= 1:
        return pairs.reshape(-1, 2).astype(np.int64)
    out: I64 = unique_rows(pairs).astype(np.int64)
    return out
