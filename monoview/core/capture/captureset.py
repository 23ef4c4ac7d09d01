"""Several capture files read as one capture: a rotated set (``tcpdump -C``, ``dumpcap -b``).

The rest of monoview reads payload by file offset from one buffer.  A set
keeps that: member ``k``'s bytes have the *virtual* offsets ``base_k +
offset`` (the members one after another, in capture order), so the index's
``payload`` column, a session's pieces and every slice keep working, and an
offset still names exactly one byte of one file (``where``).  Nothing is
copied: :class:`SetBuffer` maps each member and slices the one an offset
falls in.  The members are ordered by their first packet's time, not their
names (``capture-10.pcap`` comes after ``capture-9.pcap``, and a set given in
any order is the same capture).

A :class:`CaptureSet` is a small frozen value (paths, sizes, bases): worker
processes are handed it and map the members themselves.
"""

from __future__ import annotations

import bisect
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Final, overload

from monoview.core.errors import CaptureFormatError

# Files a folder argument contributes (any other file in it is ignored).
CAPTURE_SUFFIXES: Final = (".pcap", ".pcapng", ".cap", ".dmp", ".ntar")


@dataclass(frozen=True)
class CaptureSet:
    """Member files in capture order and where each begins in the set's virtual offsets."""

    paths: tuple[Path, ...]
    sizes: tuple[int, ...]

    @cached_property
    def bases(self) -> tuple[int, ...]:
        """The virtual offset of each member's first byte."""
        out, at = [], 0
        for size in self.sizes:
            out.append(at)
            at += size
        return tuple(out)

    @property
    def size(self) -> int:
        """Bytes of all members."""
        return sum(self.sizes)

    @property
    def name(self) -> str:
        """How messages name the set: its first file and how many follow."""
        more = len(self.paths) - 1
        return f"{self.paths[0].name} and {more} more file{'s' if more != 1 else ''}"

    def member(self, offset: int) -> int:
        """The member holding virtual ``offset`` (the last one for offsets past the end)."""
        return max(bisect.bisect_right(self.bases, offset) - 1, 0)

    def where(self, offset: int) -> tuple[Path, int]:
        """The file a virtual offset lies in and the offset in that file."""
        k = self.member(offset)
        return self.paths[k], offset - self.bases[k]


def ordered(paths: Sequence[Path], first_times: Sequence[int | None]) -> CaptureSet:
    """The set of ``paths`` ordered by first packet time (a file without packets goes last;
    equal times keep the order of their names, so the order never depends on the command line)."""
    never = 1 << 63
    keyed = sorted(
        zip(paths, first_times, strict=True), key=lambda pt: (never if pt[1] is None else pt[1], str(pt[0]))
    )
    chosen = [p for p, _t in keyed]
    return CaptureSet(tuple(chosen), tuple(os.path.getsize(p) for p in chosen))


def expand(arguments: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The files the command line names: files as given, a folder's captures (by suffix,
    compressed ones too), each file once."""
    out: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and _is_capture_name(p.name))
            if not found:
                kinds = ", ".join(CAPTURE_SUFFIXES)
                raise CaptureFormatError(f"{path.name}: the folder holds no capture file ({kinds})")
            out.extend(found)
        else:
            out.append(path)
    unique: dict[Path, None] = {}
    for path in out:
        unique.setdefault(path.resolve() if path.exists() else path, None)
    return list(unique)


def _is_capture_name(name: str) -> bool:
    lowered = name.lower()
    for suffix in (".gz", ".gzip", ".zst", ".zstd", ".xz", ".bz2"):
        lowered = lowered.removesuffix(suffix)
    return lowered.endswith(CAPTURE_SUFFIXES)


class SetBuffer:
    """The members of a set mapped read-only, sliced as one buffer by virtual offset.

    It offers what the reassembly and export use of an ``mmap``: ``len``,
    ``buf[i]`` and ``buf[a:b]`` (bytes), and ``view()`` in place of
    ``memoryview(buf)`` (slices as memoryviews, no copy).  A payload never
    spans two members; a slice that does (only a corrupt offset could ask)
    is joined from both.
    """

    def __init__(self, capture_set: CaptureSet) -> None:
        self.set = capture_set
        self._bases = capture_set.bases
        self._maps: list[mmap.mmap] = []
        try:
            for path, size in zip(capture_set.paths, capture_set.sizes, strict=True):
                with open(path, "rb") as handle:
                    self._maps.append(mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ))
        except BaseException:
            self.close()
            raise
        self._size = capture_set.size

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, key: int) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> bytes: ...

    def __getitem__(self, key: int | slice) -> int | bytes:
        if isinstance(key, int):
            if key < 0:
                key += self._size
            if not 0 <= key < self._size:
                raise IndexError("SetBuffer index out of range")
            k = bisect.bisect_right(self._bases, key) - 1
            return self._maps[k][key - self._bases[k]]
        return bytes(self._slice(key))

    def _slice(self, key: slice) -> memoryview:
        start, stop, step = key.indices(self._size)
        if step != 1:
            raise ValueError("SetBuffer slices have no step")
        if stop <= start:
            return memoryview(b"")
        k = bisect.bisect_right(self._bases, start) - 1
        base, data = self._bases[k], self._maps[k]
        if stop - base <= len(data):
            return memoryview(data)[start - base : stop - base]
        return memoryview(b"".join(self._slice(s) for s in self._spans(start, stop)))

    def _spans(self, start: int, stop: int) -> Iterator[slice]:
        while start < stop:
            k = bisect.bisect_right(self._bases, start) - 1
            end = min(stop, self._bases[k] + len(self._maps[k]))
            yield slice(start, end)
            start = end

    def view(self) -> SetView:
        """Slices without copying, for a ``with`` block (as ``memoryview(mmap)`` is used)."""
        return SetView(self)

    def close(self) -> None:
        """Unmap the members (a member still viewed stays mapped until the view is gone)."""
        for data in self._maps:
            with suppress(BufferError):
                data.close()


class SetView:
    """A set's bytes sliced as memoryviews of the member maps (``SetBuffer.view``)."""

    def __init__(self, buffer: SetBuffer) -> None:
        self._buffer = buffer

    def __getitem__(self, key: slice) -> memoryview:
        return self._buffer._slice(key)

    def __len__(self) -> int:
        return len(self._buffer)

    def __enter__(self) -> SetView:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


@contextmanager
def opened(source: CaptureSet | str | os.PathLike[str]) -> Iterator[mmap.mmap | SetBuffer]:
    """A capture or a set mapped read-only for a ``with`` block (what worker processes read
    payload from; ``ranges.mapped`` for one file)."""
    from monoview.core.capture.ranges import mapped  # not at the top: ranges reads records, which reads this

    if isinstance(source, CaptureSet):
        buffer = SetBuffer(source)
        try:
            yield buffer
        finally:
            buffer.close()
    else:
        with mapped(source) as buf:
            yield buf
