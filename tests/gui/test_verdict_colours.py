"""One colour meaning per session: the list's dot and the timeline's bar agree, and say it.

Before, the dot said health (red: bytes missing) and the bar said state (red:
reset): rst.pcap's sessions 2 and 4 were orange in the list and red in the
timeline, gaps.pcap's session red in the list and green in the timeline.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon

from monoview.core.flows.columns import Column
from monoview.core.verdict import MEANINGS, VERDICTS
from monoview.gui.mainwindow import MainWindow
from monoview.gui.models.roles import Role
from monoview.gui.views import palette
from tests.gui.conftest import capture, load

CAPTURES = (
    "rst.pcap", "gaps.pcap", "midstream.pcap", "http_keepalive.pcap", "bulk_loss_reorder.pcap",
    "snaplen96.pcap", "reuse.pcap", "http_many.pcap", "vlan.pcap", "tls.pcap",
)  # fmt: skip


def _dot(icon: QIcon) -> QColor:
    """The colour at the middle of the list's status dot."""
    return icon.pixmap(12, 12).toImage().pixelColor(6, 6)


def test_each_verdict_has_its_own_colour() -> None:
    colours = {palette.verdict_colour(v).rgb() for v in VERDICTS}
    assert len(colours) == len(VERDICTS)
    assert palette.verdict_colour("bytes missing") == palette.GAP_MARK  # red as every gap
    from monoview.gui.views.plots import SELECTED
    from monoview.gui.views.stream_graphs import RETRANSMITTED

    assert SELECTED.rgb() not in colours and RETRANSMITTED.rgb() not in colours  # no second meaning


@pytest.mark.parametrize("name", CAPTURES)
def test_the_list_and_the_timeline_colour_each_session_alike(qtbot, window: MainWindow, name: str) -> None:
    load(qtbot, window, capture(name))
    window.toggle_plots()
    qtbot.waitUntil(lambda: window.plots is not None, timeout=5000)
    plots = window.plots
    assert plots is not None
    qtbot.waitUntil(lambda: len(plots._timeline.ids) == window.tree_model.rowCount(), timeout=5000)
    bars = {int(i): QColor(b) for i, b in zip(plots._timeline.ids, plots._bars.opts["brushes"], strict=True)}
    model = window.tree_model
    for row in range(model.rowCount()):
        index = model.index(row, Column.STATUS)
        session = int(index.data(Role.SESSION))
        dot = _dot(index.data(Qt.ItemDataRole.DecorationRole))
        assert dot.rgb() == bars[session].rgb(), (name, session)
        verdict = VERDICTS[[palette.verdict_colour(v).rgb() for v in VERDICTS].index(dot.rgb())]
        assert MEANINGS[verdict] in index.data(Qt.ItemDataRole.ToolTipRole)


def test_the_verdicts_of_rst_and_gaps(qtbot, window: MainWindow) -> None:
    """The cases of the issue: rst.pcap's resets and gaps.pcap's hole are one colour each."""
    expected = {"rst.pcap": {"reset"}, "gaps.pcap": {"bytes missing"}}
    for name, verdicts in expected.items():
        load(qtbot, window, capture(name))
        model = window.tree_model
        seen = set()
        for row in range(model.rowCount()):
            dot = _dot(model.index(row, Column.STATUS).data(Qt.ItemDataRole.DecorationRole))
            seen |= {v for v in VERDICTS if palette.verdict_colour(v).rgb() == dot.rgb()}
        assert verdicts <= seen, (name, seen)


def test_the_legends_name_every_colour(qtbot, window: MainWindow) -> None:
    window.toggle_plots()
    qtbot.waitUntil(lambda: window.plots is not None, timeout=5000)
    assert window.plots is not None
    title = window.plots.legend.text()
    tip = window.plots.timeline.toolTip()
    tooltip = Qt.ItemDataRole.ToolTipRole
    header = window.tree_model.headerData(Column.STATUS, Qt.Orientation.Horizontal, tooltip)
    for v in VERDICTS:
        assert palette.verdict_colour(v).name() in title and v in title
        assert f"{v}: {MEANINGS[v]}" in tip and f"{v}: {MEANINGS[v]}" in header
