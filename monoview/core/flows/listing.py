"""The session list as columns of plain values: what ``sessions`` prints and what a
list view shows, computed for many sessions at once.

Reading numpy fields one session at a time costs more than the whole
analysis of a small session, so the list is turned into Python lists column
by column, and each address is formatted once however many sessions use it.
The listings take the sessions a block of ``BLOCK_ROWS`` at a time: Python
lists of every session (300,000 SYNs to distinct tuples) were some 400 bytes a
session held at once, more than the session itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, Final

import numpy as np

from monoview.core.capture.index import FlowTable
from monoview.core.capture.outerpath import OuterPath, paths_text
from monoview.core.flows.summary import BASES, ENDINGS, SessionRows
from monoview.core.packet import format_ip, format_ts
from monoview.core.sets import unique
from monoview.core.tcp.session import connection_state

# Sessions listed at a time (their Python values are made a block at a time, then let go).
BLOCK_ROWS: Final = 4096


class RowFields(Mapping[str, list[Any]]):
    """The session rows' fields as Python lists, each made on first use and kept: a listing
    needs a few of the 35 (a list of 300,000 sessions held all of them: 180 MB)."""

    def __init__(self, rows: SessionRows) -> None:
        self._rows = rows
        self._lists: dict[str, list[Any]] = {}

    def __getitem__(self, name: str) -> list[Any]:
        values = self._lists.get(name)
        if values is None:
            if name not in (self._rows.dtype.names or ()):
                raise KeyError(name)  # as a Mapping must (``in`` and ``get`` rely on it)
            values = self._lists[name] = self._rows[name].tolist()
        return values

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows.dtype.names or ())

    def __len__(self) -> int:
        return len(self._rows.dtype.names or ())


@dataclass
class SessionColumns:
    """Per session (in id order): endpoints as text, and the row's fields as lists."""

    client_ip: list[str]
    client_port: list[int]
    server_ip: list[str]
    server_port: list[int]
    client_side: list[int]
    fields: Mapping[str, list[Any]]
    contexts: list[tuple[int, ...]]
    outer_paths: list[list[OuterPath]]  # what each session came through (``capture.outerpath``)

    def __len__(self) -> int:
        return len(self.client_ip)

    def side(self, i: int, name: str, client: bool) -> Any:
        """Field ``name`` (``name0``/``name1``) of the client's or the server's side of session ``i``."""
        side = self.client_side[i] if client else 1 - self.client_side[i]
        return self.fields[f"{name}{side}"][i]

    def state(self, i: int) -> str:
        """``reset``, ``closed``, ``half-closed`` or ``open``."""
        f = self.fields
        return connection_state([f["rst0"][i], f["rst1"][i]], [f["fin0"][i], f["fin1"][i]])

    def endpoint(self, i: int, client: bool) -> str:
        """``ip:port`` (``[ip]:port`` for IPv6) of the client or server of session ``i``."""
        if client:
            ip, port = self.client_ip[i], self.client_port[i]
        else:
            ip, port = self.server_ip[i], self.server_port[i]
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def session_columns(rows: SessionRows, flows: FlowTable) -> SessionColumns:
    """The list's columns for every session of ``rows``."""
    flow = rows["flow"]
    keys = flows.keys
    # The client is the flow's first endpoint when side 0 is it and the client is side 0 (or both not).
    client_is_a = (rows["flipped"] ^ rows["client_side"]) == 0
    texts: dict[tuple[int, int, int], str] = {}

    def address(family: int, hi: int, lo: int) -> str:
        key = (family, hi, lo)
        text = texts.get(key)
        if text is None:
            if family == 4:
                text = f"{lo >> 24}.{lo >> 16 & 255}.{lo >> 8 & 255}.{lo & 255}"  # as inet_ntop
            else:
                text = format_ip(hi.to_bytes(8, "big") + lo.to_bytes(8, "big"))
            texts[key] = text
        return text

    family = keys.family[flow].tolist()
    a = (keys.a_hi[flow].tolist(), keys.a_lo[flow].tolist(), keys.a_port[flow].tolist())
    b = (keys.b_hi[flow].tolist(), keys.b_lo[flow].tolist(), keys.b_port[flow].tolist())
    a_text = [address(f, hi, lo) for f, hi, lo in zip(family, a[0], a[1], strict=True)]
    b_text = [address(f, hi, lo) for f, hi, lo in zip(family, b[0], b[1], strict=True)]
    choose = client_is_a.tolist()
    client_ip = [x if c else y for c, x, y in zip(choose, a_text, b_text, strict=True)]
    server_ip = [y if c else x for c, x, y in zip(choose, a_text, b_text, strict=True)]
    client_port = [x if c else y for c, x, y in zip(choose, a[2], b[2], strict=True)]
    server_port = [y if c else x for c, x, y in zip(choose, a[2], b[2], strict=True)]
    fields = RowFields(rows)
    if flows.contexts == [()] and not flows.split_interfaces:
        contexts: list[tuple[int, ...]] = [()] * len(rows)
    else:
        by_flow = {f: flows.context(f) for f in unique(flow).tolist()}
        contexts = [by_flow[f] for f in flow.tolist()]
    if flows.has_outer_paths:
        paths_of = {f: flows.outer_paths(f) for f in unique(flow).tolist()}
        outer = [paths_of[f] for f in flow.tolist()]
    else:
        outer = [[] for _ in range(len(rows))]
    client_side = rows["client_side"].tolist()
    return SessionColumns(
        client_ip, client_port, server_ip, server_port, client_side, fields, contexts, outer
    )


TABLE_HEADER = (
    f"{'id':>5}  {'client':>28}  {'server':<28}  {'start':>17}  {'duration':>9}  {'packets':>7}  "
    f"{'bytes c2s':>10}  {'bytes s2c':>10}  {'state':<11}  gaps"
)


_STATES: Final = ("open", "half-closed", "closed", "reset")


def states(rows: SessionRows) -> list[str]:
    """``connection_state`` of every session, computed for all of them at once."""
    fins = rows["fin0"].astype(np.int64) + rows["fin1"]
    code = np.where(rows["rst0"] | rows["rst1"], 3, np.where(fins == 2, 2, np.where(fins == 1, 1, 0)))
    return [_STATES[c] for c in code.tolist()]


def session_blocks(
    rows: SessionRows, flows: FlowTable, size: int | None = None
) -> Iterator[tuple[int, SessionColumns]]:
    """``(index of the block's first session, its columns)`` for consecutive blocks of ``size``
    sessions of ``rows`` (``BLOCK_ROWS`` by default)."""
    size = size or BLOCK_ROWS
    for start in range(0, len(rows), size):
        yield start, session_columns(rows[start : start + size], flows)


def table_lines(rows: SessionRows, flows: FlowTable) -> Iterator[str]:
    """The ``sessions`` table: a header, then a line per session (made a block at a time)."""
    yield TABLE_HEADER
    for start, columns in session_blocks(rows, flows):
        yield from _block_lines(rows[start : start + len(columns)], columns, start + 1)


def _block_lines(rows: SessionRows, columns: SessionColumns, first_id: int) -> Iterator[str]:
    """The table's lines of the sessions of ``rows`` (ids from ``first_id``)."""
    client_side = rows["client_side"].astype(np.bool_)
    c2s = np.where(client_side, rows["kept1"], rows["kept0"]).tolist()
    s2c = np.where(client_side, rows["kept0"], rows["kept1"]).tolist()
    start = (rows["first_ts"] / 1e9).tolist()
    duration = (np.maximum(rows["last_ts"] - rows["first_ts"], 0) / 1e9).tolist()
    gaps = (rows["gaps0"] + rows["gaps1"]).tolist()
    clients = [columns.endpoint(i, True) for i in range(len(columns))]
    servers = [columns.endpoint(i, False) for i in range(len(columns))]
    for number, values in enumerate(
        zip(
            clients,
            servers,
            start,
            duration,
            columns.fields["packets"],
            c2s,
            s2c,
            states(rows),
            gaps,
            strict=True,
        ),
        first_id,
    ):
        client, server, first, span, packets, sent, received, state, holes = values
        yield (
            f"{number:>5}  {client:>28}  {server:<28}  {first:>17.6f}  {span:>9.3f}  {packets:>7}  "
            f"{sent:>10}  {received:>10}  {state:<11}  {holes}"
        )


def outer_path_texts(rows: SessionRows, flows: FlowTable) -> Iterator[str]:
    """What each session came through, as ``sessions --outer-path`` shows it."""
    for _start, columns in session_blocks(rows, flows):
        yield from (paths_text(found) for found in columns.outer_paths)


def session_entries(rows: SessionRows, flows: FlowTable) -> Iterator[dict[str, Any]]:
    """``stream_entries`` of every session of ``rows``, made a block at a time."""
    return chain.from_iterable(
        stream_entries(columns, start + 1) for start, columns in session_blocks(rows, flows)
    )


def stream_entries(columns: SessionColumns, first_id: int = 1) -> Iterator[dict[str, Any]]:
    """Per session, the oracle-schema fields that do not depend on export options
    (``export.stream_json`` of every session, from the columns; ids from ``first_id``)."""
    f = columns.fields
    for i in range(len(columns)):
        client = {"ip": columns.client_ip[i], "port": columns.client_port[i]}
        server = {"ip": columns.server_ip[i], "port": columns.server_port[i]}
        context = columns.contexts[i]
        prefix = "vlan " + ".".join(str(v) for v in context) + " " if context else ""
        yield {
            "id": first_id + i,
            "key": f"{prefix}{columns.endpoint(i, True)}-{columns.endpoint(i, False)}",
            "endpoints": [client, server],
            "client": client,
            "server": server,
            "client_basis": BASES[f["client_basis"][i]],
            "vlan": list(context),
            "outer_path": [list(path) for path in columns.outer_paths[i]],
            "packets": f["packets"][i],
            "first_ts": format_ts(f["first_ts"][i]),
            "last_ts": format_ts(f["last_ts"][i]),
            "first_ts_f": f["first_ts"][i] / 1e9,
            "last_ts_f": f["last_ts"][i] / 1e9,
            "state": columns.state(i),
            "ended_by": ENDINGS[f["ended_by"][i]],
            "handshake": f["handshake"][i],
            "flags": {
                "syn": columns.side(i, "syn", True),
                "synack": columns.side(i, "synack", False),
                "fin_c2s": columns.side(i, "fin", True),
                "fin_s2c": columns.side(i, "fin", False),
                "rst_c2s": columns.side(i, "rst", True),
                "rst_s2c": columns.side(i, "rst", False),
            },
            "missing_data": f["missing0"][i] or f["missing1"][i],
            "truncated": f["truncated"][i],
            "c2s_bytes": columns.side(i, "kept", True),
            "s2c_bytes": columns.side(i, "kept", False),
        }
