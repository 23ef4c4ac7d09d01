"""The session list as ``sessions`` prints it, from columns, against the same list
built session by session from the per-packet analysis, on every shared capture."""

from __future__ import annotations

from pathlib import Path

import pytest

from monoview.cli.parser import FORMATS, GAP_POLICIES, LAYOUTS
from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.export import Format, Layout, stream_json
from monoview.core.flows.listing import TABLE_HEADER, session_columns, stream_entries, table_lines
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
    assert list(table_lines(document.rows, columns)) == [TABLE_HEADER, *(_line(s) for s in sessions)]
    expected = [stream_json(s) | {"c2s_bytes": s.kept("c2s"), "s2c_bytes": s.kept("s2c")} for s in sessions]
    assert list(stream_entries(columns)) == expected
    document.close()


def test_the_parser_offers_every_policy_and_format() -> None:
    assert tuple(p.value for p in GapPolicy) == GAP_POLICIES
    assert tuple(f.value for f in Format) == FORMATS
    assert tuple(layout.value for layout in Layout) == LAYOUTS
