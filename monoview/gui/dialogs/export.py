"""The export dialog: what to write, in which format, how to treat missing bytes, where.

``ask_export`` returns an ``ExportRequest`` (or None when cancelled); the main
window runs it with the core export.  Tests replace ``ask_export`` to drive
the same code path as the menus without a modal dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monoview.core.export import Format
from monoview.core.streambytes import GapPolicy


class ExportKind(Enum):
    """What the user asked to export."""

    MONOLOGUES = "monologues"
    SESSION = "session"
    ALL = "all"


SESSION_PARTS: Final = {
    "c2s": "Client → server stream (one file)",
    "s2c": "Server → client stream (one file)",
    "transcript": "Transcript of the conversation (one file)",
    "all": "Everything: both streams, each monologue, transcript, manifest (folder)",
}
FORMAT_LABELS: Final = {Format.RAW: "Raw bytes", Format.HEX: "Hex dump", Format.TEXT: "Escaped text"}
GAP_LABELS: Final = {
    GapPolicy.OMIT: "Leave them out",
    GapPolicy.ZERO: "Fill with zero bytes",
    GapPolicy.MARKER: "Write “[N bytes missing]”",
}


@dataclass(frozen=True)
class ExportRequest:
    """A complete export order: ``target`` is a file or a folder depending on the kind."""

    kind: ExportKind
    target: Path
    fmt: Format = Format.RAW
    gaps: GapPolicy = GapPolicy.OMIT
    part: str = "all"  # session exports: a SESSION_PARTS key
    force: bool = False

    @property
    def to_folder(self) -> bool:
        """True when the export writes a folder (not a single file)."""
        if self.kind is ExportKind.SESSION:
            return self.part == "all"
        return self.kind is ExportKind.ALL or self.target.suffix == ""


class ExportDialog(QDialog):
    """Choices for one export; remembers nothing itself (the window keeps the settings)."""

    def __init__(
        self,
        kind: ExportKind,
        summary: str,
        default_dir: Path,
        default_name: str,
        fmt: Format,
        gaps: GapPolicy,
        folder: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._folder = folder
        self._default_dir = default_dir
        self._default_name = default_name
        self.setWindowTitle("Export")
        self.setMinimumWidth(560)
        self.part = QComboBox(self)
        for key, label in SESSION_PARTS.items():
            self.part.addItem(label, key)
        self.fmt = QComboBox(self)
        for f, label in FORMAT_LABELS.items():
            self.fmt.addItem(f"{label} ({f.suffix})", f)
        self.fmt.setCurrentIndex(self.fmt.findData(fmt))
        self.gaps = QComboBox(self)
        for g, label in GAP_LABELS.items():
            self.gaps.addItem(label, g)
        self.gaps.setCurrentIndex(self.gaps.findData(gaps))
        self.target = QLineEdit(self)
        self.target.setObjectName("export_target")
        browse = QPushButton("&Browse…", self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow(QLabel(summary, self))
        if kind is ExportKind.SESSION:
            form.addRow("&Write:", self.part)
            self.part.setCurrentIndex(self.part.findData("all" if folder else "transcript"))
        else:
            # Only a session export chooses a part; a child left out of the layout would be
            # painted at the dialog's top left corner, over the summary.
            self.part.hide()
        form.addRow("&Format:", self.fmt)
        form.addRow("&Missing bytes:", self.gaps)
        self.target_label = QLabel(self)
        self.target_label.setBuddy(self.target)
        form.addRow(self.target_label, row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.part.currentIndexChanged.connect(self._update_target)
        self.fmt.currentIndexChanged.connect(self._update_target)
        self._update_target()

    def is_folder(self) -> bool:
        """Whether the current choices write a folder."""
        if self.kind is ExportKind.SESSION:
            return bool(self.part.currentData() == "all")
        return self._folder

    def _update_target(self) -> None:
        fmt: Format = self.fmt.currentData()
        current = Path(self.target.text()) if self.target.text() else self._default_dir / self._default_name
        if self.is_folder():
            self.target_label.setText("&Folder:")
            path = current.parent / current.stem if current.suffix else current
        else:
            self.target_label.setText("&File:")
            stem = current.stem if current.suffix else current.name
            if self.kind is ExportKind.SESSION:
                stem = f"{self._default_name}_{self.part.currentData()}"
            path = current.with_name(stem + fmt.suffix)
        self.target.setText(str(path))

    def _browse(self) -> None:
        if self.is_folder():
            chosen = QFileDialog.getExistingDirectory(self, "Export to folder", self.target.text())
        else:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export to file", self.target.text(), options=QFileDialog.Option.DontConfirmOverwrite
            )
        if chosen:
            self.target.setText(chosen)

    def request(self) -> ExportRequest:
        """The choices as a request (not yet checked for overwriting)."""
        part = str(self.part.currentData()) if self.kind is ExportKind.SESSION else "all"
        return ExportRequest(
            self.kind,
            Path(self.target.text()).expanduser(),
            self.fmt.currentData(),
            self.gaps.currentData(),
            part,
        )


def ask_export(
    parent: QWidget | None,
    kind: ExportKind,
    summary: str,
    default_dir: Path,
    default_name: str,
    fmt: Format,
    gaps: GapPolicy,
    folder: bool,
) -> ExportRequest | None:
    """Run the dialog; None if the user cancelled."""
    dialog = ExportDialog(kind, summary, default_dir, default_name, fmt, gaps, folder, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.target.text().strip():
        return None
    return dialog.request()


def confirm_overwrite(parent: QWidget | None, target: Path) -> bool:
    """Ask before replacing an existing file or folder contents."""
    what = "folder already holds an export" if target.is_dir() else "file already exists"
    answer = QMessageBox.question(
        parent,
        "Replace?",
        f"The {what}:\n{target}\n\nReplace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
