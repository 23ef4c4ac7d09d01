"""The detail pane's state: which bytes the hex and text views show, and one selection in both.

The scope chooser picks the bytes: the current monologue, one direction's
stream, or the whole conversation.  Only the visible tab is rendered; the
other catches up when it is shown, since rendering a big session's text for
a tab nobody looks at would stall the window.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView

from monoview.core.blob import EMPTY, Blob, direction_blob, monologue_blob, session_blob
from monoview.core.render import decode_text
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.settings import Settings
from monoview.gui.views.conversation import ConversationView
from monoview.gui.window.panes import DetailPane

DIRECTIONS: Final = ("c2s", "s2c")


class DetailController(QObject):
    """Keeps the hex and text views on the chosen bytes of the current session."""

    def __init__(
        self,
        pane: DetailPane,
        conversation: ConversationView,
        tree: QAbstractItemView,
        settings: Settings,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.hex, self.text, self.tabs, self._scope = pane.hex, pane.text, pane.tabs, pane.scope
        self._title = pane.title
        self._conversation = conversation
        self._tree = tree
        self._settings = settings
        self.session: TcpSession | None = None
        self.blob = EMPTY
        self._session_blob: tuple[int, int, Blob] | None = None
        self._stale = {"hex": True, "text": True}  # the view does not show ``blob`` yet
        conversation.conversation.encoding = self.text.current_encoding
        self._scope.currentIndexChanged.connect(lambda _i: self.update())
        self.tabs.currentChanged.connect(lambda _i: self._render_visible())
        self.hex.selection_changed.connect(self._hex_selected)
        self.text.selection_changed.connect(self._text_selected)
        self.text.encoding_changed.connect(self._encoding_changed)

    @property
    def scope(self) -> str:
        """Which bytes are shown: ``monologue``, ``c2s``, ``s2c`` or ``session``."""
        return str(self._scope.currentData())

    def set_scope(self, key: str) -> None:
        """Show these bytes (a key of ``panes.SCOPES``)."""
        self._scope.setCurrentIndex(self._scope.findData(key))

    def show_session(self, session: TcpSession | None) -> None:
        """The current session changed (None: there is none)."""
        self.session = session
        self._session_blob = None
        self.update()

    def monologue_shown(self, monologue: Monologue) -> None:
        """The current monologue changed: shown at once if the views show the current monologue;
        if they show the conversation (or its direction), they scroll to it and select it."""
        if self.scope == "monologue":
            self.update()
            return
        span = self.blob.span_of(monologue)
        if span is not None:
            self.select(span.start, span.end)

    def shown_monologues(self) -> list[Monologue]:
        """The monologues whose bytes the views show, in conversation order."""
        if self.session is None:
            return []
        if self.scope == "monologue":
            current = self._conversation.current_monologue()
            return [current] if current is not None else []
        monologues = self._conversation.conversation.monologues()
        if self.scope in DIRECTIONS:
            return [m for m in monologues if m.direction == self.scope]
        return list(monologues)

    def session_blob(self) -> Blob:
        """The whole conversation of the current session (cached until it grows)."""
        session = self.session
        if session is None:
            return EMPTY
        monologues = self._conversation.conversation.monologues()
        cached = self._session_blob
        if cached is None or cached[0] != session.id or cached[1] != len(monologues):
            self._session_blob = (session.id, len(monologues), session_blob(session, monologues))
        assert self._session_blob is not None
        return self._session_blob[2]

    def update(self) -> None:
        """Show the scope's bytes of the current session."""
        session = self.session
        scope = self.scope
        if session is None:
            blob = EMPTY
        elif scope == "monologue":
            monologue = self._conversation.current_monologue()
            blob = monologue_blob(monologue) if monologue else Blob("Select a monologue")
        elif scope in DIRECTIONS:
            blob = direction_blob(session, scope, self._conversation.conversation.monologues())
        else:
            blob = self.session_blob()
        self._set_blob(blob)

    def _set_blob(self, blob: Blob) -> None:
        self.blob = blob
        self._title.setText(blob.title)
        self._stale = {"hex": True, "text": True}
        self._render_visible()

    def _render_visible(self) -> None:
        """Only the visible tab is rendered; the other catches up when shown."""
        if self.tabs.currentWidget() is self.hex and self._stale["hex"]:
            self.hex.set_blob(self.blob)
            self._stale["hex"] = False
        elif self.tabs.currentWidget() is self.text and self._stale["text"]:
            self.text.set_blob(self.blob)
            self._stale["text"] = False
            start, end = self.hex.selection()
            if end > start:
                self.text.select(start, end)

    def select(self, start: int, end: int) -> None:
        """Select these bytes of the blob shown, in the hex view and (if it shows it) the text view."""
        self.hex.select(start, end)
        if not self._stale["text"]:
            self.text.select(start, end)

    def _hex_selected(self, start: int, end: int) -> None:
        if not self._stale["text"]:
            self.text.select(start, end)

    def _text_selected(self, start: int, end: int) -> None:
        if self._stale["hex"]:
            self.hex.set_blob(self.blob)
            self._stale["hex"] = False
        self.hex.select(start, end)

    def _encoding_changed(self, encoding: str) -> None:
        """The text view's encoding is the conversation's too, and is remembered."""
        self._conversation.conversation.set_encoding(encoding)
        self._settings.text_encoding = encoding

    def show_hex(self) -> None:
        """View › Hex View."""
        self.tabs.setCurrentWidget(self.hex)
        self.hex.setFocus()

    def show_text(self) -> None:
        """View › Text View."""
        self.tabs.setCurrentWidget(self.text)
        self.text.editor.setFocus()

    def copy_selection(self) -> None:
        """Edit › Copy: from the hex or text view, or the selected monologues as text."""
        focus = QGuiApplication.focusObject()
        if focus is self.text.editor:
            self.text.copy()
        elif focus is self._conversation or focus is self._tree:
            monologues = self._conversation.selected_monologues()
            encoding = self.text.current_encoding
            blobs = [monologue_blob(m) for m in monologues]
            text = "\n".join(b.marked(0, b.size, lambda data: decode_text(data, encoding)) for b in blobs)
            if text:
                QGuiApplication.clipboard().setText(text)
        else:
            self.hex.copy()
