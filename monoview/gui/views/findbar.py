"""The find bar under the conversation: text or hex, next and previous, match case."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from monoview.core.find import PatternError, parse_pattern


class FindBar(QWidget):
    """Pattern entry; asks the window to search.

    Signals:
        find_requested(bytes, bool, bool): pattern, forward, case sensitive.
        closed(): the user dismissed the bar (Escape or ×).
    """

    find_requested = Signal(bytes, bool, bool)
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("find_bar")
        self.pattern = QLineEdit(self)
        self.pattern.setObjectName("find_pattern")
        self.pattern.setPlaceholderText("Find in conversation (Enter: next, Shift+Enter: previous)")
        self.pattern.setClearButtonEnabled(True)
        self.mode = QComboBox(self)
        self.mode.addItem("Text", False)
        self.mode.addItem("Hex", True)
        self.mode.setToolTip("Search for text (UTF-8) or for hex bytes such as 0d 0a 0d 0a")
        self.case = QCheckBox("Match &case", self)
        self.previous = QToolButton(self)
        self.previous.setText("▲")
        self.previous.setToolTip(f"Previous match ({_keys(QKeySequence.StandardKey.FindPrevious)})")
        self.next = QToolButton(self)
        self.next.setText("▼")
        self.next.setToolTip(f"Next match ({_keys(QKeySequence.StandardKey.FindNext)})")
        self.status = QLabel(self)
        self.status.setObjectName("find_status")
        self.status.setMinimumWidth(160)
        close = QToolButton(self)
        close.setText("×")
        close.setToolTip("Close the find bar (Escape)")
        close.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.pattern, 1)
        layout.addWidget(self.mode)
        layout.addWidget(self.case)
        layout.addWidget(self.previous)
        layout.addWidget(self.next)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.pattern.installEventFilter(self)
        self.next.clicked.connect(lambda: self.request(True))
        self.previous.clicked.connect(lambda: self.request(False))
        close.clicked.connect(self.dismiss)
        self.pattern.textChanged.connect(lambda _t: self.set_status(""))
        # Hex bytes have no case: the box would only pretend to do something.
        self.mode.currentIndexChanged.connect(lambda _i: self.case.setEnabled(not self.hex_mode))

    @property
    def hex_mode(self) -> bool:
        """True when the pattern is hex bytes."""
        return bool(self.mode.currentData())

    def open(self, text: str | None = None) -> None:
        """Show the bar with focus on the pattern (optionally pre-filled)."""
        if text:
            self.pattern.setText(text)
        self.show()
        self.pattern.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.pattern.selectAll()

    def dismiss(self) -> None:
        """Hide the bar."""
        self.hide()
        self.closed.emit()

    def request(self, forward: bool) -> None:
        """Parse the pattern and ask for a search (or explain what is wrong)."""
        try:
            pattern = parse_pattern(self.pattern.text(), self.hex_mode)
        except PatternError as exc:
            self.set_status(str(exc), error=True)
            return
        self.find_requested.emit(pattern, forward, self.case.isChecked())

    def set_status(self, text: str, error: bool = False) -> None:
        """Show the outcome of the last search."""
        self.status.setText(text)
        self.status.setStyleSheet("color: #cf222e;" if error else "")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Override QObject::eventFilter: Enter and Shift+Enter in the pattern search."""
        if watched is self.pattern and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape):
                self.keyPressEvent(event)
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Override QWidget::keyPressEvent: Escape closes, Shift+Enter searches backwards."""
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.request(not event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        else:
            super().keyPressEvent(event)


def _keys(standard: QKeySequence.StandardKey) -> str:
    """The platform's keys for a standard action, as the menus show them."""
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(k.toString(native) for k in QKeySequence.keyBindings(standard))
