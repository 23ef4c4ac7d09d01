"""The filter box above the session tree: when its text is applied, and what it says when it is no filter.

``SessionFilter`` (``gui/filtering.py``) decides which sessions the text
shows; this controller only feeds it the box's text, a moment after the typing
stops (a filter over a million sessions per keystroke would stall the box),
and turns the box red with the reason when the text is not a filter.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLineEdit, QStatusBar

from monoview.gui.filtering import SessionFilter
from monoview.gui.window.panes import FILTER_HELP

INVALID_FILTER_BG: Final = "#ffd7d7"  # Wireshark's invalid-filter red
TYPING_PAUSE_MS: Final = 250


class FilterController(QObject):
    """Applies the filter box's text to the session list."""

    def __init__(
        self, edit: QLineEdit, session_filter: SessionFilter, status_bar: QStatusBar, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._edit = edit
        self._filter = session_filter
        self._status_bar = status_bar
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(TYPING_PAUSE_MS)
        edit.textChanged.connect(lambda _t: self._timer.start())
        self._timer.timeout.connect(self.apply)
        session_filter.invalid.connect(self._invalid)

    def focus(self) -> None:
        """Edit › Filter Sessions: the box, its text selected to be typed over."""
        self._edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._edit.selectAll()

    def apply(self) -> None:
        """Filter by the box's text now (not after the typing pause)."""
        self._edit.setStyleSheet("")
        self._edit.setToolTip(FILTER_HELP)
        self._filter.set_text(self._edit.text())

    def clear(self) -> None:
        """Show every session again."""
        self._edit.clear()
        self.apply()

    def filter_out_session(self, session_id: int) -> None:
        """Hide a session's (first) tcp.stream besides what the filter hides already, as
        Wireshark's button does; tshark's numbers once they are known."""
        columns = self._filter.model.columns
        if columns is None or not 1 <= session_id <= len(columns):
            return
        self.filter_out_stream(int(columns.stream_first[session_id - 1]))

    def filter_out_stream(self, stream: int) -> None:
        """Hide one tcp.stream besides what the filter hides already, as Wireshark's button does."""
        term = f"!(tcp.stream == {stream})"
        old = self._edit.text().strip()
        self._edit.setText(f"({old}) && {term}" if old else term)
        self.apply()

    def _invalid(self, message: str) -> None:
        """Not a filter: the box turns red and says why; the last filter stays applied."""
        self._edit.setStyleSheet(f"QLineEdit {{ background: {INVALID_FILTER_BG}; }}")
        self._edit.setToolTip(message)
        self._status_bar.showMessage(message, 10000)
