"""The session list as a pandas DataFrame, for notebooks (``CaptureDocument.sessions_frame``).

pandas is an optional extra (``pip install 'monoview[pandas]'``): the tool
itself never needs it, and it costs a quarter of a second to import.  The
frame is built from the same columns the window and ``sessions`` show, one
numpy array per column (no Python object per session beyond the address
texts), so a 20,000-session capture gives its frame in a few tens of ms.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

from monoview.core.errors import MonoviewError
from monoview.core.flows.columns import SessionColumns
from monoview.core.flows.listing import session_columns
from monoview.core.flows.summary import BASES, ENDINGS
from monoview.core.stats import STATES

if TYPE_CHECKING:
    from monoview.core.document import CaptureDocument


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise MonoviewError(
            "sessions_frame needs pandas, which is not installed: pip install 'monoview[pandas]'."
        ) from None


def sessions_frame(document: CaptureDocument, *, applications: bool = True) -> Any:
    """One row per session, indexed by session id: endpoints, times, counts, state and,
    unless ``applications`` is false, the application named from its first bytes.

    ``stream`` is Wireshark's ``tcp.stream``; ``start`` is a UTC timestamp with
    nanoseconds; byte counts are payload bytes reassembled per direction.
    """
    pd = _pandas()
    rows = document.rows
    texts = session_columns(rows, document.flows)
    columns = SessionColumns(rows, document.flows)
    ids = columns.ids
    data: dict[str, Any] = {
        "stream": ids - 1,
        "client": texts.client_ip,
        "client_port": np.asarray(texts.client_port, dtype=np.int64),
        "server": texts.server_ip,
        "server_port": np.asarray(texts.server_port, dtype=np.int64),
        "vlan": [".".join(str(tag) for tag in context) for context in texts.contexts],
        "start": pd.to_datetime(rows["first_ts"].astype(np.int64), unit="ns", utc=True),
        "duration_s": columns.duration_ns / 1e9,
        "packets": rows["packets"].astype(np.int64),
        "bytes_c2s": columns.c2s_bytes,
        "bytes_s2c": columns.s2c_bytes,
        "data_packets_c2s": columns.c2s_data_packets,
        "data_packets_s2c": columns.s2c_data_packets,
        "state": pd.Categorical.from_codes(columns.state, categories=list(STATES)),
        "handshake": rows["handshake"].astype(bool),
        "gaps": columns.gaps,
        "conflicts": columns.conflicts,
        "client_basis": [BASES[b] for b in rows["client_basis"].tolist()],
        "ended_by": pd.Categorical.from_codes(rows["ended_by"].astype(np.int64), categories=list(ENDINGS)),
    }
    if applications:
        from monoview.core.flows.applications import application_names

        data["application"] = application_names(document.parts, rows, document.buffer)
    return pd.DataFrame(data, index=pd.Index(ids, name="id"))


__all__ = ["sessions_frame"]
