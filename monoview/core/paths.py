"""File names that are safe on any operating system, whatever a capture holds."""

from __future__ import annotations

import re
from typing import Final

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._+-]+")
_WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)
MAX_NAME: Final = 120


def safe_name(text: str) -> str:
    """Turn ``text`` into a portable file name component.

    Keeps letters, digits and ``._+-``; every other run becomes ``_``.  No
    leading dot (hidden files, ``..``), no trailing dot or space (Windows), no
    reserved device names, at most 120 characters.
    """
    name = _UNSAFE.sub("_", text).strip("._ ") or "_"
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = "_" + name
    return name[:MAX_NAME]
