"""The detail area's HTTP tab: the current session's transactions, linked to its monologues.

The tab's pane (and the HTTP reader of the core behind it) is made the first
time the tab is shown, or asked for: most sessions are browsed without it, and
its modules were a tenth of what the window imported before its first rows.
Until then the tab holds an empty page, which the pane replaces in place.
The session's HTTP is read (``core.http_session``) only while the tab is shown,
in a worker thread: a session's bodies are decoded (up to the export's cap),
which for a big download is work the hex view never asks for.  Choosing a
transaction makes its request's monologue current (the conversation, tree and
hex view follow); making a monologue current chooses the transaction it
belongs to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QItemSelection, QObject
from PySide6.QtWidgets import QTabWidget, QWidget

from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:
    from monoview.core.http import HttpTransaction
    from monoview.core.tcp.monologue import Monologue
    from monoview.core.tcp.session import TcpSession
    from monoview.gui.models.http_model import HttpTransactionsModel
    from monoview.gui.views.http_pane import HttpPane

SHUTDOWN_MS = 5000
TAB_TEXT: Final = "HT&TP"


class HttpController(QObject):
    """Fills the HTTP tab for the current session and keeps it in step with the monologues."""

    def __init__(
        self, tabs: QTabWidget, select_monologue: Callable[[Monologue], None], parent: QObject
    ) -> None:
        super().__init__(parent)
        self._tabs = tabs
        self._index = tabs.addTab(QWidget(tabs), TAB_TEXT)  # the pane takes its place when made
        self._model: HttpTransactionsModel | None = None
        self._pane: HttpPane | None = None
        self._select_monologue = select_monologue
        self.session: TcpSession | None = None
        self._read_for: TcpSession | None = None  # the session the model shows, or is read for
        self._job: BackgroundCall | None = None
        self._current_monologue: Monologue | None = None
        self._following = False  # a monologue is being made current from here
        tabs.currentChanged.connect(lambda _index: self._read_if_shown())

    @property
    def made(self) -> bool:
        """The tab's pane was made (the tab was shown, or the pane asked for)."""
        return self._pane is not None

    @property
    def pane(self) -> HttpPane:
        """The tab's pane (the tab's page), made now if it was not yet."""
        if self._pane is None:
            self._make_pane()
        assert self._pane is not None
        return self._pane

    @property
    def model(self) -> HttpTransactionsModel:
        """The current session's transactions (made with the pane)."""
        if self._model is None:
            self._make_pane()
        assert self._model is not None
        return self._model

    def _make_pane(self) -> None:
        """Make the pane and put it in the placeholder's place, the tab staying where it was
        (and current if it was); the tabs' signals are held meanwhile, as nothing changed."""
        from monoview.gui.models.http_model import HttpTransactionsModel
        from monoview.gui.views.http_pane import HttpPane

        tabs = self._tabs
        self._model = HttpTransactionsModel(self)
        self._pane = HttpPane(self._model, tabs)
        self._pane.setObjectName("http_pane")
        self._pane.table.selectionModel().selectionChanged.connect(self._chosen)
        placeholder, current = tabs.widget(self._index), tabs.currentIndex()
        held = tabs.blockSignals(True)
        try:
            tabs.removeTab(self._index)
            tabs.insertTab(self._index, self._pane, TAB_TEXT)
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(held)
        if placeholder is not None:
            placeholder.deleteLater()

    @property
    def busy(self) -> bool:
        """The current session's HTTP is being read."""
        return self._job is not None

    def show_session(self, session: TcpSession | None) -> None:
        """The current session changed (None: none)."""
        self.session = session
        self._current_monologue = None
        self._read_if_shown()

    def monologue_shown(self, monologue: Monologue) -> None:
        """A monologue became current: choose its transaction (unless it was chosen here)."""
        self._current_monologue = monologue
        if not self._following:
            self._choose_for(monologue)

    def stop(self) -> None:
        """Stop reading (the capture is being let go, or the window closes)."""
        job, self._job = self._job, None
        if job is not None:
            job.shutdown(SHUTDOWN_MS)

    def _read_if_shown(self) -> None:
        if self._tabs.currentIndex() != self._index or (self.made and self._read_for is self.session):
            return
        self.stop()
        self._read_for = session = self.session
        self.model.set_transactions([])
        self._show(None)
        if session is None:
            self.pane.status.setText("No session selected.")
            return
        self.pane.status.setText("Reading the session's HTTP…")

        def work(_cancelled: threading.Event) -> list[HttpTransaction]:
            from monoview.core.http_session import session_transactions

            return session_transactions(session)

        job = BackgroundCall(work, self)
        self._job = job
        job.succeeded.connect(lambda found: self._read(job, session, found))
        job.failed.connect(lambda message: self._failed(job, message))
        job.finished.connect(lambda: self._ended(job))
        job.start()

    def _read(self, job: BackgroundCall, session: TcpSession, found: list[HttpTransaction]) -> None:
        if self._job is not job or self._read_for is not session:
            return
        self.model.set_transactions(found)
        if not found:
            self.pane.status.setText("No HTTP in this session.")
            return
        count = f"{len(found)} HTTP transaction" + ("s" if len(found) != 1 else "")
        self.pane.status.setText(f"{count} in session {session.id}")
        if self._current_monologue is None or not self._choose_for(self._current_monologue):
            self.pane.table.selectRow(0)

    def _failed(self, job: BackgroundCall, message: str) -> None:
        if self._job is job:
            self.pane.status.setText(f"The session's HTTP could not be read: {message}")

    def _ended(self, job: BackgroundCall) -> None:
        if self._job is job:
            self._job = None
        job.deleteLater()

    def _choose_for(self, monologue: Monologue) -> bool:
        """Select the transaction ``monologue`` is part of; False if none is."""
        if self._model is None:
            return False  # the tab was never shown: nothing is listed
        for row, t in enumerate(self.model.transactions):
            spans = [m for m in (t.request, t.response) if m is not None]
            if any(m.monologue <= monologue.index <= max(m.monologue, m.end_monologue) for m in spans):
                self._following = True
                try:
                    self.pane.table.selectRow(row)
                finally:
                    self._following = False
                return True
        return False

    def _chosen(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = {index.row() for index in selected.indexes()}
        if not rows:
            return
        t = self.model.transactions[min(rows)]
        self._show(t)
        if self._following or self.session is None:
            return
        first = t.request or t.response
        assert first is not None
        if 0 <= first.monologue < len(self.session.monologues):
            self._following = True
            try:
                self._select_monologue(self.session.monologues[first.monologue])
            finally:
                self._following = False

    def _show(self, t: HttpTransaction | None) -> None:
        if t is None:
            self.pane.request.show_message(None)
            self.pane.response.show_message(None)
            return
        self.pane.request.show_message(t.request, "(the capture holds no request for this response)")
        self.pane.response.show_message(t.response, "(no response in the capture)")
