"""The selected bytes as text, with an encoding choice and escaped non-printables.

Backed by ``QPlainTextEdit`` with ``WrapAnywhere`` (word wrapping is quadratic
on long lines, as Wireshark found out).  Only the first ``TEXT_LIMIT`` bytes
are laid out, with a note saying so; the hex view and the export always cover
everything.  Selections are translated to byte ranges through a ``TextMap``.

Escaping 256 kB (750,000 characters when the bytes are binary) takes 15–35 ms,
so a blob is rendered in chunks: the first at once (all of a small blob, a
screenful of a big one), the others one per turn of the event loop.  Whatever
needs the whole text (a selection, the map) has the rest rendered first.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from monoview.core.blob import EMPTY, Blob, gap_marker
from monoview.core.display import human_size
from monoview.core.render import ENCODINGS
from monoview.core.textmap import TextMap, chunk_end, join_maps, render
from monoview.gui.views import palette

TEXT_LIMIT: Final = 256 << 10
FIRST_CHUNK: Final = 32 << 10  # rendered at once
CHUNK: Final = 32 << 10  # then this much per turn of the event loop (2–4 ms)
MORE_TEXT_MS: Final = 1  # a real timer: due timers and input get their turn between chunks
ENCODING_LABELS: Final = {
    "ascii": "ASCII", "utf-8": "UTF-8", "latin-1": "Latin-1", "utf-16": "UTF-16", "ebcdic": "EBCDIC",
}  # fmt: skip


class TextView(QWidget):
    """Escaped text of a ``Blob``, coloured by direction.

    Signals:
        selection_changed(int, int): the user selected bytes ``[start, end)`` (an empty range:
            moved the cursor to ``start``).
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
        # A long note ("Showing the first 262.1 kB of 19.3 MB; …") must not widen the
        # pane: the splitter would squeeze the session tree (a relayout and a full repaint).
        self.note.setMinimumWidth(1)
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
        self._data = b""  # the bytes shown: the blob's first TEXT_LIMIT
        self._pieces: list[TextMap] = []  # one per rendered chunk (and per gap marker)
        self._rendered = 0  # bytes of _data in the editor so far
        self._gaps_placed = 0  # of the blob's gaps, those whose marker is in the text
        self._markers: list[tuple[int, int]] = []  # text ranges of the gap markers
        self._highlights: list[tuple[int, int]] = []  # byte ranges of every match of a find
        self._ratio = 0.0  # reading position to restore once rendered
        self._wanted: tuple[int, int] | None = None  # bytes to select once rendered
        self._more = QTimer(self)
        self._more.setSingleShot(True)
        self._more.setInterval(MORE_TEXT_MS)
        self._more.timeout.connect(self._render_next)
        self.encoding.currentIndexChanged.connect(self._encoding_picked)
        self.editor.selectionChanged.connect(self._editor_selection)
        self.editor.cursorPositionChanged.connect(self._editor_cursor)

    @property
    def current_encoding(self) -> str:
        """The encoding in use."""
        return str(self.encoding.currentData())

    @property
    def text_map(self) -> TextMap:
        """Rendered text and its byte map."""
        self.finish()
        return self._map

    @property
    def rendering(self) -> bool:
        """Chunks of the text are still to come."""
        return self._rendered < len(self._data)

    def set_blob(self, blob: Blob) -> None:
        """Show ``blob`` (its first ``TEXT_LIMIT`` bytes); a find's highlights belonged to the last one."""
        self._blob = blob
        self._highlights = []
        self._rerender()

    def _encoding_picked(self) -> None:
        self._rerender()
        self.encoding_changed.emit(self.current_encoding)

    def _rerender(self) -> None:
        """Start over: the first chunk now, the others from the next turns on."""
        bar = self.editor.verticalScrollBar()
        self._ratio = bar.value() / bar.maximum() if bar.maximum() else 0.0
        self._more.stop()
        self._wanted = None
        self._data = self._blob.read(0, TEXT_LIMIT)
        self._pieces, self._rendered, self._gaps_placed, self._markers = [], 0, 0, []
        self._render_chunk(FIRST_CHUNK)
        self._map = join_maps(self._pieces)
        if self._blob.size > TEXT_LIMIT:
            self.note.setText(
                f"Showing the first {human_size(TEXT_LIMIT)} of {human_size(self._blob.size)}; "
                "the hex view and the export cover everything."
            )
        else:
            self.note.setText(self._blob.title if not self._blob.size else "")
        self.editor.setPlaceholderText(self._blob.title)
        if self.rendering:
            self._recolour()  # what is on screen, until the whole text is in
            self._more.start()
        else:
            self._complete()

    def _render_chunk(self, size: int) -> None:
        """Escape about ``size`` more bytes and add them to the editor, with the marker
        ``[N bytes missing]`` in line where bytes are missing (a piece of text of its own
        that stands for no byte)."""
        encoding = self.current_encoding
        end = chunk_end(self._data, self._rendered, size, encoding)
        gaps = self._blob.gaps
        last = end == len(self._data)  # a hole at the very end is marked with the last chunk
        while self._gaps_placed < len(gaps):
            position, missing = gaps[self._gaps_placed]
            if position > end or (position == end and not last):
                break
            if position > self._rendered:
                self._add(render(self._data[self._rendered : position], encoding))
                self._rendered = position
            text = gap_marker(missing)
            start = sum(int(p.starts[-1]) for p in self._pieces)
            self._add(TextMap(text, np.array([len(text)], dtype=np.int64)))
            self._markers.append((start, start + len(text)))
            self._gaps_placed += 1
        if end > self._rendered or not self._pieces:
            self._add(render(self._data[self._rendered : end], encoding))
        self._rendered = end

    def _add(self, piece: TextMap) -> None:
        self._quiet = True
        try:
            if not self._pieces:
                self.editor.setPlainText(piece.text)
            else:
                cursor = QTextCursor(self.editor.document())
                cursor.movePosition(QTextCursor.MoveOperation.End)
                cursor.insertText(piece.text)
        finally:
            self._quiet = False
        self._pieces.append(piece)

    def _render_next(self) -> None:
        """One more chunk; the last one completes the map and the colours."""
        if not self.rendering:
            return
        self._render_chunk(CHUNK)
        if self.rendering:
            self._more.start()
        else:
            self._complete()

    def finish(self) -> None:
        """Render every chunk still to come, now (the caller needs the whole text)."""
        if not self.rendering:
            return
        self._more.stop()
        while self.rendering:
            self._render_chunk(CHUNK)
        self._complete()

    def _complete(self) -> None:
        """Everything is in: the whole map, its colours, the reading position."""
        self._map = join_maps(self._pieces)
        self._recolour()
        bar = self.editor.verticalScrollBar()
        bar.setValue(int(self._ratio * bar.maximum()))  # keep the reading position across encodings
        if self._wanted is not None:
            start, end = self._wanted
            self._wanted = None
            self._select_now(start, end)

    def _recolour(self) -> None:
        """``_colour`` without telling anyone the selection changed (it did not, for the user)."""
        self._quiet = True
        try:
            self._colour()
        finally:
            self._quiet = False

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
        selections += self._gap_marks()
        selections += self._match_marks(limit)
        self.editor.setExtraSelections(selections)

    def set_highlights(self, ranges: list[tuple[int, int]]) -> None:
        """Highlight these byte ranges (every match of a find; empty: none)."""
        self._highlights = ranges
        self._recolour()

    def _match_marks(self, limit: int) -> list[QTextEdit.ExtraSelection]:
        marks = []
        for start, end in self._highlights[:2000]:
            if start >= limit:
                break
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(self._map.char_of(start))
            cursor.setPosition(self._map.char_of(min(end, limit)), QTextCursor.MoveMode.KeepAnchor)
            extra = QTextEdit.ExtraSelection()
            extra.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(palette.FIND_BG)
            extra.format = fmt
            marks.append(extra)
        return marks

    def _gap_marks(self) -> list[QTextEdit.ExtraSelection]:
        """The in-line ``[N bytes missing]`` markers, grey as in the conversation."""
        marks = []
        for start, stop in self._markers[:2000]:
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(start)
            cursor.setPosition(stop, QTextCursor.MoveMode.KeepAnchor)
            extra = QTextEdit.ExtraSelection()
            extra.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setForeground(palette.GAP_FG)
            fmt.setBackground(palette.GAP_BG)
            fmt.setFontItalic(True)
            extra.format = fmt
            marks.append(extra)
        return marks

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
        self.finish()
        cursor = self.editor.textCursor()
        if not cursor.hasSelection():
            b = self._map.byte_of(cursor.position())
            return b, b
        return self._map.byte_of(cursor.selectionStart()), self._byte_end(cursor.selectionEnd())

    def _byte_end(self, char_end: int) -> int:
        b = self._map.byte_of(char_end - 1) + 1 if char_end > 0 else 0
        return min(b, len(self._map.starts) - 1)

    def select(self, start: int, end: int) -> None:
        """Select bytes ``[start, end)`` (as far as the text goes) without emitting a signal;
        while the text is still being rendered, once it is complete (rendering it all at
        once for a selection froze the window: 60 ms for a 19 MB session, 150 ms on a busy
        machine, at every monologue shown)."""
        if self.rendering:
            self._wanted = (start, end)
            return
        self._select_now(start, end)

    def _select_now(self, start: int, end: int) -> None:
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

    def _editor_cursor(self) -> None:
        """A click or a key moved the cursor without selecting: the byte there is the one
        chosen (``selection_changed`` with an empty range, as the hex view's cursor), so
        its frame is named and the hex view follows."""
        if self._quiet or self.editor.textCursor().hasSelection():
            return
        self.selection_changed.emit(*self.selection())

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        """Override QWidget::keyPressEvent."""
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()
            return
        super().keyPressEvent(event)
