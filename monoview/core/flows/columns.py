"""The session list as columns: what a table of sessions shows, sorts and filters by.

A window listing a gigabyte capture has tens of thousands of sessions; one
Python object per session (and a Python comparison per sort step) is what
made the old list take seconds to sort.  Here every column is a numpy array
over the session rows (``flows.summary``), sorting is one stable ``argsort``
or ``lexsort``, and a cell's text is made only when it is shown.  Nothing
here knows about Qt: the window's model and any other front end read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable
from monoview.core.capture.outerpath import paths_text
from monoview.core.flows.summary import SessionRows
from monoview.core.sets import unique
from monoview.core.stats import STATES, Timeline
from monoview.core.tcp.session import Endpoint
from monoview.core.verdict import legend, verdicts

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Mask = npt.NDArray[np.bool_]


class Column(IntEnum):
    """The columns of the session list, in their model order."""

    ID = 0
    CLIENT = 1
    SERVER = 2
    START = 3
    DURATION = 4
    PACKETS = 5
    C2S = 6
    S2C = 7
    STATUS = 8
    STREAM = 9  # Wireshark's tcp.stream
    BYTES = 10
    DATA_C2S = 11
    DATA_S2C = 12
    VLAN = 13
    APPLICATION = 14
    OUTER_PATH = 15


HEADERS: Final = (
    "ID", "Client", "Server", "Start", "Duration", "Packets", "Bytes C→S", "Bytes S→C", "Status",
    "Stream", "Bytes", "Data pkts C→S", "Data pkts S→C", "VLAN", "Application", "Outer path",
)  # fmt: skip
NUMERIC: Final = frozenset(
    {Column.ID, Column.DURATION, Column.PACKETS, Column.C2S, Column.S2C, Column.STREAM, Column.BYTES,
     Column.DATA_C2S, Column.DATA_S2C}
)  # fmt: skip
TOOLTIPS: Final = {
    Column.STATUS: "The dot's colour, one per session as in the timeline:\n"
    + "\n".join(f"{v}: {m}" for v, m in legend()),
    Column.STREAM: "Wireshark's tcp.stream: sessions counted from 0 in order of first packet",
    Column.DATA_C2S: "Packets from the client that carried payload",
    Column.DATA_S2C: "Packets from the server that carried payload",
    Column.VLAN: "802.1Q tags, outermost first (and the interface when interfaces are kept apart)",
    Column.APPLICATION: "What the first bytes say: HTTP Host, TLS server name (ALPN), SSH software, "
    "mail and file-transfer banners",
    Column.OUTER_PATH: "What the session came through, outermost first: tunnels (with their outer "
    "addresses), VLAN tags, a source route; the inner endpoints name the session",
}


@dataclass(frozen=True)
class EndpointColumns:
    """One endpoint of every session: address family, the 128-bit address in two halves, port."""

    family: I64
    hi: U64
    lo: U64
    port: I64

    def sort_order(self) -> I64:
        """Rows ordered by address (IPv4 before IPv6, as bytes compare) then port; stable."""
        return np.lexsort((self.port, self.lo, self.hi, self.family)).astype(np.int64)


class SessionColumns:
    """Every session of a document as columns; row ``i`` is session ``i + 1``."""

    def __init__(self, rows: SessionRows, flows: FlowTable) -> None:
        self.rows = rows
        self.flows = flows
        # Named from the sessions' first bytes (``flows.applications``), which needs the file:
        # None until someone has read them (a window does so in a worker, after listing).
        self.applications: list[str] | None = None
        # Wireshark's tcp.stream numbers as (session id, stream) pairs sorted by session
        # (``flows.tcpstream``): None until worked out; meanwhile stream = id - 1, which is
        # what they are unless tshark cuts connections differently.
        self.stream_pairs: tuple[I64, I64] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    # -- columns ------------------------------------------------------------------

    @cached_property
    def ids(self) -> I64:
        """Session ids, 1-based."""
        return np.arange(1, len(self.rows) + 1, dtype=np.int64)

    @cached_property
    def _client_is_a(self) -> Mask:
        """The client is the flow's first (lower) endpoint."""
        side0_is_b = self.rows["flipped"].astype(bool)
        client_is_side1 = self.rows["client_side"].astype(bool)
        same: Mask = side0_is_b == client_is_side1
        return same

    def _endpoint(self, client: bool) -> EndpointColumns:
        keys, flow = self.flows.keys, self.rows["flow"]
        is_a = self._client_is_a if client else ~self._client_is_a
        return EndpointColumns(
            keys.family[flow],
            np.where(is_a, keys.a_hi[flow], keys.b_hi[flow]),
            np.where(is_a, keys.a_lo[flow], keys.b_lo[flow]),
            np.where(is_a, keys.a_port[flow], keys.b_port[flow]),
        )

    @cached_property
    def client(self) -> EndpointColumns:
        """The client endpoint of every session."""
        return self._endpoint(client=True)

    @cached_property
    def server(self) -> EndpointColumns:
        """The server endpoint of every session."""
        return self._endpoint(client=False)

    def _by_side(self, name: str, client: bool) -> I64:
        client_side = self.rows["client_side"].astype(bool)
        side1 = client_side if client else ~client_side
        return np.where(side1, self.rows[f"{name}1"], self.rows[f"{name}0"]).astype(np.int64)

    @cached_property
    def c2s_bytes(self) -> I64:
        """Payload bytes reassembled from the client."""
        return self._by_side("kept", client=True)

    @cached_property
    def s2c_bytes(self) -> I64:
        """Payload bytes reassembled from the server."""
        return self._by_side("kept", client=False)

    @cached_property
    def c2s_data_packets(self) -> I64:
        """Packets with payload from the client."""
        return self._by_side("data_packets", client=True)

    @cached_property
    def s2c_data_packets(self) -> I64:
        """Packets with payload from the server."""
        return self._by_side("data_packets", client=False)

    @cached_property
    def _context_codes(self) -> I64:
        codes: I64 = self.flows.keys.context[self.rows["flow"]].astype(np.int64)
        return codes

    @cached_property
    def _context_rank(self) -> I64:
        """Each row's context ranked by its text's sort order (VLAN tags as numbers)."""
        codes, inverse = np.unique(self._context_codes, return_inverse=True)
        keys = [self._context_key(int(code)) for code in codes.tolist()]
        order = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[order] = np.arange(len(keys), dtype=np.int64)
        ranked: I64 = rank[inverse]
        return ranked

    def _context_key(self, code: int) -> tuple[int, ...]:
        vlan = self.flows.contexts[code >> 32]
        interface = (code & 0xFFFFFFFF) - 1 if self.flows.split_interfaces else -1
        return (*vlan, -1, interface)

    def set_streams(self, pairs: tuple[I64, I64]) -> None:
        """tshark's stream numbers arrived (``TcpStreams.session_pairs``)."""
        self.stream_pairs = pairs
        self.__dict__.pop("stream_first", None)

    @cached_property
    def stream_first(self) -> I64:
        """Each row's first tshark stream number (id - 1 until they are known)."""
        first = self.ids - 1
        if self.stream_pairs is not None:
            sessions, streams = self.stream_pairs
            firsts = np.flatnonzero(np.r_[True, sessions[1:] != sessions[:-1]]) if len(sessions) else sessions
            first = first.copy()
            first[sessions[firsts] - 1] = streams[firsts]
        return first

    def streams_of(self, i: int) -> list[int]:
        """The tshark streams row ``i``'s packets belong to (most often one)."""
        if self.stream_pairs is None:
            return [i]
        sessions, streams = self.stream_pairs
        lo, hi = np.searchsorted(sessions, [i + 1, i + 2])
        return streams[lo:hi].tolist() or [int(self.stream_first[i])]

    def stream_text(self, i: int) -> str:
        """Row ``i``'s tshark stream number(s): ``4``, or ``4, 5`` for a session tshark cuts in two."""
        return ", ".join(str(s) for s in self.streams_of(i))

    def stream_mask(self, op: str, value: int, compare: Callable[[I64, str, int], Mask]) -> Mask:
        """Rows with a stream ``op`` ``value`` (``!=``: none of their streams is it)."""
        if self.stream_pairs is None:
            return compare(self.ids - 1, op, value)
        sessions, streams = self.stream_pairs
        mask = np.zeros(len(self.rows), dtype=np.bool_)
        mask[sessions[compare(streams, "==" if op == "!=" else op, value)] - 1] = True
        return ~mask if op == "!=" else mask

    def session_of_stream(self, stream: int) -> int | None:
        """The first session id holding tshark stream ``stream`` (None: no such stream)."""
        if self.stream_pairs is None:
            return stream + 1 if 0 <= stream < len(self.rows) else None
        sessions, streams = self.stream_pairs
        found = sessions[streams == stream]
        return int(found.min()) if len(found) else None

    def application(self, i: int) -> str:
        """The application of row ``i`` (empty when not recognised, or not named yet)."""
        return self.applications[i] if self.applications is not None else ""

    def _application_rank(self) -> I64:
        """Each row's application ranked by its text (unnamed first)."""
        if self.applications is None:
            return np.zeros(len(self.rows), dtype=np.int64)
        _names, rank = np.unique(np.array(self.applications, dtype=object), return_inverse=True)
        ranked: I64 = rank.astype(np.int64).reshape(-1)
        return ranked

    def context_text(self, i: int) -> str:
        """VLAN tags of row ``i`` (``100.7``: outermost first), and ``if N`` when interfaces are kept
        apart; empty for neither."""
        code = int(self._context_codes[i])
        text = ".".join(str(tag) for tag in self.flows.contexts[code >> 32])
        if self.flows.split_interfaces:
            text = f"{text} if {(code & 0xFFFFFFFF) - 1}".strip()
        return text

    @cached_property
    def _outer_texts(self) -> list[str]:
        """Each flow's outer path text (only the flows of the listed rows), by flow number."""
        texts = [""] * len(self.flows)
        if self.flows.has_outer_paths:
            for flow in unique(self.rows["flow"]).tolist():
                texts[flow] = paths_text(self.flows.outer_paths(flow))
        return texts

    def outer_path_text(self, i: int) -> str:
        """What row ``i`` came through (``capture.outerpath``): empty for plain packets."""
        return self._outer_texts[int(self.rows["flow"][i])]

    def _outer_path_rank(self) -> I64:
        """Each row's outer path ranked by its text (plain first)."""
        if not self.flows.has_outer_paths:
            return np.zeros(len(self.rows), dtype=np.int64)
        by_flow = np.array(self._outer_texts, dtype=object)[self.rows["flow"]]
        _texts, rank = np.unique(by_flow.astype(str), return_inverse=True)
        ranked: I64 = rank.astype(np.int64).reshape(-1)
        return ranked

    @cached_property
    def duration_ns(self) -> I64:
        """Time from the first to the last packet (zero if the clock went backwards)."""
        duration: I64 = np.maximum(self.rows["last_ts"] - self.rows["first_ts"], 0).astype(np.int64)
        return duration

    @cached_property
    def gaps(self) -> I64:
        """Holes in both directions."""
        gaps: I64 = (self.rows["gaps0"] + self.rows["gaps1"]).astype(np.int64)
        return gaps

    @cached_property
    def conflicts(self) -> I64:
        """Overlaps with different bytes, both directions."""
        conflicts: I64 = (self.rows["conflicts0"] + self.rows["conflicts1"]).astype(np.int64)
        return conflicts

    @cached_property
    def state(self) -> I64:
        """Index into ``STATES``, as ``connection_state`` decides it."""
        r = self.rows
        reset = r["rst0"] | r["rst1"]
        closed = r["fin0"] & r["fin1"]
        half = r["fin0"] | r["fin1"]
        return np.select([reset, closed, half], [3, 2, 1], default=0).astype(np.int64)

    @cached_property
    def verdict(self) -> I64:
        """Index into ``verdict.VERDICTS``: the one word the dot and the timeline colour."""
        r = self.rows
        return verdicts(self.gaps > 0, self.state == 3, self.state == 2, r["handshake"].astype(bool))

    def timeline(self) -> Timeline:
        """Start, end and verdict of every session, for the capture's timeline plot."""
        rows = self.rows
        base = int(rows["first_ts"].min()) if len(rows) else 0
        start = (rows["first_ts"] - base).astype(np.float64) / 1e9
        end = (rows["last_ts"] - base).astype(np.float64) / 1e9
        return Timeline(self.ids, start, end, self.verdict, base)

    # -- one session ----------------------------------------------------------------

    def endpoint(self, i: int, client: bool) -> Endpoint:
        """The client or server of row ``i``."""
        (a_ip, a_port), (b_ip, b_port) = self.flows.endpoints(int(self.rows["flow"][i]))
        is_a = bool(self._client_is_a[i]) == client
        return Endpoint(a_ip, a_port) if is_a else Endpoint(b_ip, b_port)

    def flags(self, i: int) -> list[str]:
        """What a person checks first about completeness, in a fixed order."""
        r = self.rows[i]
        flags = [STATES[int(self.state[i])]]
        if not r["handshake"]:
            flags.append("no handshake")
        gaps, conflicts = int(self.gaps[i]), int(self.conflicts[i])
        if gaps:
            flags.append(f"{gaps} gap" + ("s" if gaps > 1 else ""))
        if conflicts:
            flags.append(f"{conflicts} conflict" + ("s" if conflicts > 1 else ""))
        if r["truncated"]:
            flags.append("truncated")
        return flags

    # -- sorting and filtering ---------------------------------------------------------

    def sort_order(self, column: Column, descending: bool = False) -> I64:
        """Rows in the order of ``column``; ties keep id order either way (a stable sort,
        as Wireshark's lists and Qt's sort proxy keep them)."""
        n = len(self.rows)
        if column == Column.ID or (column == Column.STREAM and self.stream_pairs is None):
            ascending = np.arange(n, dtype=np.int64)
            return ascending[::-1].copy() if descending else ascending
        if column in (Column.CLIENT, Column.SERVER):
            ends = self.client if column == Column.CLIENT else self.server
            order = ends.sort_order()
            keys = np.stack([ends.family, ends.hi.view(np.int64), ends.lo.view(np.int64), ends.port])
            rank = _ranks(order, keys)
        else:
            key = self._sort_key(column)
            order = np.argsort(key, kind="stable").astype(np.int64)
            rank = _ranks(order, key[np.newaxis, :])
        if not descending:
            return order
        return np.argsort(-rank, kind="stable").astype(np.int64)

    def _sort_key(self, column: Column) -> I64:
        keys: dict[Column, Callable[[], I64]] = {
            Column.START: lambda: self.rows["first_ts"].astype(np.int64),
            Column.DURATION: lambda: self.duration_ns,
            Column.PACKETS: lambda: self.rows["packets"].astype(np.int64),
            Column.C2S: lambda: self.c2s_bytes,
            Column.S2C: lambda: self.s2c_bytes,
            Column.BYTES: lambda: self.c2s_bytes + self.s2c_bytes,
            Column.DATA_C2S: lambda: self.c2s_data_packets,
            Column.DATA_S2C: lambda: self.s2c_data_packets,
            Column.VLAN: lambda: self._context_rank,
            Column.APPLICATION: self._application_rank,
            Column.OUTER_PATH: self._outer_path_rank,
            Column.STREAM: lambda: self.stream_first,
            # Worst first when descending: verdict, then state, then the problems' counts.
            Column.STATUS: lambda: self.verdict * (1 << 40) + self.state * (1 << 36) + self.gaps,
        }
        return keys[column]()


def _ranks(order: I64, keys: npt.NDArray[np.generic]) -> I64:
    """Dense rank of every row (equal keys, equal ranks), from a stable order of the rows."""
    n = order.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ordered = keys[:, order]
    changes = np.empty(n, dtype=np.int64)
    changes[0] = 0
    changes[1:] = np.any(ordered[:, 1:] != ordered[:, :-1], axis=0)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.cumsum(changes)
    return rank


__all__ = [
    "HEADERS", "NUMERIC", "STATES", "TOOLTIPS", "Column", "EndpointColumns", "SessionColumns",
]  # fmt: skip
