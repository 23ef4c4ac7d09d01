"""Edit › Find: bytes or text in the current session's whole conversation.

The search runs over the whole conversation (both directions, in the order
they were said), whatever the detail pane shows, so Find Next walks the
session from start to end.  A match makes its monologue current and is
selected in the hex and text views; the find bar counts the matches ("Match 3
of 17") and the text view highlights all of them.
"""

from __future__ import annotations

import bisect
from typing import Final

from PySide6.QtCore import QObject

from monoview.core.blob import Blob
from monoview.core.find import Searcher
from monoview.gui.views.conversation import ConversationView
from monoview.gui.views.findbar import FindBar
from monoview.gui.views.textview import TextView
from monoview.gui.window.detail import DIRECTIONS, DetailController

# Matches counted and highlighted at most (a pattern like "e" in 40 MB would be millions).
MATCH_LIMIT: Final = 100_000


class FindController(QObject):
    """Finds in the conversation; ``position`` is the last match's offset in it (-1: none yet)."""

    def __init__(
        self,
        find_bar: FindBar,
        detail: DetailController,
        conversation: ConversationView,
        text: TextView,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._bar = find_bar
        self._detail = detail
        self._conversation = conversation
        self._text = text
        self.position = -1
        self._cached: tuple[tuple[int, int, bytes, bool], list[int]] | None = None
        find_bar.find_requested.connect(self.find_bytes)
        find_bar.closed.connect(lambda: self._text.set_highlights([]))

    def reset(self) -> None:
        """Another conversation: the next search starts at its beginning."""
        self.position = -1
        self._cached = None
        self._text.set_highlights([])

    def show_find(self) -> None:
        """Edit › Find: open the find bar, pre-filled with a short text selection."""
        editor = self._text.editor
        selected = editor.textCursor().selectedText() if editor.hasFocus() else ""
        self._bar.open(selected if 0 < len(selected) < 80 else None)

    def find_next(self) -> None:
        """Edit › Find Next."""
        self._find_again(True)

    def find_previous(self) -> None:
        """Edit › Find Previous."""
        self._find_again(False)

    def _find_again(self, forward: bool) -> None:
        if not self._bar.pattern.text():
            self.show_find()
            return
        self._bar.show()
        self._bar.request(forward)

    def find_bytes(self, pattern: bytes, forward: bool = True, case_sensitive: bool = False) -> int:
        """Select the next match of ``pattern`` in the conversation; its session-blob position or -1."""
        blob = self._detail.session_blob()
        if not blob.size:
            self._bar.set_status("No conversation to search", error=True)
            return -1
        start = self.position + 1 if forward else (self.position if self.position >= 0 else blob.size)
        found = self._searcher(blob).find(pattern, start, forward, case_sensitive)
        if found is None:
            self._bar.set_status("Not found", error=True)
            return -1
        position, wrapped = found
        self.position = position
        matches = self._matches(blob, pattern, case_sensitive)
        number = bisect.bisect_left(matches, position) + 1
        span = blob.span_at(position)
        scope = self._detail.scope
        if scope in DIRECTIONS:  # a direction's bytes are laid out otherwise: show the monologue
            self._detail.set_scope("monologue")
            scope = "monologue"
        if span is not None:
            self._conversation.show_monologue(span.monologue)
        base = span.start if (scope == "monologue" and span is not None) else 0
        local = position - base
        self._detail.select(local, local + len(pattern))
        end = base + (span.end - span.start if scope == "monologue" and span is not None else blob.size)
        shown = [m - base for m in matches if base <= m < end]
        self._text.set_highlights([(m, m + len(pattern)) for m in shown])
        where = f" in monologue #{span.monologue.index}" if span else ""
        count = f"{len(matches):,}" + ("+" if len(matches) >= MATCH_LIMIT else "")
        self._bar.set_status(f"Match {number:,} of {count}{where}" + (" (wrapped)" if wrapped else ""))
        return position

    @staticmethod
    def _searcher(blob: Blob) -> Searcher:
        """A search of the conversation where no match spans a gap (``core.find``)."""
        return Searcher(blob.data, tuple(sorted(position for position, _missing in blob.gaps)))

    def _matches(self, blob: Blob, pattern: bytes, case_sensitive: bool) -> list[int]:
        """Every match in the conversation (cached while the search stays the same)."""
        data = blob.data
        key = (id(data), len(data), pattern, case_sensitive)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, self._searcher(blob).all(pattern, case_sensitive, MATCH_LIMIT))
        return self._cached[1]
