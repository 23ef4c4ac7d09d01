"""Remembered state, as typed properties over one QSettings.

Everything the window remembers between runs goes through ``Settings``:
geometry, splitter and header layout, recent files, the last export folder and
format, the text view's encoding.  Keys live under ``state/`` (things the
program remembers on its own) and ``prefs/`` (choices the user made), the split
Wireshark keeps between ``recent`` and ``prefs``.  A QSettings object is made
per ``Settings`` instance, never at import time, so tests can point QSettings
at a temporary folder first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT: Final = 10

GEOMETRY: Final = "state/geometry"
WINDOW_STATE: Final = "state/window_state"
RECENT_FILES: Final = "state/recent_files"
EXPORT_DIR: Final = "state/export_dir"
EXPORT_FORMAT: Final = "prefs/export_format"
EXPORT_GAPS: Final = "prefs/export_gaps"
TEXT_ENCODING: Final = "prefs/text_encoding"
SESSION_COLUMNS: Final = "state/session_columns"


class Settings:
    """Typed access to the program's QSettings (organisation and name set in ``app.py``)."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings if qsettings is not None else QSettings()

    # -- generic helpers --------------------------------------------------

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _str(self, key: str, default: str) -> str:
        value = self._s.value(key, default)
        return value if isinstance(value, str) else default

    def layout(self, name: str) -> QByteArray | None:
        """Saved state of a splitter or header called ``name``."""
        return self._bytes(f"state/layout/{name}")

    def set_layout(self, name: str, state: QByteArray) -> None:
        """Remember a splitter's or header's ``saveState()``."""
        self._s.setValue(f"state/layout/{name}", state)

    @property
    def session_columns(self) -> str | None:
        """The session list's columns as JSON (``window.columns``), or None if never saved."""
        value = self._s.value(SESSION_COLUMNS)
        return value if isinstance(value, str) and value else None

    @session_columns.setter
    def session_columns(self, value: str) -> None:
        self._s.setValue(SESSION_COLUMNS, value)

    # -- window -----------------------------------------------------------

    @property
    def geometry(self) -> QByteArray | None:
        """``QMainWindow.saveGeometry()`` of the last run."""
        return self._bytes(GEOMETRY)

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue(GEOMETRY, value)

    @property
    def window_state(self) -> QByteArray | None:
        """``QMainWindow.saveState()`` (docks, toolbars) of the last run."""
        return self._bytes(WINDOW_STATE)

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue(WINDOW_STATE, value)

    # -- recent files -----------------------------------------------------

    @property
    def recent_files(self) -> list[str]:
        """Most recent first; files that no longer exist are left out."""
        value = self._s.value(RECENT_FILES, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        if not isinstance(value, list):
            return []
        return [v for v in value if isinstance(v, str) and Path(v).exists()][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` at the top of the recent files."""
        text = str(Path(path).resolve())
        files = [text] + [f for f in self.recent_files if f != text]
        self._s.setValue(RECENT_FILES, files[:MAX_RECENT])

    def clear_recent_files(self) -> None:
        """Forget every recent file."""
        self._s.remove(RECENT_FILES)

    # -- export and view choices -------------------------------------------

    @property
    def export_dir(self) -> str:
        """Folder of the last export (the home folder at first)."""
        return self._str(EXPORT_DIR, str(Path.home()))

    @export_dir.setter
    def export_dir(self, value: str) -> None:
        self._s.setValue(EXPORT_DIR, value)

    @property
    def export_format(self) -> str:
        """``raw``, ``hex`` or ``text`` (``monoview.core.export.Format`` values)."""
        return self._str(EXPORT_FORMAT, "raw")

    @export_format.setter
    def export_format(self, value: str) -> None:
        self._s.setValue(EXPORT_FORMAT, value)

    @property
    def export_gaps(self) -> str:
        """``omit``, ``zero`` or ``marker`` (``GapPolicy`` values)."""
        return self._str(EXPORT_GAPS, "omit")

    @export_gaps.setter
    def export_gaps(self, value: str) -> None:
        self._s.setValue(EXPORT_GAPS, value)

    @property
    def text_encoding(self) -> str:
        """Encoding of the text view: ``ascii``, ``utf-8`` or ``latin-1``."""
        return self._str(TEXT_ENCODING, "ascii")

    @text_encoding.setter
    def text_encoding(self, value: str) -> None:
        self._s.setValue(TEXT_ENCODING, value)

    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._s.sync()
