"""The current session and monologue, the same in the session list, the conversation and the stream box.

Choosing a session (in the list, the stream box or on the plots' timeline)
shows its conversation: at once when it is cached or small, else when a
worker thread has reassembled it (``ConversationFetcher``), if it is still
the one wanted then.  Monologues are chosen in the conversation pane (the
list is flat, a row per session); ``select_monologue`` shows one there,
selecting its session in the list first.  The rest of the window follows
the ``session_shown`` and ``monologue_shown`` signals.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, Signal
from PySide6.QtWidgets import QMainWindow

from monoview.core.document import CaptureDocument
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.conversations import ConversationFetcher
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.views.messagebar import MessageBar
from monoview.gui.views.session_tree import SessionTreeView
from monoview.gui.window.filter_box import FilterController
from monoview.gui.window.panes import ConversationPane


class SelectionController(QObject):
    """Keeps the list, the conversation and the stream box on one session and monologue.

    Signals:
        session_shown(object): this session (a TcpSession, or None) is now the current one.
        monologue_shown(object): this monologue (a Monologue) is now current in the conversation.
    """

    session_shown = Signal(object)
    monologue_shown = Signal(object)

    def __init__(
        self,
        window: QMainWindow,
        *,
        tree: SessionTreeView,
        model: SessionListModel,
        pane: ConversationPane,
        fetcher: ConversationFetcher,
        filtering: FilterController,
        message_bar: MessageBar,
    ) -> None:
        super().__init__(window)
        self._tree = tree
        self._model = model
        self._conversation = pane.conversation
        self._title, self._summary, self._stream_spin = pane.title, pane.summary, pane.stream_spin
        self._fetcher = fetcher
        self._filtering = filtering
        self._message_bar = message_bar
        self._status_bar = window.statusBar()
        self.document: CaptureDocument | None = None
        self.current_session: TcpSession | None = None
        self._wanted_session: int | None = None  # selected, its conversation not here yet
        # Asked for (``select_monologue``) while its session was being reassembled.
        self._wanted_monologue: Monologue | None = None
        self._tree.selectionModel().currentRowChanged.connect(self._tree_current_changed)
        self._tree.header().sortIndicatorChanged.connect(lambda _c, _o: self._keep_current_in_view())
        self._conversation.monologue_activated.connect(self._monologue_activated)
        fetcher.ready.connect(self._conversation_ready)
        fetcher.failed.connect(self._conversation_failed)
        fetcher.busy_changed.connect(self._show_reassembling)
        self._stream_spin.valueChanged.connect(self._stream_chosen)

    @property
    def reassembling(self) -> bool:
        """The selected session's conversation is being made in a worker thread."""
        return self._wanted_session is not None

    def set_document(self, document: CaptureDocument) -> None:
        """A capture was opened: the stream box steps through its sessions."""
        self.document = document
        self._stream_spin.setRange(0, max(len(document) - 1, 0))
        self._stream_spin.setEnabled(len(document) > 0)

    def forget(self) -> None:
        """The capture is being closed: no session is current."""
        self.document = None
        self.current_session = None
        self._wanted_session = None
        self._wanted_monologue = None
        self._conversation.conversation.set_session(None, [])
        self._title.setText("Select a session")
        self._summary.setText("")
        self._stream_spin.setEnabled(False)
        self.session_shown.emit(None)

    def show_first(self) -> None:
        """Make the first session listed current (the one chosen while the capture was still
        being read, if any: its conversation waited for the whole capture)."""
        wanted = self._wanted_session
        if wanted is not None and self._fetcher.document is not None:
            self._wanted_session = None
            if self.select_session(wanted):
                return
        if self._model.rowCount():
            self._tree.setCurrentIndex(self._model.index(0, 0))

    def select_session(self, session_id: int) -> bool:
        """Make a session current in the list (and everywhere else)."""
        index = self._model.session_index(session_id)
        if not index.isValid():
            return False
        self._tree.setCurrentIndex(index)
        self._tree.scrollTo(index)
        return True

    def select_monologue(self, monologue: Monologue) -> None:
        """Make a monologue current in the conversation and the detail views, its session
        current in the list first (shown once reassembled, if it is big)."""
        session_id = monologue.session.id
        if self.current_session is None or self.current_session.id != session_id:
            self._wanted_monologue = monologue
            if not self.clear_filter_and_select(session_id) or self._wanted_session == session_id:
                return  # not listed; or reassembling: ``_conversation_ready`` shows it
        self._wanted_monologue = None
        self._conversation.show_monologue(monologue)

    def next_monologue(self) -> None:
        """View › Next Monologue."""
        self._step_monologue(1)

    def previous_monologue(self) -> None:
        """View › Previous Monologue."""
        self._step_monologue(-1)

    def keep_current_selected(self) -> None:
        """The shown sessions changed: keep the current one selected and in view if still shown."""
        session = self.current_session
        if session is not None:
            index = self._model.session_index(session.id)
            if index.isValid():
                flags = self._tree.selectionModel().SelectionFlag
                self._tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
                self._tree.scrollTo(index)

    def _step_monologue(self, step: int) -> None:
        monologues = self._conversation.conversation.monologues()
        if not monologues:
            return
        current = self._conversation.current_monologue()
        i = monologues.index(current) + step if current in monologues else 0
        self._conversation.show_monologue(monologues[max(0, min(i, len(monologues) - 1))])

    def _tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        session_id = self._model.session_id_at(current)
        if session_id is None:
            return
        if self.current_session is None or session_id != self.current_session.id:
            session = self._fetcher.fetch(session_id)
            if session is None:  # a big one: reassembled in a worker thread
                self._wanted_session = session_id
                if self._fetcher.document is None:  # a provisional row: the capture is being read
                    self._title.setText(f"Session {session_id}: shown when the whole capture is read…")
                else:
                    self._title.setText(f"Session {session_id}: reassembling…")
                return
            self._show_session(session)
        wanted, self._wanted_monologue = self._wanted_monologue, None
        if wanted is not None and wanted.session.id == session_id:
            self._conversation.show_monologue(wanted)
        elif self._conversation.current_monologue() is None:
            first = self._conversation.conversation.monologues()[:1]
            if first:
                self._conversation.show_monologue(first[0])

    def _conversation_ready(self, session_id: int, _session: TcpSession) -> None:
        """A big session's conversation arrived: shown if it is still the one wanted."""
        if session_id == self._wanted_session:
            self._tree_current_changed(self._tree.currentIndex(), QModelIndex())

    def _conversation_failed(self, session_id: int, message: str) -> None:
        if session_id == self._wanted_session:
            self._wanted_session = None
            self._title.setText(f"Session {session_id} could not be reassembled")
        self._message_bar.show_message(message, "error")

    def _show_reassembling(self, busy: bool) -> None:
        """Say in the status bar that a big session is being reassembled."""
        if busy:
            self._status_bar.showMessage("Reassembling the session…")
        else:
            self._status_bar.clearMessage()

    def _show_session(self, session: TcpSession) -> None:
        self._wanted_session = None
        self.current_session = session
        self._conversation.conversation.set_session(session, session.monologues)
        self._conversation.conversation.finish()
        self._title.setText(f"Session {session.id}:  client {session.client}  ⇄  server {session.server}")
        self._summary.setText(self._session_summary(session))
        self.show_stream_of(session)
        self.session_shown.emit(session)

    def show_stream_of(self, session: TcpSession | None) -> None:
        """The stream box says the session's first tshark stream (once they are known, they
        are tshark's own numbers, not id - 1)."""
        columns = self._model.columns
        if session is None or columns is None or not 1 <= session.id <= len(columns):
            return
        self._stream_spin.blockSignals(True)
        # tshark's streams are not one per session: one session may be two streams (a SYN
        # that starts the 4-tuple again), three VLAN sessions one; the box reaches the last.
        pairs = columns.stream_pairs
        last = int(pairs[1].max()) if pairs is not None and len(pairs[1]) else len(columns) - 1
        self._stream_spin.setMaximum(max(last, 0))
        self._stream_spin.setValue(int(columns.stream_first[session.id - 1]))
        self._stream_spin.blockSignals(False)

    def _session_summary(self, session: TcpSession) -> str:
        """``2 client pkts, 439 server pkts, 3 turns · 1,234 bytes sent, 56,789 bytes received``
        (by the client), as Wireshark's Follow dialog sums a stream up: it counts the packets
        that brought new payload (a bare ACK or a whole retransmission brings none; each
        monologue's ``packets``) and a turn at each change of direction."""
        monologues = session.monologues
        client = sum(m.packets for m in monologues if m.direction == "c2s")
        server = sum(m.packets for m in monologues if m.direction == "s2c")
        turns = max(len(monologues) - 1, 0)  # consecutive monologues change direction
        plural = "s" if turns != 1 else ""
        c2s, s2c = session.stream("c2s").kept, session.stream("s2c").kept
        return (
            f"{client:,} client pkts, {server:,} server pkts, {turns:,} turn{plural}"
            f"   ·   {c2s:,} bytes sent, {s2c:,} bytes received"
        )

    def _stream_chosen(self, stream: int) -> None:
        """The stream box moved: show the (first) session of that tshark stream (clearing a
        filter that hides it)."""
        columns = self._model.columns
        session_id = columns.session_of_stream(stream) if columns is not None else stream + 1
        if session_id is not None:
            self.clear_filter_and_select(session_id)

    def clear_filter_and_select(self, session_id: int) -> bool:
        """Select a session; if the filter hides it, clear the filter first."""
        if self.select_session(session_id):
            return True
        if self.document is None or not 1 <= session_id <= len(self.document):
            return False
        self._filtering.clear()
        return self.select_session(session_id)

    def _monologue_activated(self, monologue: Monologue) -> None:
        """The conversation's current monologue changed: the detail views follow."""
        self.monologue_shown.emit(monologue)

    def _keep_current_in_view(self) -> None:
        """After a sort the current row is elsewhere: scroll to it."""
        current = self._tree.currentIndex()
        if current.isValid():
            self._tree.scrollTo(current)
