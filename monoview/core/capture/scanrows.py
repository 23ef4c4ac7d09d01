"""The scanner's columns: frames in (a batch's, as numpy), TCP rows out, and the
big-endian field readers both sides use.

``scan.Scanner`` turns ``FrameColumns`` into ``Rows``; the flow keys and the
index ranges read ``Rows``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.records import Record
from monoview.core.capture.walk import FrameBatch
from monoview.core.packet import TcpPacket

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bool = npt.NDArray[np.bool_]

DTYPES: Final = {
    "frame": np.int64, "ts": np.int64, "payload": np.int64, "caplen": np.int64, "wirelen": np.int64,
    "seq": np.int64, "ack": np.int64, "flags": np.int64, "window": np.int64, "interface": np.int64,
    "vlan": np.int64, "family": np.int64, "src_hi": np.uint64, "src_lo": np.uint64, "dst_hi": np.uint64,
    "dst_lo": np.uint64, "sport": np.int64, "dport": np.int64, "path": np.int64,
}  # fmt: skip


@dataclass
class Rows:
    """TCP packets as columns, in frame order, with what names their flow.

    ``family`` is 4 or 6; an address is two 64-bit halves (IPv4 in ``lo``);
    ``vlan`` indexes ``contexts``, the VLAN tag tuples seen (outermost first); ``path``
    indexes the scanner's outer paths (``outerpath.PathTable``), context that is not key.
    """

    frame: I64
    ts: I64
    payload: I64  # file offset of the first payload byte
    caplen: I64  # payload bytes captured
    wirelen: I64  # payload bytes on the wire
    seq: I64
    ack: I64
    flags: I64
    window: I64
    interface: I64
    vlan: I64
    family: I64
    src_hi: U64
    src_lo: U64
    dst_hi: U64
    dst_lo: U64
    sport: I64
    dport: I64
    path: I64

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def empty(cls) -> Rows:
        """No rows."""
        return cls(**{name: np.zeros(0, dtype=DTYPES[name]) for name in DTYPES})

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        """Rows of several batches, in the order given."""
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in DTYPES})

    def take(self, index: npt.NDArray[np.intp] | Bool) -> Rows:
        """The rows selected by ``index`` (positions or a mask)."""
        return Rows(**{name: getattr(self, name)[index] for name in DTYPES})


@dataclass
class FrameColumns:
    """The columns of a frame batch that decoding needs, with frame numbers made absolute."""

    frame: I64
    ts: I64
    data: I64
    caplen: I64
    origlen: I64
    linktype: npt.NDArray[np.int32]
    interface: I64

    @classmethod
    def of(cls, batch: FrameBatch, frames_before: int) -> FrameColumns:
        first = frames_before + batch.first_frame
        return cls(
            np.arange(first, first + len(batch), dtype=np.int64),
            batch.ts_ns,
            batch.data,
            batch.caplen,
            batch.origlen,
            batch.linktype,
            batch.interface.astype(np.int64),
        )

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def end(self) -> I64:
        """Captured end of each frame."""
        return self.data + self.caplen

    @property
    def wire_end(self) -> I64:
        """Where each frame ended on the wire (beyond ``end`` when snaplen cut it)."""
        extra: I64 = np.maximum(self.origlen - self.caplen, 0)
        return self.end + extra

    def take(self, index: npt.NDArray[np.intp]) -> FrameColumns:
        return FrameColumns(
            self.frame[index],
            self.ts[index],
            self.data[index],
            self.caplen[index],
            self.origlen[index],
            self.linktype[index],
            self.interface[index],
        )

    def records(self) -> list[Record]:
        columns = (self.frame, self.ts, self.linktype, self.interface, self.data, self.caplen, self.origlen)
        return [Record(*values) for values in zip(*(c.tolist() for c in columns), strict=True)]


def be16(block: npt.NDArray[np.uint8], at: int) -> I64:
    return block[:, at].astype(np.int64) << 8 | block[:, at + 1]


def be32(block: npt.NDArray[np.uint8], at: int) -> I64:
    return np.ascontiguousarray(block[:, at : at + 4]).view(">u4").ravel().astype(np.int64)


def be64(block: npt.NDArray[np.uint8], at: int) -> U64:
    return np.ascontiguousarray(block[:, at : at + 8]).view(">u8").ravel().astype(np.uint64)


def ethertype_version(ethertype: I64) -> I64:
    return np.where(ethertype == 0x0800, 4, np.where(ethertype == 0x86DD, 6, 0))


def halves(addresses: list[bytes]) -> tuple[U64, U64]:
    """Addresses as (high, low) 64-bit halves; IPv4 in the low half."""
    hi = [int.from_bytes(a[:8], "big") if len(a) == 16 else 0 for a in addresses]
    lo = [int.from_bytes(a[8:], "big") if len(a) == 16 else int.from_bytes(a, "big") for a in addresses]
    return np.array(hi, dtype=np.uint64), np.array(lo, dtype=np.uint64)


def packet_rows(
    packets: list[TcpPacket],
    context: Callable[[tuple[int, ...]], int],
    path: Callable[[tuple[str, ...]], int],
) -> Rows:
    """Rows for decoded packets (the one-by-one path, reassembled fragments); ``context``
    gives the id of a VLAN tag tuple, ``path`` that of an outer path."""
    if not packets:
        return Rows.empty()
    src_hi, src_lo = halves([p.src for p in packets])
    dst_hi, dst_lo = halves([p.dst for p in packets])

    def column(values: list[int]) -> I64:
        return np.array(values, dtype=np.int64)

    return Rows(
        frame=column([p.frame for p in packets]),
        ts=column([p.ts_ns for p in packets]),
        payload=column([p.payload_offset for p in packets]),
        caplen=column([p.payload_caplen for p in packets]),
        wirelen=column([p.payload_len for p in packets]),
        seq=column([p.seq for p in packets]),
        ack=column([p.ack for p in packets]),
        flags=column([p.flags for p in packets]),
        window=column([p.window for p in packets]),
        interface=column([p.interface for p in packets]),
        vlan=column([context(p.vlan) for p in packets]),
        family=column([6 if len(p.src) == 16 else 4 for p in packets]),
        src_hi=src_hi,
        src_lo=src_lo,
        dst_hi=dst_hi,
        dst_lo=dst_lo,
        sport=column([p.sport for p in packets]),
        dport=column([p.dport for p in packets]),
        path=column([path(p.path) for p in packets]),
    )
