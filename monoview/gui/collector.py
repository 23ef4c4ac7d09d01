"""When the cyclic garbage collector may run while the window holds a capture.

Showing a capture creates objects that live exactly as long as it is open
(conversations, their monologues, the blobs the views read), and opening one
must not be interrupted by collections on the GUI thread.  So the window
decides: off while a capture opens, and on again only after what was made has
been moved out of the collector's reach (``gc.freeze``), where full passes
(25-45 ms on the GUI thread) no longer walk it.  Those objects refer to each
other (a session to its monologues and back), so when the capture is dropped
they are handed back to the collector and collected at once, at a moment the
user chose (closing or opening a capture).
"""

from __future__ import annotations

import gc


class CapturePause:
    """Keeps the collector off while a capture loads; freezes what was read until it is dropped."""

    def __init__(self) -> None:
        self._paused = False
        self._resume = False
        self._frozen = False

    def pause(self) -> None:
        """An open starts: no collection until ``settle``."""
        if not self._paused:
            self._paused = True
            self._resume = gc.isenabled()
            gc.disable()

    def settle(self) -> None:
        """The load ended (read, cancelled or failed): freeze what it made, collect again."""
        if not self._paused:
            return
        self._paused = False
        gc.freeze()
        self._frozen = True
        if self._resume:
            gc.enable()

    def release(self) -> None:
        """A capture was dropped and nothing refers to it any more: collect it now.

        Everything still alive is frozen again afterwards (the window's own
        objects, as at its start, and a capture being read meanwhile).
        """
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
            gc.collect()
            gc.freeze()
