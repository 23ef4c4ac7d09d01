"""Test configuration shared by the core and GUI suites.

The reference captures live in ``../shared`` beside the repository (CI has a
copy there too); ``MONOVIEW_SHARED`` can point elsewhere.  A few small ones are
also in ``tests/data`` so the basic tests run without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TZ", "UTC")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(os.environ.get("MONOVIEW_SHARED", REPO.parent / "shared"))
CAPTURES = SHARED / "captures"
TOOLS = SHARED / "tools"


def shared_capture(relative: str) -> Path:
    """Path of a capture under shared/captures, or skip the test when it is absent."""
    path = CAPTURES / relative
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path


@pytest.fixture
def shared() -> Path:
    if not CAPTURES.exists():
        pytest.skip("shared captures not available")
    return CAPTURES


def hide_import(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Make ``importlib.import_module(module)`` fail, as it does where an optional extra is
    not installed (the code imports its extras that way, late)."""
    import importlib

    real = importlib.import_module

    def refuse(name: str, *args: object) -> object:
        if name == module:
            raise ImportError(name)
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib, "import_module", refuse)
