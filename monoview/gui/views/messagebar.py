"""A dismissible bar at the top of the window for errors and warnings that need no click.

A damaged capture is not a reason for a modal dialog: the sessions read before
the damage are there to look at, and the bar says what happened.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

STYLES: Final = {
    "error": ("#fbe3e4", "#cf222e", "#6e1015"),
    "warning": ("#fff4d6", "#d4a72c", "#5c4400"),
    "info": ("#e6f0fb", "#5590d9", "#0b3563"),
}
ICONS: Final = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class MessageBar(QFrame):
    """Coloured text with a close button; hidden until ``show_message``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message_bar")
        self.icon = QLabel(self)
        self.label = QLabel(self)
        self.label.setObjectName("message_text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(self.label.textInteractionFlags().TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.icon)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.level = ""
        self.hide()

    @property
    def text(self) -> str:
        """The message shown."""
        return self.label.text()

    def show_message(self, text: str, level: str = "error") -> None:
        """Show ``text``; ``level`` is ``error``, ``warning`` or ``info``."""
        background, border, foreground = STYLES[level]
        self.level = level
        self.setStyleSheet(
            f"#message_bar {{ background: {background}; border: 1px solid {border}; border-radius: 3px; }}"
            f"#message_text {{ color: {foreground}; }}"
        )
        self.icon.setPixmap(self.style().standardIcon(ICONS[level]).pixmap(18, 18))
        self.label.setText(text)
        self.show()
