"""The window's two pages: the welcome page, and the capture page with its splitters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QSplitter, QStackedWidget, QWidget

from monoview.gui.settings import Settings

PAGE_WELCOME: Final = 0
PAGE_CAPTURE: Final = 1


class PageStack(QStackedWidget):
    """The welcome page until a capture opens, then the capture page.

    The capture page's splitters get their remembered sizes the first time the
    page shows, not before: a splitter restored while its page was never shown
    forgets the sizes once it is laid out.
    """

    def __init__(
        self,
        welcome: QWidget,
        capture: QWidget,
        splitters: Mapping[str, QSplitter],
        settings: Settings,
        remember: bool,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.addWidget(welcome)
        self.addWidget(capture)
        self._splitters = dict(splitters)
        self._settings = settings
        self._remember = remember
        self._splitters_restored = False

    def show_welcome(self) -> None:
        """Back to the start: no capture."""
        self.setCurrentIndex(PAGE_WELCOME)

    def show_capture(self) -> None:
        """Switch to the capture page; the first time, restore the splitters."""
        first_time = self.currentIndex() != PAGE_CAPTURE and not self._splitters_restored
        self.setCurrentIndex(PAGE_CAPTURE)
        if first_time and self._remember:
            self._splitters_restored = True
            QTimer.singleShot(0, self._restore_splitters)  # after the page's first layout

    def _restore_splitters(self) -> None:
        for name, splitter in self._splitters.items():
            state = self._settings.layout(name)
            if state is not None:
                splitter.restoreState(state)

    def save_splitters(self) -> None:
        """Remember the splitters' sizes, unless the capture page never showed (they are not the
        user's then, only the defaults of a page never laid out)."""
        if self._splitters_restored or self.currentIndex() == PAGE_CAPTURE:
            for name, splitter in self._splitters.items():
                self._settings.set_layout(name, splitter.saveState())
