"""The per-record pcap and pcapng readers as they were before the batch walker
(monoview 0.x, commit 55465f2): an independent reference that the walker's
frames, times and error messages are checked against.

Kept verbatim apart from imports; do not "fix" it, it is the specification.
"""
# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, NoReturn

import dpkt

from monoview.core.capture.records import MAX_RECORD_BYTES, Buffer, Record
from monoview.core.errors import CaptureFormatError, CaptureReadError

# magic as read little-endian -> (byte order, nanoseconds?, record header length)
MAGICS: Final = {
    0xA1B2C3D4: ("<", False, 16),
    0xD4C3B2A1: (">", False, 16),
    0xA1B23C4D: ("<", True, 16),
    0x4D3CB2A1: (">", True, 16),
    0xA1B2CD34: ("<", False, 24),  # modified (Kuznetsov) pcap
    0x34CDB2A1: (">", False, 24),
}
GLOBAL_HEADER_LEN: Final = 24


def read_pcap(buf: Buffer, name: str) -> Iterator[Record]:
    """Yield every record of a classic pcap held in ``buf`` (usually an mmap).

    Raises CaptureFormatError for a bad global header and CaptureReadError,
    after yielding every complete record, when the file is damaged.
    """
    size = len(buf)
    if size < GLOBAL_HEADER_LEN:
        raise CaptureFormatError(f"{name}: pcap header is cut off ({size} bytes)")
    (magic,) = struct.unpack_from("<I", buf, 0)
    order, nanos, header_len = MAGICS[magic]
    _vmaj, _vmin, _zone, _sigfigs, _snaplen, linktype = struct.unpack_from(order + "HHiIII", buf, 4)
    linktype &= 0x0FFFFFFF  # upper bits carry FCS length flags (pcap-linktype(7))
    frac_scale = 1 if nanos else 1000
    unpack_header = struct.Struct(order + "IIII").unpack_from
    new_record = tuple.__new__  # Record(...) without the namedtuple's Python-level __new__
    record_type = Record
    offset = GLOBAL_HEADER_LEN
    last_header = size - header_len  # a record header starting past this is cut off
    frame = 0
    while offset <= last_header:
        sec, frac, caplen, origlen = unpack_header(buf, offset)
        data = offset + header_len
        following = data + caplen
        if following > size or caplen > MAX_RECORD_BYTES:
            _damaged(name, frame + 1, offset, caplen)
        frame += 1
        yield new_record(
            record_type, (frame, sec * 1_000_000_000 + frac * frac_scale, linktype, 0, data, caplen, origlen)
        )
        offset = following
    if offset < size:
        raise CaptureReadError(
            f"{name}: the file is cut off in the header of frame {frame + 1}",
            frame + 1,
            offset,
        )


def _damaged(name: str, frame: int, offset: int, caplen: int) -> NoReturn:
    """Raise the CaptureReadError for a record whose length is corrupt or runs past the end."""
    if caplen > MAX_RECORD_BYTES:
        raise CaptureReadError(
            f"{name}: frame {frame} claims {caplen:,} captured bytes; the record is corrupt",
            frame,
            offset,
        )
    raise CaptureReadError(
        f"{name}: the file is cut off in the middle of frame {frame}",
        frame,
        offset,
    )


BLOCK_SHB: Final = 0x0A0D0D0A
BLOCK_IDB: Final = 0x00000001
BLOCK_OPB: Final = 0x00000002  # obsolete Packet Block
BLOCK_SPB: Final = 0x00000003
BLOCK_EPB: Final = 0x00000006
BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
OPT_IF_TSRESOL: Final = 9
OPT_IF_TSOFFSET: Final = 14
MAX_BLOCK_BYTES: Final = MAX_RECORD_BYTES + 4096


@dataclass(frozen=True, slots=True)
class Interface:
    """What an Interface Description Block says about the packets that name it."""

    linktype: int
    snaplen: int
    units_per_second: int  # timestamp units per second (10**6 unless if_tsresol)
    offset_seconds: int  # if_tsoffset, added to every timestamp


def _interface(buf: bytes, little: bool) -> Interface:
    """Decode an IDB through dpkt, including the options that change timestamps."""
    idb_class = dpkt.pcapng.InterfaceDescriptionBlockLE if little else dpkt.pcapng.InterfaceDescriptionBlock
    idb = idb_class(buf)
    units = 1_000_000
    offset_seconds = 0
    order = "<" if little else ">"
    for opt in getattr(idb, "opts", []):
        if opt.code == OPT_IF_TSRESOL and len(opt.data) >= 1:
            resol = opt.data[0]
            units = 2 ** (resol & 0x7F) if resol & 0x80 else 10 ** (resol & 0x7F)
        elif opt.code == OPT_IF_TSOFFSET and len(opt.data) >= 8:
            (offset_seconds,) = struct.unpack_from(order + "q", opt.data, 0)
    return Interface(idb.linktype, idb.snaplen, units, offset_seconds)


def _to_ns(ticks: int, iface: Interface) -> int:
    """Convert interface timestamp units to integer nanoseconds since the epoch."""
    units = iface.units_per_second
    if units == 1_000_000_000:
        ns = ticks
    elif 1_000_000_000 % units == 0:
        ns = ticks * (1_000_000_000 // units)
    else:
        ns = ticks * 1_000_000_000 // units
    return ns + iface.offset_seconds * 1_000_000_000


def read_pcapng(buf: Buffer, name: str) -> Iterator[Record]:
    """Yield every packet record of a pcapng file held in ``buf``.

    Interface numbers in the records are global across sections (section 2's
    interface 0 follows section 1's last), so sessions can tell them apart.
    """
    size = len(buf)
    offset = 0
    frame = 0
    order = "<"
    interfaces: list[Interface] = []
    section_base = 0  # global index of this section's interface 0
    all_interfaces = 0
    while offset < size:
        if offset + 12 > size:
            raise CaptureReadError(
                f"{name}: the file is cut off in a block header after frame {frame}",
                frame + 1,
                offset,
            )
        raw_type = struct.unpack_from("<I", buf, offset)[0]
        if raw_type == BLOCK_SHB:
            (bom,) = struct.unpack_from("<I", buf, offset + 8)
            if bom == BYTE_ORDER_MAGIC:
                order = "<"
            elif bom == 0x4D3C2B1A:
                order = ">"
            else:
                raise CaptureReadError(
                    f"{name}: section header at byte {offset} has a bad byte-order magic",
                    frame + 1,
                    offset,
                )
            section_base = all_interfaces
            interfaces = []
        block_type, block_len = struct.unpack_from(order + "II", buf, offset)
        if block_len < 12 or block_len % 4 or block_len > MAX_BLOCK_BYTES:
            raise CaptureReadError(
                f"{name}: block at byte {offset} (after frame {frame}) claims "
                f"{block_len:,} bytes; the file is corrupt",
                frame + 1,
                offset,
            )
        if offset + block_len > size:
            raise CaptureReadError(
                f"{name}: the file is cut off in the middle of frame {frame + 1}"
                if block_type in (BLOCK_EPB, BLOCK_SPB, BLOCK_OPB)
                else f"{name}: the file is cut off in a block after frame {frame}",
                frame + 1,
                offset,
            )
        body = offset + 8
        if block_type == BLOCK_IDB:
            try:
                interfaces.append(_interface(bytes(buf[offset : offset + block_len]), order == "<"))
            except (dpkt.UnpackError, struct.error, ValueError) as exc:
                raise CaptureReadError(
                    f"{name}: interface description at byte {offset} is corrupt ({exc})",
                    frame + 1,
                    offset,
                ) from exc
            all_interfaces += 1
        elif block_type in (BLOCK_EPB, BLOCK_OPB, BLOCK_SPB):
            frame += 1
            if block_type == BLOCK_EPB:
                iface_id, ts_hi, ts_lo, caplen, origlen = struct.unpack_from(order + "IIIII", buf, body)
                data = body + 20
            elif block_type == BLOCK_OPB:
                iface_id, _drops, ts_hi, ts_lo, caplen, origlen = struct.unpack_from(
                    order + "HHIIII", buf, body
                )
                data = body + 20
            else:
                iface_id, ts_hi, ts_lo = 0, 0, 0
                (origlen,) = struct.unpack_from(order + "I", buf, body)
                data = body + 4
                caplen = min(origlen, offset + block_len - 4 - data)
            if iface_id >= len(interfaces):
                raise CaptureReadError(
                    f"{name}: frame {frame} names interface {iface_id}, "
                    f"but only {len(interfaces)} are described",
                    frame,
                    offset,
                )
            if data + caplen > offset + block_len - 4:
                raise CaptureReadError(
                    f"{name}: frame {frame} claims {caplen:,} captured bytes, "
                    "more than its block holds; the file is corrupt",
                    frame,
                    offset,
                )
            iface = interfaces[iface_id]
            yield Record(
                frame,
                _to_ns((ts_hi << 32) | ts_lo, iface),
                iface.linktype,
                section_base + iface_id,
                data,
                caplen,
                origlen,
            )
        offset += block_len


def check_pcapng_header(buf: Buffer, name: str) -> None:
    """Raise CaptureFormatError unless ``buf`` starts with a sane section header."""
    if len(buf) < 28:
        raise CaptureFormatError(f"{name}: pcapng section header is cut off")
    (bom,) = struct.unpack_from("<I", buf, 8)
    if bom not in (BYTE_ORDER_MAGIC, 0x4D3C2B1A):
        raise CaptureFormatError(f"{name}: pcapng section header has a bad byte-order magic")
