"""The HTTP tab: the selected session's transactions, and one request and response read.

Above, the transactions (as Wireshark's HTTP statistics list them); below, the
chosen one's request and response side by side: start line and header fields,
then the body as a person reads it (``core.http_session.body_view``: text in
its charset, JSON pretty-printed, a picture drawn, a hex dump of anything else),
with a line saying what is missing when the body is incomplete.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontDatabase, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monoview.core import display as fmt
from monoview.core.http import HttpMessage
from monoview.core.http_session import body_view, head_text
from monoview.gui.models.http_model import HttpTransactionsModel


class MessageView(QWidget):
    """One HTTP message: its head, a note when its body is incomplete, its body."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.title = QLabel(f"<b>{title}</b>", self)
        self.head = QPlainTextEdit(self)
        self.head.setReadOnly(True)
        self.head.setFont(mono)
        self.head.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.head.setMaximumHeight(150)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b35900")
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(mono)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(self)
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        self.body = QStackedWidget(self)
        self.body.addWidget(self.text)
        self.body.addWidget(scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.head, self.note, self.body):
            layout.addWidget(widget)
        self.kind = "empty"
        self.show_message(None)

    def show_message(self, message: HttpMessage | None, absent: str = "") -> None:
        """Show ``message`` (None: ``absent`` says why there is none)."""
        if message is None:
            self.head.setPlainText(absent)
            self.note.hide()
            self.text.setPlainText("")
            self.body.setCurrentIndex(0)
            self.kind = "empty"
            return
        self.head.setPlainText(head_text(message))
        view = body_view(message)
        self.kind = view.kind
        size = f"{len(view.data):,} bytes" if view.data else "no body"
        coded = message.headers.get("content-encoding", "")
        if coded and view.data:
            size += f" ({coded}, {message.body_length:,} on the wire)"
        self.note.setText(f"Body: {size}" + (f" — {view.note}" if view.note else ""))
        self.note.show()
        if view.kind == "image":
            pixmap = QPixmap()
            if pixmap.loadFromData(view.data):
                self.picture.setPixmap(pixmap)
                self.body.setCurrentIndex(1)
                return
            self.kind = "binary"
            self.text.setPlainText(f"(a picture Qt cannot draw: {fmt.size(len(view.data))} bytes)")
        else:
            self.text.setPlainText(view.text)
        self.body.setCurrentIndex(0)


class HttpPane(QWidget):
    """The transactions of a session above, the chosen one's request and response below."""

    def __init__(self, model: HttpTransactionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = QTableView(self)
        self.table.setObjectName("http_transactions")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 36), (1, 70), (2, 160), (4, 56), (5, 150), (6, 80)):
            self.table.setColumnWidth(column, width)
        self.status = QLabel(self)
        self.request = MessageView("Request", self)
        self.response = MessageView("Response", self)
        messages = QSplitter(Qt.Orientation.Horizontal, self)
        messages.addWidget(self.request)
        messages.addWidget(self.response)
        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.status)
        top_layout.addWidget(self.table)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(messages)
        split.setSizes([140, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

    def minimumSizeHint(self) -> QSize:
        """Override QWidget::minimumSizeHint: the tab may be small (its parts scroll); else
        the detail tabs would ask for its table and both messages' room, and take it from
        the conversation above even while the hex view is the tab shown."""
        return QSize(160, 80)

    def sizeHint(self) -> QSize:
        """Override QWidget::sizeHint: no more than the hex view asks for (the window's
        splitters share their room by these)."""
        return QSize(400, 200)
