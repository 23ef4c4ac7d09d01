"""The work that keeps the window responsive gives the same results as doing it all at once.

Batches applied in slices, cells answered through ``multiData``, text
rendered in chunks, the collector paused and frozen around a load: each is
checked against the plain way of doing the same thing.
"""

from __future__ import annotations

import gc
import weakref

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QModelRoleData, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from monoview.core import analyse
from monoview.core.analyse import Analysis, Batch
from monoview.gui import batching
from monoview.gui import mainwindow as mainwindow_module
from monoview.gui.batching import merge_batches, split_batch
from monoview.gui.mainwindow import MainWindow
from monoview.gui.models.roles import Role
from monoview.gui.models.session_filter import SessionFilterProxy
from monoview.gui.models.session_tree import COLUMNS, PAINT_ROLES, SessionTreeModel
from monoview.gui.views.blob import Blob, Span
from monoview.gui.views.textmap import chunk_end, join_maps, render
from monoview.gui.views.textview import TEXT_LIMIT, TextView
from tests.gui.conftest import capture, load


def _batches(name: str, monkeypatch) -> list[Batch]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(analyse, "FIRST_BATCH_PACKETS", 64)
    analysis = Analysis(capture(name))
    return list(analysis.run())  # the sessions read their bytes lazily: left open for the test


def _content(model: SessionTreeModel) -> list[tuple[int, list[int]]]:
    return [(s.id, [m.index for m in model.monologues_of(s)]) for s in model.sessions]


def test_slices_of_a_batch_add_up_to_it(qtmodeltester, monkeypatch) -> None:
    batches = _batches("http_many.pcap", monkeypatch)
    whole, sliced = SessionTreeModel(), SessionTreeModel()
    split = 0
    # Every batch sliced, and all of them merged into one and sliced finely.
    for batch in [*batches[:-2], merge_batches(batches[-2:])]:
        whole.append_batch(batch)
        slices = split_batch(batch, 3)
        split += len(slices) > 1
        for part in slices:
            sliced.append_batch(part)
            qtmodeltester.check(sliced)
        assert [s for p in slices for s in p.new_sessions] == batch.new_sessions
        assert all(not p.new_sessions for p in slices[1:])
        assert sorted(id(m) for p in slices for m in p.monologues) == sorted(id(m) for m in batch.monologues)
        assert all(not (p.ended or p.done) for p in slices[:-1])
        assert (slices[-1].ended, slices[-1].done) == (batch.ended, batch.done)
    assert split > 0
    assert _content(sliced) == _content(whole)


def test_the_window_applies_a_big_batch_in_slices(qtbot, window: MainWindow, monkeypatch) -> None:
    monkeypatch.setattr(batching, "SESSIONS_PER_SLICE", 2)
    counts: list[int] = []

    def counting_split(batch: Batch, sessions_per_slice: int | None = None) -> list[Batch]:
        slices = split_batch(batch, sessions_per_slice)
        counts.append(len(slices))
        return slices

    monkeypatch.setattr(mainwindow_module, "split_batch", counting_split)
    batches = _batches("http_many.pcap", monkeypatch)
    half = len(batches) // 2
    # Fed as the loader would (no capture is loading, so a batch "from no loader" is the window's).
    for batch in batches[:half]:
        window._queue_batch(None, batch)  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: not window._pending_batches and not window._slices, timeout=5000)
    with qtbot.waitSignal(window.load_finished, timeout=5000):
        for batch in batches[half:]:
            window._queue_batch(None, batch)  # type: ignore[arg-type]
    assert max(counts) > 1
    reference = SessionTreeModel()
    for batch in batches:
        reference.append_batch(batch)
    assert _content(window.tree_model) == _content(reference)
    qtbot.waitUntil(window.tree.updatesEnabled, timeout=1000)  # laid out and painted in turns of their own


def test_cells_answer_the_same_through_multidata(monkeypatch) -> None:
    model = SessionTreeModel()
    proxy = SessionFilterProxy()
    proxy.setSourceModel(model)
    for batch in _batches("http_keepalive.pcap", monkeypatch):
        model.append_batch(batch)
    roles = sorted(PAINT_ROLES) + [int(Role.SORT), int(Qt.ItemDataRole.ToolTipRole)]
    delegate, checked = QStyledItemDelegate(), 0
    for row in range(proxy.rowCount()):
        top = proxy.index(row, 0)
        for index in [proxy.index(row, c) for c in range(len(COLUMNS))] + [
            proxy.index(r, c, top) for r in range(proxy.rowCount(top)) for c in range(len(COLUMNS))
        ]:
            source = proxy.mapToSource(index)
            for role in roles:
                entry = QModelRoleData(role)
                proxy.multiData(index, entry)
                assert _same(entry.data(), model.data(source, role), index.data(role)), (row, role)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)  # the delegate's own multiData request
            assert option.text == (model.data(source) or "")
            checked += 1
    assert checked > 2 * len(COLUMNS)


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
    encoding=st.sampled_from(["ascii", "utf-8", "latin-1"]),
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


def test_the_text_view_renders_a_big_blob_in_turns(qtbot) -> None:
    view = TextView("utf-8")
    qtbot.addWidget(view)
    view.show()
    data = ("GET / HTTP/1.1\r\nHost: é€😀\r\n\r\n".encode() + bytes(range(256))) * 1500
    blob = Blob("big", data, (Span(0, len(data), "c2s", None),))  # type: ignore[arg-type]
    view.set_blob(blob)
    assert view.rendering  # the first chunk is in, the rest comes turn by turn
    assert len(view.editor.toPlainText()) < len(render(data[:TEXT_LIMIT], "utf-8").text)
    qtbot.waitUntil(lambda: not view.rendering, timeout=5000)
    whole = render(data[:TEXT_LIMIT], "utf-8")
    assert _document_text(view) == whole.text
    assert view.text_map.starts.tolist() == whole.starts.tolist()
    view.encoding.setCurrentIndex(view.encoding.findData("latin-1"))
    position = data.index(b"Host", 100_000)
    view.select(position, position + 4)  # before the chunks have come: they are rendered at once
    assert not view.rendering
    assert view.editor.textCursor().selectedText() == "Host"
    assert _document_text(view) == render(data[:TEXT_LIMIT], "latin-1").text


def _document_text(view: TextView) -> str:
    """The editor's text as it was put in (``toPlainText`` turns no-break spaces into spaces)."""
    return view.editor.document().toRawText().replace("\u2029", "\n")


def test_a_loaded_capture_is_left_out_of_collections_until_it_is_closed(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    assert gc.isenabled()
    session = window.tree_model.sessions[0]
    assert not any(o is session for o in gc.get_objects())  # frozen: no collection walks it
    gone = weakref.ref(session)
    del session
    window.close_capture()
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
