"""Where a byte came from, and Go to Frame: the link between the bytes and the packets.

The status bar says, for the first byte selected in the hex or text view, its
frame, that frame's capture time and the byte's offset in the file (what
Wireshark's packet bytes pane tells by highlighting).  Go to Frame opens the
session holding a frame and selects the frame's first byte in its monologue.
A frame may hold packets of several sessions (an 802.11 A-MSDU, a tunnel datagram
of several packets, fragments completing several datagrams): the status bar names
them all, the shown session is kept if it is one of them, and asking for the same
frame again goes on to the next, round them all.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QInputDialog, QLabel, QStatusBar, QWidget

from monoview.core import display as fmt
from monoview.core.flows.lookup import sessions_of_frame
from monoview.core.tcp.session import TcpSession
from monoview.gui.window.detail import DetailController
from monoview.gui.window.selection import SelectionController


class OriginController(QObject):
    """The byte under the selection's start, named by frame, time and file offset; Go to Frame."""

    def __init__(
        self,
        detail: DetailController,
        selection: SelectionController,
        status: QStatusBar,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._detail = detail
        self._selection = selection
        self._window = parent
        self._status = status
        self.label = QLabel(parent)
        self.label.setObjectName("byte_origin")
        self.label.setToolTip("The first selected byte: its frame, the frame's time, its offset in the file")
        status.addPermanentWidget(self.label)
        self._pending_frame: int | None = None
        self._last_frame: int | None = None  # the frame of the last Go to Frame
        detail.hex.selection_changed.connect(lambda start, _end: self.show_origin(start))
        detail.text.selection_changed.connect(lambda start, _end: self.show_origin(start))
        selection.session_shown.connect(self._session_shown)

    def origin(self, position: int) -> tuple[int, int, int] | None:
        """(frame, capture time in ns, file offset) of byte ``position`` of the shown bytes."""
        span = self._detail.blob.span_at(position)
        if span is None or span.monologue is None:
            return None
        return span.monologue.locate(position - span.start)

    def show_origin(self, position: int) -> None:
        """Name the origin of byte ``position`` in the status bar."""
        found = self.origin(position)
        if found is None:
            self.label.clear()
            return
        frame, ts, offset = found
        document = self._selection.document
        where = document.offset_text(offset) if document is not None else f"file offset 0x{offset:x}"
        text = f"byte {position:,} · frame {frame:,} · {fmt.clock(ts)} · {where}"
        self.label.setText(text)

    def ask(self) -> None:
        """Go › Go to Frame: ask for a frame number."""
        frame, ok = QInputDialog.getInt(self._window, "Go to Frame", "Frame number:", 1, 1, 2**31 - 1)
        if ok and not self.go_to(frame):
            self._status.showMessage(f"Frame {frame:,} is no packet of a TCP session", 8000)

    def go_to(self, frame: int) -> bool:
        """Show a session holding ``frame`` and select the frame's first byte; False if none
        does.  Of several: the shown one if it is one of them (the next after it when this
        frame was the last asked for), else the first in the frame."""
        document = self._selection.document
        ids = sessions_of_frame(document, frame) if document is not None else []
        if not ids:
            return False
        current = self._selection.current_session
        session_id = ids[0]
        if current is not None and current.id in ids:
            at = ids.index(current.id)
            session_id = ids[(at + 1) % len(ids)] if frame == self._last_frame else current.id
        self._last_frame = frame
        if len(ids) > 1:
            listed = ", ".join(str(i) for i in ids)
            self._status.showMessage(
                f"Frame {frame:,} holds packets of sessions {listed}: showing session {session_id} "
                "(Go to Frame again for the next)",
                8000,
            )
        self._pending_frame = frame
        if current is not None and current.id == session_id:
            self._session_shown(current)
        elif not self._selection.select_session(session_id):
            self._selection.clear_filter_and_select(session_id)
        return True

    def _session_shown(self, session: TcpSession | None) -> None:
        """The session of a Go to Frame is here (now, or once reassembled): select the frame,
        once the other views have taken the session (they reset their selection then)."""
        if self._pending_frame is not None:
            QTimer.singleShot(0, lambda: self._select_pending(session))

    def _select_pending(self, session: TcpSession | None) -> None:
        frame, self._pending_frame = self._pending_frame, None
        if frame is None or session is None:
            return
        for monologue in session.monologues:
            first = monologue.byte_of_frame(frame)
            if first is not None:
                self._selection.select_monologue(monologue)
                self._detail.set_scope("monologue")
                self._detail.update()
                self._detail.select(first, first + 1)
                self.show_origin(first)
                return
        # A packet without payload (a SYN, a bare ACK): its session is shown, no byte to select.
