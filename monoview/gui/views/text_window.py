"""The text view's window: a few chunks of the whole text in an editor, moved along as the user reads.

``TextView`` shows a blob of any size (or a long format of it) through this:
the editor holds chunks ``_first``..``_last`` of ``_chunks`` (``core.textchunks``)
and a scroll bar beside it spans every position.  Wheel, keys and the editor's
own scrolling move the window on when they come within ``EDGE`` lines of its
edge (the reading position stays on screen); the bar, Ctrl+End and Ctrl+Home
jump anywhere at once (only the chunks there are rendered).
"""

from __future__ import annotations

import bisect
from typing import Final

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QScrollBar, QWidget

from monoview.core.blob import EMPTY
from monoview.core.formatchunks import FormatChunks
from monoview.core.textchunks import BlobChunks, Chunks
from monoview.core.textmap import TextMap, join_maps
from monoview.gui.views import palette

Place = tuple[int, int]  # a chunk, and a position (UTF-16 units) in its text
WINDOW: Final = 3  # chunks in the editor around the reading position (24 kB: a few screens)
MOST: Final = 8  # chunks a selection brings in at most (64 kB; a whole 50 MB monologue is cut there)
EDGE: Final = 2  # lines from the window's top or bottom that move it along


class TextWindow(QWidget):
    """An editor holding a window of ``_chunks``, and ``bar``, the position in all of them."""

    def __init__(self, parent: QWidget | None = None) -> None:
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
        self._chunks: Chunks = BlobChunks(EMPTY, "ascii")
        self._first, self._last = 0, 0  # the chunks in the editor
        self._offsets = [0]  # where each of them begins in the editor's text, and its end
        self._map = TextMap("", np.zeros(1, dtype=np.int64))
        self._scale = 1  # positions per step of ``bar``
        self._quiet = False
        self._moving = False
        self.editor.verticalScrollBar().valueChanged.connect(self._editor_scrolled)
        self.bar.valueChanged.connect(self._bar_moved)
        self.editor.installEventFilter(self)

    def _colour(self) -> None:
        """Mark the window's text (the view's colours); called whenever the window changed."""

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
        if isinstance(self._chunks, FormatChunks):
            return "".join(self._chunks.text(k) for k in range(self._first, self._last))
        return self._map.text

    def _set_window(self, first: int, last: int) -> None:
        """Put chunks ``first``..``last`` in the editor, the cursor kept if it is in them.

        The cursor is kept as places in chunks (a chunk and a position in its text), which
        the chunks' texts give back exactly: a format's text maps to bytes only roughly.
        A selection's anchor (where a drag began) comes along: the window reaches back or on
        to its chunk, up to ``MOST`` chunks in all, so that a drag the editor scrolls past the
        window's edge goes on selecting from where it began.  Further than that, the
        selection is cut at the window's edge (the part of it the editor holds stays
        selected), as ``select`` cuts a long one."""
        first, last = max(0, first), min(self._chunks.count, max(last, first + 1))
        places = self._cursor_places()
        selected = places is not None and places[0] != places[1]
        if places is not None and selected:
            k = places[0][0]
            if k < first and last - k <= MOST:
                first = k
            elif k >= last and k + 1 - first <= MOST:
                last = k + 1
        if (first, last) == (self._first, self._last):
            return
        chunks = [self._chunks.chunk(k) for k in range(first, last)]
        offset, markers, offsets = 0, [], [0]
        for chunk in chunks:
            markers += [(offset + a, offset + b) for a, b in chunk.markers]
            offset += int(chunk.map.starts[-1])
            offsets.append(offset)
        self._first, self._last = first, last
        self._offsets = offsets
        self._map = join_maps([chunk.map for chunk in chunks])
        self._markers = markers
        self._moving = True
        self._quiet = True
        try:
            self.editor.setPlainText(self._map.text)
            low, high = (first, 0), (last, 0)  # the window's first and end places
            kept = places
            if places is not None and selected:  # the part of a selection in the window
                anchor, position = (min(max(place, low), high) for place in places)
                places = (anchor, position) if anchor != position else None
            elif places is not None and not low <= places[1] < high:
                places = None
            if places is not None:
                cursor = QTextCursor(self.editor.document())
                cursor.setPosition(self._char_of_place(places[0]))
                cursor.setPosition(self._char_of_place(places[1]), QTextCursor.MoveMode.KeepAnchor)
                self.editor.setTextCursor(cursor)
            self._colour()
        finally:
            self._moving = False
            self._quiet = False
        if selected and places != kept:
            self._selection_cut()

    def _selection_cut(self) -> None:
        """The window moved on and cut the selection at its edge (or away): the view says
        what is selected now, so that the hex view and Copy agree with it."""

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

    def _cursor_places(self) -> tuple[Place, Place] | None:
        """The cursor's anchor and position as places in chunks (None: no window yet)."""
        if self._first < 0:
            return None
        cursor = self.editor.textCursor()
        return self._place_of_char(cursor.anchor()), self._place_of_char(cursor.position())

    def _place_of_char(self, char: int) -> Place:
        """(chunk, position in its text) of a position in the editor; the window's end is
        (``_last``, 0)."""
        i = bisect.bisect_right(self._offsets, char) - 1
        if i >= len(self._offsets) - 1:
            return self._last, 0
        return self._first + i, char - self._offsets[i]

    def _char_of_place(self, place: Place) -> int:
        """The editor's position of a place in the window's chunks."""
        k, within = place
        return self._offsets[k - self._first] + within

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
