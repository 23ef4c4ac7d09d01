"""pcapng: several sections, several interfaces, each with its own link type and
timestamp resolution.

dpkt 1.9.8 decodes every packet with the first interface's settings, so this
module walks the blocks itself.  Runs of Enhanced Packet Blocks, nearly all of
a file, are walked in a tight loop and their headers read by numpy; every
other block is taken one at a time, and the rare Interface Description Blocks
are decoded by dpkt (with their options).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.layout import (
    BLOCK_DSB,
    BLOCK_EPB,
    BLOCK_IDB,
    BLOCK_ISB,
    BLOCK_NRB,
    BLOCK_OPB,
    BLOCK_SHB,
    BLOCK_SPB,
    BYTE_ORDER_MAGIC,
    MAX_BLOCK_BYTES,
    BadInterface,
    Interface,
    Layout,
    interface_from_block,
    ticks_to_ns,
)
from monoview.core.capture.records import Buffer
from monoview.core.capture.walk import (
    I64,
    INT64_MAX,
    Damage,
    FrameBatch,
    Walk,
    coalesced,
    header_view,
)

# Block types a re-synchronisation may land on (anything else is not a boundary).
SYNC_BLOCKS: Final = frozenset(
    {BLOCK_IDB, BLOCK_OPB, BLOCK_SPB, BLOCK_NRB, BLOCK_ISB, BLOCK_EPB, BLOCK_DSB, 0xBAD, 0x40000BAD}
)


class PcapngWalk(Walk):
    """The blocks of a pcapng file that start in the walk's range.

    A walk from offset 0 reads every section header and interface
    description itself.  A walk from later in the file starts with the
    first section's interfaces (``Layout.interfaces``); if it meets another
    section header or interface description it stops and sets ``needs_whole``.
    So does a walk from offset 0 that other walks follow, when it meets a
    section header or an interface description after the first packet: the
    walks after it would read their packets with the wrong interfaces.
    """

    def batches(self) -> Iterator[FrameBatch]:
        """Override Walk.batches: Enhanced Packet Blocks in a fast loop; every other block one
        at a time, as the per-record reader always did (section headers, interfaces, simple
        and obsolete packets).  The frames of both are joined into batches of the walk's size
        (``walk.coalesced``): a file of obsolete packet blocks, or one that breaks the fast
        loop at every block, would otherwise reach the scanner one frame at a time."""
        return coalesced(_grouped(self._pieces()), self._batch)

    def _pieces(self) -> Iterator[FrameBatch | _Row]:
        """Runs of Enhanced Packet Blocks as batches, every other packet as a row, in order."""
        buf, layout = self._buf, self.layout
        size = layout.size
        order = layout.order
        from_start = self.start == 0
        interfaces: list[Interface] = [] if from_start else list(layout.interfaces)
        # Global interface numbers (section 2's interface 0 follows section 1's last).
        section_base = 0
        all_interfaces = 0 if from_start else len(interfaces)
        epb_head = _epb_dtype(order)
        view = header_view(buf, 28)
        offset = self.start
        stop = self.stop
        while offset < stop:
            # A run of Enhanced Packet Blocks, walked in Python, their headers read by numpy.
            pair = struct.Struct(order + "II").unpack_from
            offsets: list[int] = []
            append = offsets.append
            n = 0
            while offset < stop and n < self._batch and offset + 12 <= size:
                block_type, block_len = pair(buf, offset)
                if block_type != BLOCK_EPB or block_len < 32 or offset + block_len > size:
                    break  # anything unusual takes the careful path below
                append(offset)
                n += 1
                offset += block_len
            if offsets:
                batch = self._epb_batch(
                    np.array(offsets, dtype=np.int64), view, epb_head, interfaces, section_base
                )
                if batch is not None and len(batch):
                    self.frames += len(batch)
                    yield batch
                if self.damage is not None:
                    return
                if n == self._batch:
                    continue
            if offset >= stop:
                break
            # One block of another kind (or a damaged one): exactly as the per-record reader.
            if offset + 12 > size:
                self.damage = Damage(
                    "{name}: the file is cut off in a block header after frame {after}",
                    self.frames + 1,
                    offset,
                )
                return
            raw_type = struct.unpack_from("<I", buf, offset)[0]
            if raw_type == BLOCK_SHB:
                if offset != 0 and (not from_start or self._before_others()):
                    self.needs_whole = True
                    return
                (bom,) = struct.unpack_from("<I", buf, offset + 8)
                if bom == BYTE_ORDER_MAGIC:
                    order = "<"
                elif bom == 0x4D3C2B1A:
                    order = ">"
                else:
                    self.damage = Damage(
                        f"{{name}}: section header at byte {offset} has a bad byte-order magic",
                        self.frames + 1,
                        offset,
                    )
                    return
                epb_head = _epb_dtype(order)
                section_base = all_interfaces
                interfaces = []
            block_type, block_len = struct.unpack_from(order + "II", buf, offset)
            if block_len < 12 or block_len % 4 or block_len > MAX_BLOCK_BYTES:
                self.damage = Damage(
                    f"{{name}}: block at byte {offset} (after frame {{after}}) claims "
                    f"{block_len:,} bytes; the file is corrupt",
                    self.frames + 1,
                    offset,
                )
                return
            if offset + block_len > size:
                packet = block_type in (BLOCK_EPB, BLOCK_SPB, BLOCK_OPB)
                self.damage = Damage(
                    "{name}: the file is cut off in the middle of frame {frame}"
                    if packet
                    else "{name}: the file is cut off in a block after frame {after}",
                    self.frames + 1,
                    offset,
                )
                return
            if block_type == BLOCK_IDB:
                if not from_start or (offset >= layout.first_record and self._before_others()):
                    self.needs_whole = True
                    return
                try:
                    interfaces.append(
                        interface_from_block(bytes(buf[offset : offset + block_len]), order == "<")
                    )
                except BadInterface as exc:
                    self.damage = Damage(
                        f"{{name}}: interface description at byte {offset} is corrupt ({exc})",
                        self.frames + 1,
                        offset,
                    )
                    return
                all_interfaces += 1
            elif block_type in (BLOCK_EPB, BLOCK_OPB, BLOCK_SPB):
                row = self._one_packet(offset, block_type, block_len, order, interfaces, section_base)
                if row is None:
                    return
                self.frames += 1
                yield row
            offset += block_len
        self.handoff = offset

    def _before_others(self) -> bool:
        """Is this walk from the start followed by walks of later ranges?  Those start with the
        interfaces the layout read before the first packet: a section or an interface this
        walk meets later changes what their packets mean, so the file takes one walk."""
        return self.stop < self.layout.size

    def _epb_batch(
        self,
        blocks: I64,
        view: npt.NDArray[np.void],
        head: np.dtype[np.void],
        interfaces: list[Interface],
        section_base: int,
    ) -> FrameBatch | None:
        """Columns for a run of Enhanced Packet Blocks; sets ``damage`` at the first bad one."""
        size = self.layout.size
        fields = view[blocks].view(head)
        block_len = fields["len"].astype(np.int64)
        iface = fields["iface"].astype(np.int64)
        caplen = fields["caplen"].astype(np.int64)
        data = blocks + 28
        n_if = len(interfaces)
        bad_len = (block_len % 4 != 0) | (block_len > MAX_BLOCK_BYTES)
        cut = blocks + block_len > size
        bad_iface = iface >= n_if
        overrun = data + caplen > blocks + block_len - 4
        bad = bad_len | cut | bad_iface | overrun
        count = len(blocks)
        if bad.any():
            k = int(np.argmax(bad))
            frame = self.frames + k + 1
            offset = int(blocks[k])
            if bad_len[k]:
                template = (
                    f"{{name}}: block at byte {offset} (after frame {{after}}) claims "
                    f"{int(block_len[k]):,} bytes; the file is corrupt"
                )
            elif cut[k]:
                template = "{name}: the file is cut off in the middle of frame {frame}"
            elif bad_iface[k]:
                template = _unknown_interface(int(iface[k]), n_if)
            else:
                template = (
                    f"{{name}}: frame {{frame}} claims {int(caplen[k]):,} captured bytes, "
                    "more than its block holds; the file is corrupt"
                )
            self.damage = Damage(template, frame, offset)
            count = k
        if count == 0:
            return None
        fields, iface, caplen, data = fields[:count], iface[:count], caplen[:count], data[:count]
        ticks = (fields["ts_hi"].astype(np.uint64) << np.uint64(32)) | fields["ts_lo"].astype(np.uint64)
        linktype = np.empty(count, dtype=np.int32)
        ts = np.empty(count, dtype=np.int64)
        for number, spec in enumerate(interfaces):
            chosen = iface == number
            if not chosen.any():
                continue
            linktype[chosen] = spec.linktype
            ts[chosen] = self._ticks_to_ns(ticks[chosen], spec)
        return FrameBatch(
            self.frames + 1,
            data,
            caplen,
            fields["origlen"].astype(np.int64),
            ts,
            linktype,
            (iface + section_base).astype(np.int32),
        )

    def _ticks_to_ns(self, ticks: npt.NDArray[np.uint64], iface: Interface) -> I64:
        """Vectorised :func:`ticks_to_ns`; values that leave int64 are clamped to its range."""
        units = iface.units_per_second
        offset_ns = iface.offset_seconds * 1_000_000_000
        as_float = ticks.astype(np.float64) * (1e9 / units) + offset_ns
        # Both bounds: a huge if_tsoffset can cancel huge ticks in the sum, and neither would fit.
        if abs(offset_ns) < 2**61 and np.all(np.abs(as_float) < 2**62):
            if 1_000_000_000 % units == 0:
                return ticks.astype(np.int64) * (1_000_000_000 // units) + offset_ns
            if units < 1 << 33:  # remainder * 10**9 stays below 2**63
                whole, part = np.divmod(ticks, np.uint64(units))
                ns = whole.astype(np.int64) * 1_000_000_000 + (
                    part * np.uint64(1_000_000_000) // np.uint64(units)
                ).astype(np.int64)
                return ns + offset_ns
        exact = [ticks_to_ns(t, iface) for t in ticks.tolist()]
        self.clamped_timestamps += sum(1 for t in exact if not -INT64_MAX <= t <= INT64_MAX)
        return np.array([max(min(t, INT64_MAX), -INT64_MAX) for t in exact], dtype=np.int64)

    def _one_packet(
        self,
        offset: int,
        block_type: int,
        block_len: int,
        order: str,
        interfaces: list[Interface],
        section_base: int,
    ) -> _Row | None:
        """A Simple, obsolete or unusual Enhanced Packet Block as a row (None on damage)."""
        buf = self._buf
        frame = self.frames + 1
        body = offset + 8
        if block_len < (16 if block_type == BLOCK_SPB else 32):
            self.damage = Damage(
                f"{{name}}: frame {{frame}} is in a block of {block_len} bytes, too short for its header; "
                "the file is corrupt",
                frame,
                offset,
            )
            return None
        if block_type == BLOCK_EPB:
            iface_id, ts_hi, ts_lo, caplen, origlen = struct.unpack_from(order + "IIIII", buf, body)
            data = body + 20
        elif block_type == BLOCK_OPB:
            iface_id, _drops, ts_hi, ts_lo, caplen, origlen = struct.unpack_from(order + "HHIIII", buf, body)
            data = body + 20
        else:
            iface_id, ts_hi, ts_lo = 0, 0, 0
            (origlen,) = struct.unpack_from(order + "I", buf, body)
            data = body + 4
            caplen = min(origlen, offset + block_len - 4 - data)
        if iface_id >= len(interfaces):
            self.damage = Damage(_unknown_interface(iface_id, len(interfaces)), frame, offset)
            return None
        if data + caplen > offset + block_len - 4:
            self.damage = Damage(
                f"{{name}}: frame {{frame}} claims {caplen:,} captured bytes, "
                "more than its block holds; the file is corrupt",
                frame,
                offset,
            )
            return None
        spec = interfaces[iface_id]
        ns = ticks_to_ns((ts_hi << 32) | ts_lo, spec)
        if not -INT64_MAX <= ns <= INT64_MAX:
            self.clamped_timestamps += 1
            ns = max(min(ns, INT64_MAX), -INT64_MAX)
        return (frame, data, caplen, origlen, ns, spec.linktype, section_base + iface_id)


# One frame read by the careful path: frame, data offset, caplen, origlen, ns, link type, interface.
_Row = tuple[int, int, int, int, int, int, int]


def _grouped(pieces: Iterator[FrameBatch | _Row]) -> Iterator[FrameBatch]:
    """The pieces with each run of consecutive rows made one batch (numpy once per run, not
    once per frame)."""
    rows: list[_Row] = []
    for piece in pieces:
        if isinstance(piece, tuple):
            rows.append(piece)
            continue
        if rows:
            yield _rows_batch(rows)
            rows = []
        yield piece
    if rows:
        yield _rows_batch(rows)


def _rows_batch(rows: list[_Row]) -> FrameBatch:
    _frames, data, caplen, origlen, ts, link, iface = zip(*rows, strict=True)
    return FrameBatch(
        rows[0][0],
        np.array(data, dtype=np.int64),
        np.array(caplen, dtype=np.int64),
        np.array(origlen, dtype=np.int64),
        np.array(ts, dtype=np.int64),
        np.array(link, dtype=np.int32),
        np.array(iface, dtype=np.int32),
    )


def _unknown_interface(number: int, described: int) -> str:
    return f"{{name}}: frame {{frame}} names interface {number}, but only {described} are described"


def _epb_dtype(order: str) -> np.dtype[np.void]:
    names = ["type", "len", "iface", "ts_hi", "ts_lo", "caplen", "origlen"]
    return np.dtype(
        {"names": names, "formats": [order + "u4"] * 7, "offsets": [0, 4, 8, 12, 16, 20, 24], "itemsize": 28}
    )


def plausible_block(buf: Buffer, layout: Layout, offset: int) -> int | None:
    """Where the next block starts if a sane pcapng block is at ``offset``."""
    if offset + 12 > layout.size:
        return None
    block_type, block_len = struct.unpack_from(layout.order + "II", buf, offset)
    if block_type not in SYNC_BLOCKS or block_len < 12 or block_len % 4 or block_len > MAX_BLOCK_BYTES:
        return None
    following = offset + block_len
    if following > layout.size:
        return None
    (trailer,) = struct.unpack_from(layout.order + "I", buf, following - 4)
    return following if trailer == block_len else None
