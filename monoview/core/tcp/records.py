"""The records reassembly produces besides bytes: gaps and conflicts."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import NamedTuple, overload


class GapCause(Enum):
    """Why bytes of a stream are absent from the capture."""

    NOT_CAPTURED = "not captured"  # the segment never reached the capture point
    SNAPLEN = "snaplen"  # the segment was captured, its tail cut by snaplen
    END = "end"  # after the last captured byte: the sender's FIN or the peer's ACK says more was sent


class Gap(NamedTuple):
    """``length`` bytes missing at stream ``offset`` (offsets count every byte on the wire).

    ``acked`` is true when the peer acknowledged past the hole, i.e. the
    receiver got bytes that the capture did not.
    """

    offset: int
    length: int
    acked: bool
    cause: GapCause


class Conflict(NamedTuple):
    """Two copies of the same stream bytes that differ.

    The first copy is the one kept in the stream; both can be read back from
    the capture file at their file offsets.
    """

    offset: int
    length: int
    kept_frame: int
    kept_file_offset: int
    other_frame: int
    other_file_offset: int


class ConflictList(Sequence[Conflict]):
    """A direction's conflicts as six integer columns, read back as :class:`Conflict` values.

    48 bytes a conflict instead of about 230 for a tuple of six ints: a hostile capture
    (100,000 one-byte segments, each re-sending the bytes before it with other content)
    makes 244,000 of them.
    """

    __slots__ = ("_columns",)

    def __init__(self) -> None:
        self._columns: tuple[array[int], ...] = ()  # made on the first conflict (most streams have none)

    def add(
        self, offset: int, length: int, kept_frame: int, kept_file_offset: int, other_frame: int,
        other_file_offset: int,
    ) -> None:  # fmt: skip
        """Record one conflict."""
        if not self._columns:
            self._columns = tuple(array("q") for _ in Conflict._fields)
        for column, value in zip(
            self._columns,
            (offset, length, kept_frame, kept_file_offset, other_frame, other_file_offset),
            strict=True,
        ):
            column.append(value)

    def __len__(self) -> int:
        return len(self._columns[0]) if self._columns else 0

    @overload
    def __getitem__(self, index: int) -> Conflict: ...

    @overload
    def __getitem__(self, index: slice) -> list[Conflict]: ...

    def __getitem__(self, index: int | slice) -> Conflict | list[Conflict]:
        if not self._columns:
            if isinstance(index, slice):
                return []
            raise IndexError(index)
        if isinstance(index, slice):
            return [Conflict(*values) for values in zip(*(c[index] for c in self._columns), strict=True)]
        return Conflict(*(c[index] for c in self._columns))

    def __iter__(self) -> Iterator[Conflict]:
        for values in zip(*self._columns, strict=True):
            yield Conflict(*values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConflictList):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ConflictList({list(self)!r})"
