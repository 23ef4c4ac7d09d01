"""One place that finds the files shipped in ``resources/``.

Installed from a wheel, they live in the package as ``monoview/resources``
(hatch force-include); in a source checkout (editable install) they sit at the
repository root.  Everything else asks this module, never builds paths itself.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

_CHECKOUT = Path(__file__).resolve().parents[2] / "resources"
# The package's own folder: what ``importlib.resources.files("monoview")`` names for an
# installed (unzipped) package, without importing ``importlib.resources`` (6 ms of the
# window's start).
_PACKAGE = Path(__file__).resolve().parents[1]


def resource_path(name: str) -> Path:
    """Absolute path of a bundled resource file (``name`` is relative, no ``..``)."""
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise ValueError(f"resource names are relative and stay inside resources/: {name!r}")
    packaged = _PACKAGE / "resources" / name
    if packaged.exists():
        return packaged
    return _CHECKOUT / name


def sample_capture() -> Path | None:
    """The bundled sample capture, or None when the resources are missing."""
    path = resource_path("sample-http.pcap")
    return path if path.exists() else None


def app_icon() -> QIcon:
    """The application icon: the SVG scales, the PNG is the fallback."""
    icon = QIcon()
    for name in ("monoview.svg", "monoview.png"):
        path = resource_path(name)
        if path.exists():
            icon.addFile(str(path))
    return icon
