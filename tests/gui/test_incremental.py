"""The work that keeps the window responsive gives the same results as doing it all at once.

Cells answered through ``multiData``, text rendered in chunks, a capture let
go when it is closed: each is checked against the plain way of doing the same
thing.
"""

from __future__ import annotations

import gc
import weakref

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QModelRoleData, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from monoview.core.flows.columns import HEADERS
from monoview.core.render import ENCODINGS
from monoview.core.textmap import chunk_end, join_maps, render
from monoview.gui.mainwindow import MainWindow
from monoview.gui.models.roles import Role
from monoview.gui.models.session_list import PAINT_ROLES
from tests.gui.conftest import capture, load


def test_cells_answer_the_same_through_multidata(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    model = window.tree_model
    roles = sorted(PAINT_ROLES) + [int(Role.SESSION), int(Qt.ItemDataRole.ToolTipRole)]
    delegate, checked = QStyledItemDelegate(), 0
    for row in range(model.rowCount()):
        for index in [model.index(row, c) for c in range(len(HEADERS))]:
            for role in roles:
                entry = QModelRoleData(role)
                model.multiData(index, entry)
                assert _same(entry.data(), model.data(index, role), index.data(role)), (row, role)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)  # the delegate's own multiData request
            assert option.text == (model.data(index) or "")
            checked += 1
    assert checked == model.rowCount() * len(HEADERS) >= 2 * len(HEADERS)


def _same(*values: object) -> bool:
    keys = [v.cacheKey() if isinstance(v, QIcon) else v for v in values]
    return all(k == keys[0] for k in keys)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [b"a", b"\n", b"\\", b"\x00", b"\xe9", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80"]
        )
        | st.binary(max_size=3),
        max_size=120,
    ).map(b"".join),
    size=st.integers(1, 17),
    encoding=st.sampled_from(list(ENCODINGS)),
)
def test_text_rendered_in_chunks_is_the_text_rendered_whole(data: bytes, size: int, encoding: str) -> None:
    pieces, start = [], 0
    while True:
        end = chunk_end(data, start, size, encoding)
        pieces.append(render(data[start:end], encoding))
        start = end
        if start >= len(data):
            break
    joined, whole = join_maps(pieces), render(data, encoding)
    assert joined.text == whole.text
    assert joined.starts.tolist() == whole.starts.tolist()


def test_a_closed_capture_leaves_nothing_behind(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    assert gc.isenabled()
    session = window.current_session
    assert session is not None and session.id == 1  # the first session is shown
    gone = weakref.ref(session)
    del session
    window.close_capture()
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.binary(max_size=64), encoding=st.sampled_from(list(ENCODINGS)))
def test_every_byte_maps_into_the_rendered_text(data: bytes, encoding: str) -> None:
    shown = render(data, encoding)
    assert len(shown.starts) == len(data) + 1 and shown.starts[-1] == len(shown.text.encode("utf-16-le")) // 2
    assert all(a <= b for a, b in zip(shown.starts, shown.starts[1:], strict=False))
