"""A thin progress bar that repaints lazily.

``QProgressBar.setValue`` repaints synchronously whenever the bar moves a
pixel; during a load that showed up as the most expensive thing the GUI thread
did per batch.  This bar only schedules an ``update()``, so paints coalesce
with everything else in the event loop.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class LazyProgressBar(QWidget):
    """A fraction from 0 to 1 drawn as a filled rounded bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fraction = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        """Override QWidget::sizeHint."""
        return QSize(180, 12)

    @property
    def fraction(self) -> float:
        """Done so far, 0..1."""
        return self._fraction

    def set_fraction(self, fraction: float) -> None:
        """Show ``fraction`` (clamped); repaints later, with the next event-loop turn."""
        fraction = min(max(fraction, 0.0), 1.0)
        if abs(fraction - self._fraction) >= 0.002:
            self._fraction = fraction
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Override QWidget::paintEvent."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setBrush(self.palette().mid())
        painter.drawRoundedRect(rect, 4, 4)
        if self._fraction > 0:
            done = QRectF(rect.left(), rect.top(), rect.width() * self._fraction, rect.height())
            painter.setBrush(self.palette().highlight())
            painter.drawRoundedRect(done, 4, 4)
