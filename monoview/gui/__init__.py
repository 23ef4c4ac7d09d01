"""The Qt desktop program on top of ``monoview.core``.

Import rules: PySide6 is imported here first, so pyqtgraph (which prefers PyQt6
when several bindings are importable) always binds to PySide6, whatever entry
path imports ``monoview.gui``.  pyqtgraph itself is imported lazily, only by
``views/plots.py``, to keep start-up fast.  Nothing in ``monoview.core`` may
import from here.

The interpreter's switch interval is 1 ms in the window's process (5 ms by
default): the window's worker threads (a big session reassembled, a payload
search) run pure Python in stretches, and each call from Qt into Python on the
GUI thread waits for them to let go of the interpreter lock.  Measured with the
responsiveness test (a 63 MB capture opened, sorted and its 19 MB session shown,
two CPU-bound processes beside it): the worst wait of a 10 ms timer went from
89-113 ms to 61-93 ms.
"""

import sys

import PySide6.QtCore  # noqa: F401  (binding choice for pyqtgraph, see above)

sys.setswitchinterval(0.001)
