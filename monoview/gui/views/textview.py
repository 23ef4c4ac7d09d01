"""The selected bytes as text, with an encoding choice and escaped non-printables, at any size.

Backed by ``QPlainTextEdit`` with ``WrapAnywhere`` (word wrapping is quadratic
on long lines, as Wireshark found out).  The editor holds only a *window*: a
few chunks (``core.textchunks``, 16 kB each) around the reading position, so a
40 MB conversation opens as fast as a small one and its end is one Ctrl+End
away.  A scroll bar beside the editor spans the whole blob (in bytes); wheel,
keys and the editor's own scrolling move the window along when they reach its
edge, and a selection or a find anywhere in the blob brings its chunks in.
Selections are translated to byte ranges through the window's ``TextMap``.

"Show data as" also shows Wireshark's nine formats (``core.showas``, the text
Save As writes and ``monoview follow --show-as`` prints) through the same window;
their text has no byte map, so a selection there names no byte.
"""

from __future__ import annotations

import bisect
from typing import Final

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollBar,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from monoview.core.blob import EMPTY, Blob
from monoview.core.render import ENCODINGS
from monoview.core.showas import ShowAs, render, turns
from monoview.core.textchunks import BlobChunks, Chunks, TextChunks
from monoview.core.textmap import TextMap, join_maps
from monoview.gui.views import palette
from monoview.gui.views.text_marks import marks

WINDOW: Final = 4  # chunks in the editor around the reading position
MOST: Final = 64  # chunks a selection may bring in at once (1 MB of bytes)
EDGE: Final = 2  # lines from the window's top or bottom that move it along
ESCAPED: Final = ""  # "Show data as": the escaped text in the chosen encoding (mapped to bytes)
ENCODING_LABELS: Final = {
    "ascii": "ASCII", "utf-8": "UTF-8", "latin-1": "Latin-1", "utf-16": "UTF-16", "ebcdic": "EBCDIC",
}  # fmt: skip


class TextView(QWidget):
    """Escaped text of a ``Blob``, coloured by direction, or one of Wireshark's formats of it.

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
        self.bar = QScrollBar(Qt.Orientation.Vertical, self)
        self.bar.setObjectName("text_position")
        self.bar.setToolTip("Position in the whole of the shown bytes")
        self.encoding = QComboBox(self)
        self.encoding.setObjectName("encoding")
        for name in ENCODINGS:
            self.encoding.addItem(ENCODING_LABELS[name], name)
        self.encoding.setCurrentIndex(max(0, self.encoding.findData(encoding)))
        self.encoding.setToolTip("How bytes are decoded; non-printable bytes are shown as \\xNN")
        self.show_as = QComboBox(self)
        self.show_as.setObjectName("show_as")
        self.show_as.addItem("Escaped text", ESCAPED)
        for how in ShowAs:
            self.show_as.addItem(how.value, how.value)
        self.show_as.setToolTip(
            "Escaped text (mapped to the bytes), or one of Wireshark's Follow Stream formats, "
            "as Save As writes them"
        )
        self.note = QLabel(self)
        self.note.setObjectName("text_note")
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setMinimumWidth(1)  # a long note must not widen the pane (and squeeze the tree)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        for text, buddy in (("Show data &as:", self.show_as), ("&Encoding:", self.encoding)):
            label = QLabel(text, self)
            label.setBuddy(buddy)
            bar.addWidget(label)
            bar.addWidget(buddy)
            bar.addSpacing(12)
        bar.addWidget(self.note, 1)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.editor, 1)
        body.addWidget(self.bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addLayout(body, 1)
        self._blob = EMPTY
        self._chunks: Chunks = BlobChunks(EMPTY, "ascii")
        self._first, self._last = 0, 0  # the chunks in the editor
        self._map = TextMap("", np.zeros(1, dtype=np.int64))
        self._markers: list[tuple[int, int]] = []  # text ranges of the gap markers in the window
        self._highlights: list[tuple[int, int]] = []  # byte ranges of every match of a find
        self._span_starts: list[int] = []
        self._scale = 1  # positions per step of ``bar``
        self._quiet = False
        self._moving = False
        self.encoding.currentIndexChanged.connect(self._encoding_picked)
        self.show_as.currentIndexChanged.connect(lambda _i: self._rerender())
        self.editor.selectionChanged.connect(self._editor_selection)
        self.editor.cursorPositionChanged.connect(self._editor_cursor)
        self.editor.verticalScrollBar().valueChanged.connect(self._editor_scrolled)
        self.bar.valueChanged.connect(self._bar_moved)
        self.editor.installEventFilter(self)

    @property
    def current_encoding(self) -> str:
        """The encoding in use."""
        return str(self.encoding.currentData())

    @property
    def current_format(self) -> str:
        """``ESCAPED``, or the ``ShowAs`` value shown."""
        return str(self.show_as.currentData())

    @property
    def text_map(self) -> TextMap:
        """The editor's text and its byte map (byte 0 of it is ``window_start``)."""
        return self._map

    @property
    def window_start(self) -> int:
        """The first byte (or character of a format's text) the editor holds."""
        return self._chunks.cut(self._first)

    def window_text(self) -> str:
        """The text of what the editor holds as it was rendered: a format's text as Save As
        writes it (the editor makes a line break of each CR LF and CR)."""
        if isinstance(self._chunks, TextChunks):
            return self._chunks.text[self.window_start : self._chunks.cut(self._last)]
        return self._map.text

    @property
    def rendering(self) -> bool:
        """Chunks are rendered when needed, at once: never still to come (kept for callers)."""
        return False

    def finish(self) -> None:
        """Nothing to wait for (kept for callers; see ``rendering``)."""

    def set_blob(self, blob: Blob) -> None:
        """Show ``blob`` from its start; a find's highlights belonged to the last one."""
        self._blob = blob
        self._highlights = []
        self._span_starts = [span.start for span in blob.spans]
        self._rerender(keep=False)

    def set_format(self, how: str) -> None:
        """Show the bytes as ``how`` (``ESCAPED`` or a ``ShowAs`` value)."""
        self.show_as.setCurrentIndex(max(0, self.show_as.findData(how)))

    def _encoding_picked(self) -> None:
        self._rerender()
        self.encoding_changed.emit(self.current_encoding)

    def _rerender(self, keep: bool = True) -> None:
        """New chunks (another blob, encoding or format); the reading position is kept."""
        ratio = self.bar.value() / self.bar.maximum() if keep and self.bar.maximum() else 0.0
        how = self.current_format
        self.encoding.setEnabled(how == ESCAPED)
        if how == ESCAPED:
            self._chunks = BlobChunks(self._blob, self.current_encoding)
            self.note.setText(self._blob.title if not self._blob.size else "")
        else:
            self._chunks = TextChunks(self._format_text(ShowAs(how)))
            self.note.setText(f"{how}, as Save As writes it; a selection here names no byte")
        self.editor.setPlaceholderText(self._blob.title)
        size = self._chunks.size
        self._scale = max(1, -(-size // (1 << 30)))
        whole = self._chunks.count <= WINDOW
        self.bar.setVisible(not whole)
        policy = Qt.ScrollBarPolicy.ScrollBarAsNeeded if whole else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        self.editor.setVerticalScrollBarPolicy(policy)
        self._quiet = True
        try:
            self.bar.setRange(0, size // self._scale)
            self.bar.setPageStep(max(1, (2 << 10) // self._scale))
            self.bar.setSingleStep(max(1, 80 // self._scale))
        finally:
            self._quiet = False
        self._first = self._last = -1
        self._go_to(int(ratio * size))

    def _format_text(self, how: ShowAs) -> str:
        """The blob's monologues as ``how``: what Save As writes for them."""
        monologues = [span.monologue for span in self._blob.spans if span.monologue is not None]
        if not monologues:
            return ""
        return render(monologues[0].session, turns(monologues), how)

    # -- the window ------------------------------------------------------------------

    def _set_window(self, first: int, last: int) -> None:
        """Put chunks ``first``..``last`` in the editor (the cursor in bytes kept if it is in them)."""
        first, last = max(0, first), min(self._chunks.count, max(last, first + 1))
        if (first, last) == (self._first, self._last):
            return
        anchor, position = self._cursor_bytes()
        chunks = [self._chunks.chunk(k) for k in range(first, last)]
        offset, markers = 0, []
        for chunk in chunks:
            markers += [(offset + a, offset + b) for a, b in chunk.markers]
            offset += int(chunk.map.starts[-1])
        self._first, self._last = first, last
        self._map = join_maps([chunk.map for chunk in chunks])
        self._markers = markers
        self._moving = True
        self._quiet = True
        try:
            self.editor.setPlainText(self._map.text)
            start, end = self.window_start, self._chunks.cut(last)
            if anchor is not None and start <= min(anchor, position) and max(anchor, position) <= end:
                cursor = QTextCursor(self.editor.document())
                cursor.setPosition(self._char(anchor))
                cursor.setPosition(self._char(position), QTextCursor.MoveMode.KeepAnchor)
                self.editor.setTextCursor(cursor)
            self._colour()
        finally:
            self._moving = False
            self._quiet = False

    def _around(self, position: int) -> None:
        """A window with ``position``'s chunk second (room to scroll either way)."""
        k = self._chunks.chunk_of(position)
        if self._first + 1 <= k < self._last - 1 or (self._first <= k < self._last and self._whole_shown()):
            return
        first = max(0, min(k - 1, self._chunks.count - WINDOW))
        self._set_window(first, first + WINDOW)

    def _whole_shown(self) -> bool:
        return self._first == 0 and self._last == self._chunks.count

    def _go_to(self, position: int) -> None:
        """Show ``position`` at the top."""
        self._around(position)
        self._scroll_to_char(self._char(position))
        self._sync_bar()

    def go_to_end(self) -> None:
        """Ctrl+End: the last bytes, the cursor after them."""
        last = self._chunks.count
        self._set_window(max(0, last - WINDOW), last)
        self._quiet = True
        try:
            cursor = self.editor.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._quiet = False
        self._sync_bar()

    def go_to_start(self) -> None:
        """Ctrl+Home: the first bytes, the cursor before them."""
        self._set_window(0, WINDOW)
        self._quiet = True
        try:
            self.editor.moveCursor(QTextCursor.MoveOperation.Start)
        finally:
            self._quiet = False
        self._sync_bar()

    def _char(self, position: int) -> int:
        return self._map.char_of(position - self.window_start)

    def _position(self, char: int) -> int:
        return self.window_start + self._map.byte_of(char)

    def _cursor_bytes(self) -> tuple[int | None, int]:
        if self._first < 0:
            return None, 0
        cursor = self.editor.textCursor()
        return self._position(cursor.anchor()), self._position(cursor.position())

    def _scroll_to_char(self, char: int) -> None:
        """Scroll the editor so that the line holding ``char`` is its top line."""
        document = self.editor.document()
        block = document.findBlock(char)
        if not block.isValid():
            return
        document.documentLayout().blockBoundingRect(block)  # lays the block out
        line = block.layout().lineForTextPosition(char - block.position())
        number = line.lineNumber() if line.isValid() else 0
        self._moving = True
        try:
            self.editor.verticalScrollBar().setValue(block.firstLineNumber() + number)
        finally:
            self._moving = False

    def _top(self) -> int:
        return self._position(self.editor.cursorForPosition(QPoint(0, 0)).position())

    def _editor_scrolled(self, value: int) -> None:
        """Wheel, keys or a selection scrolled the editor: near the window's edge, move it along."""
        if self._moving:
            return
        bar = self.editor.verticalScrollBar()
        forward = value >= bar.maximum() - EDGE and self._last < self._chunks.count
        backward = value <= EDGE and self._first > 0
        if forward or backward:
            top = self._top()
            first = max(0, self._chunks.chunk_of(top) - 1)
            self._set_window(first, first + WINDOW)
            self._scroll_to_char(self._char(top))
        self._sync_bar()

    def _sync_bar(self) -> None:
        """The position bar follows the editor (without moving it back)."""
        bar = self.editor.verticalScrollBar()
        at_end = self._last == self._chunks.count and bar.value() >= bar.maximum()
        value = self.bar.maximum() if at_end else self._top() // self._scale
        self.bar.blockSignals(True)
        try:
            self.bar.setValue(value)
        finally:
            self.bar.blockSignals(False)

    def _bar_moved(self, value: int) -> None:
        if self._quiet:
            return
        if value >= self.bar.maximum():
            self.go_to_end()
        else:
            self._go_to(value * self._scale)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Override QObject::eventFilter: Ctrl+End and Ctrl+Home go to the blob's ends, not the window's."""
        if watched is self.editor and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if control and event.key() == Qt.Key.Key_End:
                self.go_to_end()
                return True
            if control and event.key() == Qt.Key.Key_Home:
                self.go_to_start()
                return True
        return super().eventFilter(watched, event)

    # -- colours -----------------------------------------------------------------------

    def _colour(self) -> None:
        """Direction colours, conflicts, gap markers and matches of the window, as extra selections."""
        quiet, self._quiet = self._quiet, True
        try:
            self.editor.setExtraSelections(self._marks())
        finally:
            self._quiet = quiet

    def _marks(self) -> list[QTextEdit.ExtraSelection]:
        if self.current_format != ESCAPED:
            return []
        start, end = self.window_start, self._chunks.cut(self._last)
        blob = self._blob
        first = max(0, bisect.bisect_right(self._span_starts, start) - 1)
        last = bisect.bisect_left(self._span_starts, end)
        spans = [(s.start, s.end, s.direction) for s in blob.spans[first:last]]
        conflicts = [(p, p + n) for p, n in blob.conflicts if p < end and p + n > start]
        k = bisect.bisect_left(self._highlights, (start - (1 << 20), 0))
        matches = [(a, b) for a, b in self._highlights[k : k + 100_000] if a < end and b > start]
        window = (start, end)
        return marks(self.editor.document(), self._char, window, spans, conflicts, self._markers, matches)

    def set_highlights(self, ranges: list[tuple[int, int]]) -> None:
        """Highlight these byte ranges (every match of a find; empty: none)."""
        self._highlights = sorted(ranges)
        self._colour()

    # -- selection ---------------------------------------------------------------------

    def selection(self) -> tuple[int, int]:
        """Selected bytes ``(start, end)`` (characters of the text in a Wireshark format)."""
        cursor = self.editor.textCursor()
        if not cursor.hasSelection():
            b = self._position(cursor.position())
            return b, b
        start = self._position(cursor.selectionStart())
        char_end = cursor.selectionEnd()
        end = self._position(char_end - 1) + 1 if char_end > 0 else self.window_start
        return start, min(end, self._chunks.size)

    def select(self, start: int, end: int) -> None:
        """Select bytes ``[start, end)`` anywhere in the blob without emitting a signal: their
        chunks are brought in (at most ``MOST`` of them: a longer selection is cut there)."""
        if self.current_format != ESCAPED:
            return
        k, stop = self._chunks.chunk_of(start), self._chunks.chunk_of(max(start, end - 1))
        if not (self._first <= k and stop < self._last):
            first = max(0, k - 1)
            self._set_window(first, max(first + WINDOW, min(stop + 2, first + MOST)))
        end = min(end, self._chunks.cut(self._last))
        cursor = QTextCursor(self.editor.document())
        cursor.setPosition(self._char(start))
        cursor.setPosition(self._char(end), QTextCursor.MoveMode.KeepAnchor)
        self._quiet = True
        try:
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._quiet = False
        self._sync_bar()

    def copy(self) -> None:
        """Copy the selected text."""
        self.editor.copy()

    def _editor_selection(self) -> None:
        if self._quiet or self.current_format != ESCAPED:
            return
        if self.editor.textCursor().hasSelection():
            self.selection_changed.emit(*self.selection())

    def _editor_cursor(self) -> None:
        """A click or a key moved the cursor without selecting: the byte there is the one
        chosen (``selection_changed`` with an empty range, as the hex view's cursor), so
        its frame is named and the hex view follows."""
        if self._quiet or self.current_format != ESCAPED or self.editor.textCursor().hasSelection():
            return
        self.selection_changed.emit(*self.selection())

    def keyPressEvent(self, event):  # type: ignore[no-untyped-def]
        """Override QWidget::keyPressEvent."""
        if event.key() == Qt.Key.Key_Escape:
            event.ignore()
            return
        super().keyPressEvent(event)
