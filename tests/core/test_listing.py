"""The session list as ``sessions`` prints it, from columns, against the same list
built session by session from the per-packet analysis, on every shared capture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monoview.cli.parser import FORMATS, GAP_POLICIES, LAYOUTS
from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.export import Format, Layout, stream_json
from monoview.core.flows.jsonlist import listing_chunks
from monoview.core.flows.listing import (
    TABLE_HEADER,
    session_columns,
    session_entries,
    stream_entries,
    table_lines,
)
from monoview.core.streambytes import GapPolicy
from monoview.core.tcp.session import TcpSession
from tests.core.test_walk import CAPTURE_FILES


def _line(session: TcpSession) -> str:
    gaps = sum(len(session.gaps(d)) for d in ("c2s", "s2c"))
    c2s, s2c = (session.stream(d).kept for d in ("c2s", "s2c"))
    return (
        f"{session.id:>5}  {str(session.client):>28}  {str(session.server):<28}  "
        f"{session.first_ts_ns / 1e9:>17.6f}  {session.duration_ns / 1e9:>9.3f}  {session.packets:>7}  "
        f"{c2s:>10}  {s2c:>10}  {session.state:<11}  {gaps}"
    )


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_listing_is_the_per_session_listing(path: Path) -> None:
    sessions = analyse(path).sessions
    document = CaptureDocument(path, workers=1)
    columns = session_columns(document.rows, document.flows)
    assert list(table_lines(document.rows, document.flows)) == [TABLE_HEADER, *(_line(s) for s in sessions)]
    expected = [stream_json(s) | {"c2s_bytes": s.kept("c2s"), "s2c_bytes": s.kept("s2c")} for s in sessions]
    assert list(stream_entries(columns)) == expected
    assert list(session_entries(document.rows, document.flows)) == expected
    document.close()


def test_the_parser_offers_every_policy_and_format() -> None:
    assert tuple(p.value for p in GapPolicy) == GAP_POLICIES
    assert tuple(f.value for f in Format) == FORMATS
    assert tuple(layout.value for layout in Layout) == LAYOUTS


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_the_json_listing_is_jsons_own_text(path: Path) -> None:
    """``sessions --json`` fills templates; the text must be what ``json`` writes."""
    document = CaptureDocument(path, workers=1)
    try:
        entries = list(stream_entries(session_columns(document.rows, document.flows)))
        head = {"capture": document.name, "read_error": document.read_error}
    finally:
        document.close()
    expected = json.dumps({**head, "sessions": entries}, indent=1)
    assert "".join(listing_chunks(head, "sessions", entries)) == expected


def test_the_json_listing_handles_every_shape_and_value() -> None:
    """Entries of several shapes (VLAN lists of other lengths), odd strings and numbers."""
    entries = [
        {"id": 1, "key": 'a "quoted" \\ key é', "vlan": [], "x": None, "f": 0.1, "t": True, "n": -5},
        {"id": 2, "key": "b", "vlan": [10, 20], "x": 1.5e300, "f": float("inf"), "t": False, "n": 0},
        {"id": 3, "key": "100%", "vlan": [7], "x": "%s", "f": 2.0, "t": True, "n": 2**70},
        {"id": 4, "key": "c", "vlan": [], "x": {"nested": [1, {"deep": "x"}]}, "f": 1.0, "t": True, "n": 1},
    ]
    head = {"capture": "odd name ü.pcap", "read_error": None}
    expected = json.dumps({**head, "sessions": entries}, indent=1)
    assert "".join(listing_chunks(head, "sessions", entries)) == expected
    assert "".join(listing_chunks(head, "sessions", [])) == json.dumps({**head, "sessions": []}, indent=1)
