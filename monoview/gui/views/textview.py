"""The selected bytes as text, with an encoding choice and escaped non-printables, at any size.

Backed by ``QPlainTextEdit`` with ``WrapAnywhere`` (word wrapping is quadratic
on long lines, as Wireshark found out).  The editor holds only a *window*: a
few chunks (``core.textchunks``, 8 kB each) around the reading position, so a
40 MB conversation opens as fast as a small one and its end is one Ctrl+End
away.  A scroll bar beside the editor spans the whole blob (in bytes); wheel,
keys and the editor's own scrolling move the window along when they reach its
edge, and a selection or a find anywhere in the blob brings its chunks in.
Selections are translated to byte ranges through the window's ``TextMap``.

"Show data as" also shows Wireshark's nine formats (``core.showas``, the text
Save As writes and ``monoview follow --show-as`` prints) through the same window,
rendered chunk by chunk as well (``core.formatchunks``: a 40 MB session as C
arrays is never made whole); their text maps to bytes only roughly, so a
selection there names no byte.
"""

from __future__ import annotations

import bisect
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextEdit, QVBoxLayout, QWidget

from monoview.core.blob import EMPTY, Blob
from monoview.core.formatchunks import FormatChunks
from monoview.core.render import ENCODINGS
from monoview.core.showas import ShowAs
from monoview.core.textchunks import BlobChunks
from monoview.gui.views.text_marks import marks
from monoview.gui.views.text_window import MOST, WINDOW, TextWindow

ESCAPED: Final = ""  # "Show data as": the escaped text in the chosen encoding (mapped to bytes)
ENCODING_LABELS: Final = {
    "ascii": "ASCII", "utf-8": "UTF-8", "latin-1": "Latin-1", "utf-16": "UTF-16", "ebcdic": "EBCDIC",
}  # fmt: skip


class TextView(TextWindow):
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
        self._markers: list[tuple[int, int]] = []  # text ranges of the gap markers in the window
        self._highlights: list[tuple[int, int]] = []  # byte ranges of every match of a find
        self._span_starts: list[int] = []
        self.encoding.currentIndexChanged.connect(self._encoding_picked)
        self.show_as.currentIndexChanged.connect(lambda _i: self._rerender())
        self.editor.selectionChanged.connect(self._editor_selection)
        self.editor.cursorPositionChanged.connect(self._editor_cursor)

    @property
    def current_encoding(self) -> str:
        """The encoding in use."""
        return str(self.encoding.currentData())

    @property
    def current_format(self) -> str:
        """``ESCAPED``, or the ``ShowAs`` value shown."""
        return str(self.show_as.currentData())

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
            self.note.setToolTip("")
        else:
            self._chunks = FormatChunks(self._blob, ShowAs(how))
            self.note.setText(f"{how}, as Save As writes it")
            self.note.setToolTip("A selection in a format names no byte of the capture")
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

    # -- colours -----------------------------------------------------------------------

    def _colour(self) -> None:
        """Direction colours, conflicts, gap markers and matches of the window, as extra selections."""
        quiet, self._quiet = self._quiet, True
        try:
            self.editor.setExtraSelections(self._marks())
        finally:
            self._quiet = quiet

    def _marks(self) -> list[QTextEdit.ExtraSelection]:
        """Each side's colours, and the holes' words, in every format; conflicts and a find's
        matches in the escaped text (a format's bytes are not where its characters are)."""
        start, end = self.window_start, self._chunks.cut(self._last)
        blob = self._blob
        first = max(0, bisect.bisect_right(self._span_starts, start) - 1)
        last = bisect.bisect_left(self._span_starts, end)
        spans = [(s.start, s.end, s.direction) for s in blob.spans[first:last]]
        window = (start, end)
        if self.current_format != ESCAPED:
            return marks(self.editor.document(), self._char, window, spans, [], self._markers, [])
        conflicts = [(p, p + n) for p, n in blob.conflicts if p < end and p + n > start]
        k = bisect.bisect_left(self._highlights, (start - (1 << 20), 0))
        matches = [(a, b) for a, b in self._highlights[k : k + 100_000] if a < end and b > start]
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
        # The cursor at the start, so that the start is what scrolls into view (a whole
        # monologue is longer than the screen); the window stays while it scrolls there.
        cursor = QTextCursor(self.editor.document())
        cursor.setPosition(self._char(end))
        cursor.setPosition(self._char(start), QTextCursor.MoveMode.KeepAnchor)
        self._quiet = self._moving = True
        try:
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()
        finally:
            self._quiet = self._moving = False
        self._sync_bar()

    def _selection_cut(self) -> None:
        """Override TextWindow._selection_cut: the hex view follows what is selected now."""
        if self.current_format == ESCAPED:
            self.selection_changed.emit(*self.selection())

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
