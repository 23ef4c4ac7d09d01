"""Write the packets of chosen sessions as a capture: Wireshark's Export Specified Packets.

Every frame of the chosen sessions is copied as the file holds it: a pcap
record or a pcapng packet block, read by its offset in the mapped capture and
written unchanged (no packet is decoded or encoded again), through the core's
atomic writer.  A frame that completed IP datagrams brings the frames of their
fragments along, as tshark's two-pass ``-Y ... -w`` does (its "depends on"): every
fragment, those holding only headers (a tunnel's, the TCP header) too, and those of
every datagram the frame completed (an 802.11 A-MSDU may complete several).

The written format is the input's, or the one the output's name asks for:

- pcap from pcap: the global header, then the chosen records;
- pcapng from pcapng: every section header and interface description (and
  name-resolution, decryption-secret and custom blocks), then the chosen packet
  blocks, so interface numbers and link types stay as they were; interface
  statistics are left out (they counted packets that are not written), and a
  section header's length, no longer true, becomes "not given" (-1);
- pcapng from pcap: one section and one interface (the pcap's link type, snap
  length and time resolution), each record's bytes in an Enhanced Packet Block;
- pcap from pcapng: only when every written packet has one link type (pcap has
  one per file), in nanoseconds when an interface counts finer than microseconds.

The walk over the file is this module's own (block headers and record headers,
no decoding): the index knows frame numbers, not where records start.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from monoview.core.atomic import AtomicWriter, Chunk, WrittenFile
from monoview.core.capture.captureset import SetBuffer
from monoview.core.capture.frames import whole_file
from monoview.core.capture.layout import (
    BLOCK_EPB,
    BLOCK_IDB,
    BLOCK_ISB,
    BLOCK_OPB,
    BLOCK_SHB,
    BLOCK_SPB,
    PCAP_GLOBAL_HEADER,
    Layout,
    read_layout,
)  # fmt: skip
from monoview.core.capture.records import Buffer
from monoview.core.errors import ExportError
from monoview.core.sets import unique

if TYPE_CHECKING:
    from monoview.core.document import CaptureDocument

I64 = npt.NDArray[np.int64]
PCAPNG_SUFFIXES: Final = (".pcapng", ".ntar", ".scap")
PCAP_SUFFIXES: Final = (".pcap", ".cap", ".dmp")
_PACKET_BLOCKS: Final = (BLOCK_EPB, BLOCK_SPB, BLOCK_OPB)
_NO_SECTION_LENGTH: Final = b"\xff" * 8


@dataclass(frozen=True)
class Wanted:
    """What to write: frame numbers (ascending, each once)."""

    frames: I64


def output_format(out: str | os.PathLike[str], input_format: str) -> str:
    """``pcap`` or ``pcapng``: what the output's suffix names, else the input's format."""
    suffix = Path(out).suffix.lower()
    if suffix in PCAPNG_SUFFIXES:
        return "pcapng"
    if suffix in PCAP_SUFFIXES:
        return "pcap"
    return "pcapng" if input_format == "pcapng" else "pcap"


def write_packets(
    buf: Buffer, name: str, wanted: Wanted, out: str | os.PathLike[str], force: bool
) -> WrittenFile:
    """Write the wanted frames of the capture in ``buf`` to ``out`` (atomically); ExportError
    when the format cannot hold them."""
    layout = read_layout(buf, name)
    fmt = output_format(out, layout.format)
    if layout.format == "pcapng":
        chunks = (
            _from_pcapng(buf, layout, wanted) if fmt == "pcapng" else _pcapng_to_pcap(buf, layout, wanted)
        )
    else:
        chunks = _pcap_to_pcapng(buf, layout, wanted) if fmt == "pcapng" else _from_pcap(buf, layout, wanted)
    target = Path(out)
    first = list(_first(chunks))  # a refusal is raised before any file is made
    writer = AtomicWriter(str(target.parent) or ".", target.name, force)
    return writer.write(_chain(first, chunks))


def _first(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """The chunks up to the first packet's (the header, and any refusal, come first)."""
    for chunk in chunks:
        yield chunk
        if chunk is _PACKET_MARK:
            return


# Yielded once the headers are out (nothing is refused after it); empty, so never written.
_PACKET_MARK: Final = memoryview(b"")


def _chain(first: list[Chunk], rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield from first
    yield from rest


def _chosen(wanted: Wanted, frames: I64) -> npt.NDArray[np.bool_]:
    """Which of these frames are wanted."""
    return np.isin(frames, wanted.frames)


def _batches(buf: Buffer, layout: Layout) -> Iterator[tuple[I64, I64, I64, I64, I64, I64, I64]]:
    """Each batch of frames: number, data offset, captured, wire length, time, link type, interface."""
    walk = whole_file(buf, layout)
    for batch in walk.batches():
        numbers = np.arange(batch.first_frame, batch.first_frame + len(batch), dtype=np.int64)
        yield (
            numbers, batch.data.astype(np.int64), batch.caplen.astype(np.int64),
            batch.origlen.astype(np.int64), batch.ts_ns.astype(np.int64),
            batch.linktype.astype(np.int64), batch.interface.astype(np.int64),
        )  # fmt: skip


def _from_pcap(buf: Buffer, layout: Layout, wanted: Wanted) -> Iterator[Chunk]:
    view = memoryview(buf)
    yield view[:PCAP_GLOBAL_HEADER]
    yield _PACKET_MARK
    for numbers, data, caplen, *_rest in _batches(buf, layout):
        keep = _chosen(wanted, numbers)
        for start, length in zip(data[keep].tolist(), caplen[keep].tolist(), strict=True):
            yield view[start - layout.header_len : start + length]


def _pcap_to_pcapng(buf: Buffer, layout: Layout, wanted: Wanted) -> Iterator[Chunk]:
    order = layout.order
    (snaplen,) = struct.unpack_from(order + "I", buf, 16)
    yield _block(order, BLOCK_SHB, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    options = struct.pack(order + "HHB3x", 9, 1, 9) + struct.pack(order + "HH", 0, 0) if layout.nanos else b""
    yield _block(order, BLOCK_IDB, struct.pack(order + "HHI", layout.linktype, 0, snaplen) + options)
    yield _PACKET_MARK
    view = memoryview(buf)
    units = 1 if layout.nanos else 1000
    for numbers, data, caplen, origlen, ts, _link, _iface in _batches(buf, layout):
        keep = _chosen(wanted, numbers)
        for start, length, wire, when in zip(
            data[keep].tolist(), caplen[keep].tolist(), origlen[keep].tolist(), ts[keep].tolist(), strict=True
        ):
            ticks = when // units
            pad = -length % 4
            total = 32 + length + pad
            yield struct.pack(
                order + "IIIIIII", BLOCK_EPB, total, 0, ticks >> 32, ticks & 0xFFFFFFFF, length, wire
            )
            yield view[start : start + length]
            yield b"\0" * pad + struct.pack(order + "I", total)


def _block(order: str, kind: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack(order + "II", kind, total) + body + struct.pack(order + "I", total)


def _from_pcapng(buf: Buffer, layout: Layout, wanted: Wanted) -> Iterator[Chunk]:
    """Walk the blocks: headers kept, packet blocks kept when wanted."""
    keep_frames = set(wanted.frames.tolist())
    view = memoryview(buf)
    order, offset, frame, size = layout.order, 0, 0, layout.size
    while offset + 12 <= size:
        if struct.unpack_from("<I", buf, offset)[0] == BLOCK_SHB:
            order = "<" if struct.unpack_from("<I", buf, offset + 8)[0] == 0x1A2B3C4D else ">"
        kind, length = struct.unpack_from(order + "II", buf, offset)
        if length < 12 or offset + length > size:
            break  # the damage the document reported: everything before it is written
        block = view[offset : offset + length]
        if kind in _PACKET_BLOCKS:
            frame += 1
            if frame == 1:
                yield _PACKET_MARK
            if frame in keep_frames:
                yield block
        elif kind == BLOCK_SHB and length >= 24:
            yield block[:16]
            yield _NO_SECTION_LENGTH
            yield block[24:]
        elif kind != BLOCK_ISB:
            yield block
        offset += length


def _pcapng_to_pcap(buf: Buffer, layout: Layout, wanted: Wanted) -> Iterator[Chunk]:
    """One link type for all written packets, or a refusal (before anything is written)."""
    picked = []
    for numbers, data, caplen, origlen, ts, link, _iface in _batches(buf, layout):
        keep = _chosen(wanted, numbers)
        picked.append((data[keep], caplen[keep], origlen[keep], ts[keep], link[keep]))
    links = unique(np.concatenate([p[4] for p in picked])) if picked else np.zeros(0, dtype=np.int64)
    if len(links) > 1:
        kinds = ", ".join(str(int(k)) for k in links)
        raise ExportError(
            f"the chosen packets have several link types ({kinds}) and a pcap file holds one: write pcapng"
        )
    fine = any(i.units_per_second > 1_000_000 for i in layout.interfaces)
    magic = 0xA1B23C4D if fine else 0xA1B2C3D4
    snaplen = max([i.snaplen for i in layout.interfaces if i.snaplen] or [262144])
    linktype = int(links[0]) if len(links) else (layout.interfaces[0].linktype if layout.interfaces else 1)
    yield struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    yield _PACKET_MARK
    view = memoryview(buf)
    per_second = 1_000_000_000 if fine else 1_000_000
    for data, caplen, origlen, ts, _link in picked:
        for start, length, wire, when in zip(
            data.tolist(), caplen.tolist(), origlen.tolist(), ts.tolist(), strict=True
        ):
            seconds, rest = divmod(when, 1_000_000_000)
            fraction = rest if fine else rest // 1000
            yield struct.pack("<IIII", seconds, fraction % per_second, length, wire)
            yield view[start : start + length]


def frames_of(iterable: Iterable[int]) -> I64:
    """Frame numbers as the array ``Wanted`` holds."""
    return np.array(sorted(set(iterable)), dtype=np.int64)


def session_packets(document: CaptureDocument, ids: Iterable[int]) -> Wanted:
    """The frames of these sessions (ids checked), with the frames of the fragments of every
    datagram those frames completed."""
    frames: list[I64] = []
    for session_id in ids:
        row = document.session_row(session_id)
        columns = document.locator.select(document.parts, int(row["flow"]), ("frame",))
        frames.append(columns["frame"][int(row["first_row"]) : int(row["stop_row"])].astype(np.int64))
    joined = unique(np.concatenate(frames)) if frames else np.zeros(0, dtype=np.int64)
    depends = document.parts.fragment_frames
    if len(depends):
        fragments = depends[np.isin(depends[:, 0], joined), 1]
        joined = np.union1d(joined, fragments)
    return Wanted(joined)


def write_session_packets(
    document: CaptureDocument, ids: Iterable[int], out: str | os.PathLike[str], force: bool
) -> tuple[Wanted, WrittenFile]:
    """The packets of sessions ``ids`` written to ``out``; what was written.  A capture of
    several files is refused: its files may differ in format and link type, and their
    records would need one new header (``mergecap`` the files first)."""
    buf = document.buffer
    if isinstance(buf, SetBuffer):
        raise ExportError(
            f"{document.name}: writing the packets of several files as one capture is not supported; "
            "merge them with mergecap first"
        )
    wanted = session_packets(document, ids)
    return wanted, write_packets(buf, document.name, wanted, out, force)


__all__ = [
    "Wanted",
    "frames_of",
    "output_format",
    "session_packets",
    "write_packets",
    "write_session_packets",
]
