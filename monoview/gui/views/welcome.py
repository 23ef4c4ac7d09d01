"""The page shown before a capture is open: what monoview does and how to start."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from monoview.gui.icons import app_icon


class WelcomePage(QWidget):
    """Open buttons, the sample capture and the recent files.

    Signals:
        open_requested(): the user wants the file dialog.
        sample_requested(): the user wants the bundled sample.
        path_requested(str): the user picked a recent file.
    """

    open_requested = Signal()
    sample_requested = Signal()
    path_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAutoFillBackground(True)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("monoview", self)
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        tagline = QLabel(
            "Open a packet capture to browse every TCP conversation in it,\n"
            "one monologue at a time: everything a side said before the other answered.",
            self,
        )
        tagline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_button = QPushButton("Open Capture…   (Ctrl+O)", self)
        self.open_button.setObjectName("welcome_open")
        self.sample_button = QPushButton("Open the Sample HTTP Capture", self)
        self.sample_button.setObjectName("welcome_sample")
        for button in (self.open_button, self.sample_button):
            button.setMinimumWidth(320)
            button.setMinimumHeight(34)
        self.open_button.setDefault(True)
        hint = QLabel("or drop a .pcap or .pcapng file anywhere on this window", self)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("color: palette(placeholder-text);")
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(icon)
        layout.addWidget(title)
        layout.addSpacing(6)
        layout.addWidget(tagline)
        layout.addSpacing(22)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(10)
        layout.addWidget(hint)
        layout.addSpacing(18)
        layout.addLayout(self.recent_box)
        layout.addStretch(3)
        self.open_button.clicked.connect(self.open_requested)
        self.sample_button.clicked.connect(self.sample_requested)

    def set_sample_available(self, available: bool) -> None:
        """Hide the sample button when the sample is not installed."""
        self.sample_button.setVisible(available)

    def set_recent(self, files: list[str]) -> None:
        """List up to five recent captures as links."""
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if not files:
            return
        heading = QLabel("Recent captures", self)
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading.setStyleSheet("color: palette(placeholder-text); font-weight: bold;")
        self.recent_box.addWidget(heading)
        for path in files[:5]:
            button = QPushButton(Path(path).name, self)
            button.setFlat(True)
            button.setToolTip(path)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("color: palette(link); text-decoration: underline;")
            button.clicked.connect(lambda _c=False, p=path: self.path_requested.emit(p))
            self.recent_box.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
