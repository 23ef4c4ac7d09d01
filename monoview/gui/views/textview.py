"""The selected bytes as text, with an encoding choice and escaped non-printables.

Backed by ``QPlainTextEdit`` with ``WrapAnywhere`` (word wrapping is quadratic
on long lines, as Wireshark found out).  Only the first ``TEXT_LIMIT`` bytes
are laid out, with a note saying so; the hex view and the export always cover
everything.  Selections are translated to byte ranges through a ``TextMap``.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from monoview.core.render import ENCODINGS
from monoview.gui.models.format import human_size
from monoview.gui.views import palette
from monoview.gui.views.blob import EMPTY, Blob
from monoview.gui.views.textmap import TextMap, render

TEXT_LIMIT: Final = 256 << 10
ENCODING_LABELS: Final = {"ascii": "ASCII", "utf-8": "UTF-8", "latin-1": "Latin-1"}


class TextView(QWidget):
    """Escaped text of a ``Blob``, coloured by direction.

    Signals:
        selection_changed(int, int): the user selected bytes ``[start, end)``.
        encoding_changed(str): the user picked another encoding.
    """

    selection_changed = Signal(int, int)
    encoding_changed = Signal(str)

    def __init__(self, encoding: str = "ascii", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("text_editor")
        self.editor.setReadOnly(True)
        self.editor.setFont(palette.mono_font())
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setWordWrapMode(self.editor.wordWrapMode().WrapAnywhere)
        self.editor.setUndoRedoEnabled(False)
        self.encoding = QComboBox(self)
        self.encoding.setObjectName("encoding")
        for name in ENCODINGS:
            self.encoding.addItem(ENCODING_LABELS[name], name)
        self.encoding.setCurrentIndex(max(0, self.encoding.findData(encoding)))
        self.encoding.setToolTip("How bytes are decoded; non-printable bytes are shown as \\xNN")
        self.note = QLabel(self)
        self.note.setObjectName("text_note")
        self.note.setStyleSheet("color: palette(placeholder-text);")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        label = QLabel("&Encoding:", self)
        label.setBuddy(self.encoding)
        bar.addWidget(label)
        bar.addWidget(self.encoding)
        bar.addSpacing(12)
        bar.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.editor, 1)
        self._blob = EMPTY
        self._map = render(b"", "ascii")
        self._quiet = False
        self.encoding.currentIndexChanged.connect(self._encoding_picked)
        self.editor.selectionChanged.connect(self._editor_selection)

    @property
    def current_encoding(self) -> str:
        """The encoding in use."""
        return str(self.encoding.currentData())

    @property
    def text_map(self) -> TextMap:
        """Rendered text and its byte map."""
        return self._map

    def set_blob(self, blob: Blob) -> None:
        """Show ``blob`` (its first ``TEXT_LIMIT`` bytes)."""
        self._blob = blob
        self._rerender()

    def _encoding_picked(self) -> None:
        self._rerender()
        self.encoding_changed.emit(self.current_encoding)

    def _rerender(self) -> None:
        bar = self.editor.verticalScrollBar()
        ratio = bar.value() / bar.maximum() if bar.maximum() else 0.0
        data = self._blob.read(0, TEXT_LIMIT)
        self._map = render(data, self.current_encoding)
        self._quiet = True
        try:
            self.editor.setPlainText(self._map.text)
            self._colour()
        finally:
            self._quiet = False
        if self._blob.size > TEXT_LIMIT:
            self.note.setText(
                f"Showing the first {human_size(TEXT_LIMIT)} of {human_size(self._blob.size)}; "
                "the hex view and the export cover everything."
            )
        else:
            self.note.setText(self._blob.title if not self._blob.size else "")
        self.editor.setPlaceholderText(self._blob.title)
        bar.setValue(int(ratio * bar.maximum()))  # keep the reading position across encodings

    def _colour(self) -> None:
        """Direction colours as extra selections (cheap: one per monologue on screen)."""
        selections = []
        limit = len(self._map.starts) - 1
        for span in self._blob.spans[:2000]:
            if span.start >= limit:
                break
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(self._map.char_of(span.start))
            cursor.setPosition(self._map.char_of(min(span.end, limit)), QTextCursor.MoveMode.KeepAnchor)
            extra = QTextEdit.ExtraSelection()
            extra.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setForeground(palette.foreground(span.direction))
            fmt.setBackground(palette.background(span.direction))
            extra.format = fmt
            selections.append(extra)
        selections += self._conflict_marks(limit)
        self.editor.setExtraSelections(selections)

    def _conflict_marks(self, limit: int) -> list[QTextEdit.ExtraSelection]:
        """Bytes a later retransmission contradicted: orange, underlined (as in the hex view)."""
        marks = []
        for position, length in self._blob.conflicts[:2000]:
            if position >= limit:
                continue
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(self._map.char_of(position))
            cursor.setPosition(
                self._map.char_of(min(position + length, limit)), QTextCursor.MoveMode.KeepAnchor
            )
            extra = QTextEdit.ExtraSelection()
            extra.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(palette.CONFLICT_BG)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            fmt.setUnderlineColor(palette.CONFLICT)
            fmt.setToolTip("A retransmission carried different bytes here; the first copy is shown")
            extra.format = fmt
            marks.append(extra)
        return marks

    def selection(self) -> tuple[int, int]:
        """Selected bytes ``(start, end)``."""
        cursor = self.editor.textCursor()
        if not cursor.hasSelection():
            b = self._map.byte_of(cursor.position())
            return b, b
        return self._map.byte_of(cursor.selectionStart()), self._byte_end(cursor.selectionEnd())

    def _byte_end(self, char_end: int) -> int:
        b = self._map.byte_of(char_end - 1) + 1 if char_end > 0 else 0
        return min(b, len(self._map.starts) - 1)

    def select(self, start: int, end: int) -> None:
        """Select bytes ``[start, end)`` (as far as the text goes) without emitting a signal."""
        cursor = QTextCursor(self.editor.document())
        cursor.setPosition(self._map.char_of(start))
        cursor.setPosition(self._map.char_of(end), QTextCursor.MoveMode.KeepAnchor)
        self._quiet = True
        try:
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._quiet = False

    def copy(self) -> None:
        """Copy the selected text."""
        self.editor.copy()

    def _editor_selection(self) -> None:
        if self._quiet:
            return
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            self.selection_changed.emit(*self.selection())

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        """Override QWidget::keyPressEvent."""
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()
            return
        super().keyPressEvent(event)
