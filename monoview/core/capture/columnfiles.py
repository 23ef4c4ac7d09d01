"""A range's columns written to their ``.npy`` files batch by batch, as the walk makes them.

A range's rows were held as a list of batches and joined at its end, then
saved: for one range of a 77 MB capture of small packets that is 36 MB of
batches plus 36 MB joined, at once, in the worker (its own memory, the
largest of the whole ``monoview sessions`` run; issue 6).  Here each batch
goes to the files as soon as it is scanned (each column's file is appended
to), so what the worker holds is one batch; the header, whose length numpy
keeps the same whatever the row count (it pads the shape for growth), is
written again with the count at the end.

The flow numbers of a batch are its own until the range's flows are merged;
``remap`` rewrites them in the flow file through a mapping of it (the
file's pages, not the process's memory), one batch at a time.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.generic]
I64 = npt.NDArray[np.int64]


def _header(dtype: np.dtype[np.generic], rows: int) -> bytes:
    """The ``.npy`` header of a 1-D array of ``rows`` values of ``dtype``."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        out, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (rows,)}
    )
    return out.getvalue()


class ColumnFiles:
    """One ``.npy`` file per column (``paths``), appended to a batch at a time."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths = paths
        self.lengths: list[int] = []  # rows of each batch appended
        self._handles: dict[str, BinaryIO] = {}
        self._dtypes: dict[str, np.dtype[np.generic]] = {}

    @property
    def rows(self) -> int:
        return sum(self.lengths)

    def append(self, columns: dict[str, Array]) -> None:
        """One batch: every column of ``paths``, of equal lengths and the same type each time."""
        length = -1
        for name in self.paths:
            values = columns[name]
            handle = self._handles.get(name)
            if handle is None:
                handle = self._handles[name] = open(self.paths[name], "wb")  # noqa: SIM115 (closed in finish)
                self._dtypes[name] = values.dtype
                handle.write(_header(values.dtype, 0))
            if values.dtype != self._dtypes[name]:
                raise TypeError(f"column {name}: {values.dtype}, not {self._dtypes[name]}")
            handle.write(np.ascontiguousarray(values).tobytes())
            length = len(values)
        self.lengths.append(length)

    def finish(self, empty: dict[str, np.dtype[np.generic]]) -> dict[str, str]:
        """Close the files with their row counts (a column never appended to is saved empty,
        of type ``empty[name]``) and return ``paths``."""
        rows = self.rows
        for name, path in self.paths.items():
            handle = self._handles.pop(name, None)
            if handle is None:
                np.save(path, np.zeros(0, dtype=empty[name]))
                continue
            with handle:
                header = _header(self._dtypes[name], rows)
                handle.flush()
                handle.seek(0)
                if handle.tell() != 0 or len(header) != len(_header(self._dtypes[name], 0)):
                    raise ValueError(f"the header of {path} would change its length")
                handle.write(header)
        return self.paths

    def close(self) -> None:
        """Close what is still open (on an error: the files are the folder owner's to remove)."""
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def remap(self, name: str, maps: list[I64], flows: int) -> I64:
        """Rewrite column ``name`` (finished) through each batch's mapping (``maps``, one per
        batch: the batch's own numbers to the range's), and count the rows of each of the
        ``flows`` numbers."""
        counts = np.zeros(flows, dtype=np.int64)
        if not self.lengths:
            return counts
        column = np.load(self.paths[name], mmap_mode="r+")
        try:
            at = 0
            for length, mapping in zip(self.lengths, maps, strict=True):
                block = column[at : at + length]
                local = np.asarray(block, dtype=np.int64)
                # a batch's flows are distinct, and so are their merged numbers
                counts[mapping] += np.bincount(local, minlength=len(mapping))
                block[:] = mapping[local]
                at += length
            column.flush()
        finally:
            del column
        return counts


def spooled_paths(folder: str, label: str, names: tuple[str, ...]) -> dict[str, str]:
    """The file of each column of range ``label`` in ``folder``."""
    return {name: os.path.join(folder, f"{label}-{name}.npy") for name in names}
