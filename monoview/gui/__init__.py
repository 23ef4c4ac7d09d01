"""The Qt desktop program on top of ``monoview.core``.

Import rules: PySide6 is imported here first, so pyqtgraph (which prefers PyQt6
when several bindings are importable) always binds to PySide6, whatever entry
path imports ``monoview.gui``.  pyqtgraph itself is imported lazily, only by
``views/plots.py``, to keep start-up fast.  Nothing in ``monoview.core`` may
import from here.
"""

import PySide6.QtCore  # noqa: F401  (binding choice for pyqtgraph, see above)
