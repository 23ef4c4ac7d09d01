"""The core is Qt-free: neither the core nor the command line loads Qt or pyqtgraph."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE_MODULES = sorted(
    "monoview." + ".".join(p.relative_to(REPO / "monoview").with_suffix("").parts)
    for p in (REPO / "monoview" / "core").rglob("*.py")
    if p.name != "__init__.py"
)


def test_core_and_cli_import_no_qt() -> None:
    imports = "; ".join(f"import {m}" for m in [*CORE_MODULES, "monoview.cli"])
    probe = (
        f"import sys; {imports}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph') "
        "or m.startswith('monoview.gui')); print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_headless_command_loads_no_qt(tmp_path: Path) -> None:
    probe = (
        "import sys\nfrom monoview.cli import main\nmain(['sessions', sys.argv[1]])\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph')))\n"
        "print('QT', qt, file=sys.stderr)\n"
    )
    capture = REPO / "tests" / "data" / "chatter.pcap"
    result = subprocess.run([sys.executable, "-c", probe, str(capture)], capture_output=True, text=True)
    assert "QT []" in result.stderr


def test_import_contracts() -> None:
    """import-linter's contract in pyproject.toml: monoview.core never imports the GUI or Qt."""
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(lint).exists():
        pytest.skip("import-linter not installed")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
