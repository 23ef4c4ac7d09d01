"""File › Export › HTTP Objects: Wireshark's Export Objects list, and saving from it.

The list is every HTTP object of the capture (request and response bodies,
decoded), found in the core's worker processes (``http_export.list_objects``)
while the dialog shows that it is reading; a text filter narrows it as
Wireshark's does.  Save writes the checked objects (Save All every one shown)
into a folder chosen then, through the same export as ``monoview http
--export``: atomic files, tshark's names, ``manifest.json``; an existing file
is replaced only after asking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monoview.core import display as fmt
from monoview.core.document import CaptureDocument
from monoview.core.http_export import ExportResult, ObjectKey, export_chosen, list_objects, object_key
from monoview.core.http_objects import HttpObject, unique_names
from monoview.gui.worker import BackgroundCall

COLUMNS = ("Packet", "Hostname", "Content Type", "Size", "Filename", "Note")
SHUTDOWN_MS = 5000


class HttpObjectsDialog(QDialog):
    """The capture's HTTP objects, to check and save."""

    def __init__(self, document: CaptureDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export HTTP Objects — {document.name}")
        self.resize(820, 460)
        self.document = document
        self.objects: list[HttpObject] = []
        self.last_result: ExportResult | None = None
        self.status = QLabel("Reading the capture's HTTP…", self)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Text filter (hostname, type, file name)")
        self.filter.textChanged.connect(self._filter)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 70), (1, 180), (2, 160), (3, 80), (5, 120)):
            self.table.setColumnWidth(column, width)
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("&Save Checked…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_all_button = buttons.addButton("Save &All…", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(lambda: self._ask_folder(checked_only=True))
        self.save_all_button.clicked.connect(lambda: self._ask_folder(checked_only=False))
        layout = QVBoxLayout(self)
        for widget in (self.status, self.filter, self.table, buttons):
            layout.addWidget(widget)
        self._job: BackgroundCall | None = None
        self._set_busy(True)
        self._run(lambda _c: list_objects(document), self._listed)

    # -- listing ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """The capture is being read or an export written."""
        return self._job is not None

    def _listed(self, objects: list[HttpObject]) -> None:
        self.objects = objects
        names = unique_names(objects)
        self.table.setRowCount(len(objects))
        for row, (obj, name) in enumerate(zip(objects, names, strict=True)):
            size = fmt.size(obj.decoded_size)
            note = obj.note or ("incomplete" if not obj.complete else "")
            texts = (str(obj.frame), obj.host, obj.content_type, size, name, note)
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if column in (0, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 0:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Unchecked)
                self.table.setItem(row, column, item)
        count = f"{len(objects)} object" + ("s" if len(objects) != 1 else "")
        self.status.setText(
            f"{count} in {self.document.name}" if objects else "No HTTP object in this capture."
        )

    def _filter(self, text: str) -> None:
        wanted = text.lower()
        for row in range(self.table.rowCount()):
            shown = not wanted or any(
                wanted in self._item(row, column).text().lower() for column in (1, 2, 4)
            )
            self.table.setRowHidden(row, not shown)

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None, "every cell is filled when listed"
        return item

    # -- saving -----------------------------------------------------------------------

    def chosen(self, checked_only: bool) -> set[ObjectKey]:
        """The objects to save: those checked, or every one the filter shows."""
        keys = set()
        for row, obj in enumerate(self.objects):
            if self.table.isRowHidden(row):
                continue
            checked = self._item(row, 0).checkState() == Qt.CheckState.Checked
            if checked or not checked_only:
                keys.add(object_key(obj))
        return keys

    def _ask_folder(self, checked_only: bool) -> None:
        chosen = self.chosen(checked_only)
        if not chosen:
            self.status.setText("Check the objects to save first (or Save All).")
            return
        folder = QFileDialog.getExistingDirectory(self, "Save HTTP objects into")
        if folder:
            self.save_to(Path(folder), chosen)

    def save_to(self, folder: Path, chosen: set[ObjectKey], force: bool = False) -> None:
        """Write ``chosen`` into ``folder`` (in the background); ask before replacing files."""
        document = self.document
        self.status.setText(f"Writing {len(chosen)} objects into {folder}…")
        self._set_busy(True)

        def work(_cancelled: threading.Event) -> ExportResult:
            return export_chosen(document, folder, chosen, force)

        self._run(
            work,
            lambda result: self._saved(folder, result),
            lambda message: self._refused(folder, chosen, force, message),
        )

    def _saved(self, folder: Path, result: ExportResult) -> None:
        self.last_result = result
        incomplete = sum(1 for entry in result.manifest["objects"] if not entry["complete"])
        note = f" ({incomplete} incomplete: see manifest.json)" if incomplete else ""
        self.status.setText(f"{len(result.files)} objects written to {folder}{note}.")

    def _refused(self, folder: Path, chosen: set[ObjectKey], force: bool, message: str) -> None:
        message = message.replace("; use --force to overwrite", "")  # the command line's advice
        self.status.setText(message)
        if force or " exists" not in message:
            return
        answer = QMessageBox.question(self, "Replace files?", f"{message}\n\nReplace them?")
        if answer == QMessageBox.StandardButton.Yes:
            self.save_to(folder, chosen, force=True)

    # -- the worker thread ----------------------------------------------------------

    def _run(
        self,
        work: Callable[[threading.Event], Any],
        succeeded: Callable[[Any], None],
        failed: Callable[[str], None] | None = None,
    ) -> None:
        job = BackgroundCall(work, self)
        self._job = job
        job.succeeded.connect(succeeded)
        job.failed.connect(failed or self.status.setText)
        job.finished.connect(lambda: self._ended(job))
        job.start()

    def _ended(self, job: BackgroundCall) -> None:
        if self._job is job:
            self._job = None
            self._set_busy(False)
        job.deleteLater()

    def _set_busy(self, busy: bool) -> None:
        for button in (self.save_button, self.save_all_button):
            button.setEnabled(not busy)

    def done(self, result: int) -> None:
        """Override QDialog::done: wait for the worker thread (bounded) before closing."""
        job, self._job = self._job, None
        if job is not None:
            job.shutdown(SHUTDOWN_MS)
        super().done(result)


__all__ = ["HttpObjectsDialog"]
