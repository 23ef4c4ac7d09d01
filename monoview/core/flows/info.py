"""A session of the list, as the list shows it: a view of one session row.

It answers what ``TcpSession`` answers about a whole session (endpoints,
client, state, counts, flags) without reassembling it, so listing a capture
needs no conversation at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from monoview.core.capture.index import FlowTable
from monoview.core.capture.outerpath import OuterPath
from monoview.core.flows.summary import BASES, ENDINGS, SessionRows
from monoview.core.tcp.session import Endpoint, connection_state, session_key


@dataclass(frozen=True)
class SessionInfo:
    """Session ``id`` (1-based, in order of first packet): its row and its flow."""

    id: int
    row: np.void
    flows: FlowTable

    @cached_property
    def endpoints(self) -> tuple[Endpoint, Endpoint]:
        """Side 0 (the first packet's sender) and side 1."""
        (a_ip, a_port), (b_ip, b_port) = self.flows.endpoints(int(self.row["flow"]))
        a, b = Endpoint(a_ip, a_port), Endpoint(b_ip, b_port)
        return (b, a) if self.row["flipped"] else (a, b)

    @property
    def client_side(self) -> int:
        """The side of the client (0 or 1)."""
        return int(self.row["client_side"])

    @property
    def client(self) -> Endpoint:
        """The client endpoint."""
        return self.endpoints[self.client_side]

    @property
    def server(self) -> Endpoint:
        """The server endpoint."""
        return self.endpoints[1 - self.client_side]

    @property
    def context(self) -> tuple[int, ...]:
        """VLAN tags (and interface, when kept apart) that name the session with its endpoints."""
        return self.flows.context(int(self.row["flow"]))

    @property
    def outer_paths(self) -> list[OuterPath]:
        """What its flow's packets came through (``capture.outerpath``): [] when plain."""
        return self.flows.outer_paths(int(self.row["flow"]))

    @property
    def key(self) -> str:
        """Readable unique key, as ``TcpSession.key``."""
        return session_key(self.context, self.client, self.server)

    @property
    def client_basis(self) -> str:
        """How the client was decided (``syn``, ``synack``, ``port``, ``first_packet``)."""
        return BASES[int(self.row["client_basis"])]

    @property
    def packets(self) -> int:
        """Packets of the session."""
        return int(self.row["packets"])

    @property
    def first_ts_ns(self) -> int:
        """Time of the first packet."""
        return int(self.row["first_ts"])

    @property
    def last_ts_ns(self) -> int:
        """Time of the last packet."""
        return int(self.row["last_ts"])

    @property
    def duration_ns(self) -> int:
        """Time from the first to the last packet (zero if the clock went backwards)."""
        return max(self.last_ts_ns - self.first_ts_ns, 0)

    def _pair(self, name: str) -> list[bool]:
        return [bool(self.row[f"{name}0"]), bool(self.row[f"{name}1"])]

    @property
    def syn(self) -> list[bool]:
        """A SYN (without ACK) from each side."""
        return self._pair("syn")

    @property
    def synack(self) -> list[bool]:
        """A SYN/ACK from each side."""
        return self._pair("synack")

    @property
    def fin(self) -> list[bool]:
        """A FIN from each side."""
        return self._pair("fin")

    @property
    def rst(self) -> list[bool]:
        """An RST from each side."""
        return self._pair("rst")

    @property
    def state(self) -> str:
        """``reset``, ``closed``, ``half-closed`` or ``open``."""
        return connection_state(self.rst, self.fin)

    @property
    def ended_by(self) -> str:
        """``reset``, ``close``, ``reused`` or ``capture end``."""
        return ENDINGS[int(self.row["ended_by"])]

    @property
    def handshake(self) -> bool:
        """SYN, SYN/ACK and the ACK completing them were all captured."""
        return bool(self.row["handshake"])

    @property
    def truncated(self) -> bool:
        """Payload was cut by snaplen or by the session size limit."""
        return bool(self.row["truncated"])

    @property
    def missing_data(self) -> bool:
        """Bytes are missing that snaplen did not cut."""
        return bool(self.row["missing0"] or self.row["missing1"])

    def _side(self, direction: str) -> int:
        return self.client_side if direction == "c2s" else 1 - self.client_side

    def kept(self, direction: str) -> int:
        """Payload bytes reassembled in ``c2s`` or ``s2c``."""
        return int(self.row[f"kept{self._side(direction)}"])

    def gap_count(self, direction: str) -> int:
        """Gaps in ``c2s`` or ``s2c``."""
        return int(self.row[f"gaps{self._side(direction)}"])

    @property
    def monologues(self) -> int:
        """How many monologues the conversation has."""
        return int(self.row["monologues"])


def session_infos(rows: SessionRows, flows: FlowTable) -> list[SessionInfo]:
    """Every session of a list, ids from 1."""
    return [SessionInfo(number, row, flows) for number, row in enumerate(rows, 1)]
