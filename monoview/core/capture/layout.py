"""What a capture file is, read once from its first bytes: format, byte order,
record header size, link type (pcap) or the first section's interfaces (pcapng).

Every walk of the file, in this process or in a worker, starts from a Layout,
so the header is checked once and its facts travel to workers as a small value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from monoview.core.capture.records import MAX_RECORD_BYTES, Buffer
from monoview.core.capture.unpacked import compression_of
from monoview.core.errors import CaptureFormatError

# magic as read little-endian -> (byte order, nanoseconds?, record header length)
PCAP_MAGICS: Final = {
    0xA1B2C3D4: ("<", False, 16),
    0xD4C3B2A1: (">", False, 16),
    0xA1B23C4D: ("<", True, 16),
    0x4D3CB2A1: (">", True, 16),
    0xA1B2CD34: ("<", False, 24),  # modified (Kuznetsov) pcap
    0x34CDB2A1: (">", False, 24),
}
PCAP_GLOBAL_HEADER: Final = 24

BLOCK_SHB: Final = 0x0A0D0D0A
BLOCK_IDB: Final = 0x00000001
BLOCK_OPB: Final = 0x00000002  # obsolete Packet Block
BLOCK_SPB: Final = 0x00000003
BLOCK_NRB: Final = 0x00000004
BLOCK_ISB: Final = 0x00000005
BLOCK_EPB: Final = 0x00000006
BLOCK_DSB: Final = 0x0000000A
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


@dataclass(frozen=True)
class Layout:
    """The facts about a capture that every walk needs, read once from its start.

    For pcapng they describe the first section; a walk that meets another
    section header or interface description far into the file cannot know the
    interfaces declared before its range, and says so (``Walk.needs_whole``).
    """

    format: str  # "pcap", "pcap-ns", "pcapng"
    size: int
    first_record: int  # offset of the first record (pcap) or of the first block after the header blocks
    order: str = "<"
    header_len: int = 16  # pcap record header
    nanos: bool = False
    linktype: int = 0  # pcap only
    interfaces: tuple[Interface, ...] = ()  # pcapng: the first section's, before any packet


def read_layout(buf: Buffer, name: str) -> Layout:
    """Check the file's magic and header; raise CaptureFormatError if it is no capture."""
    size = len(buf)
    if size < 4:
        raise CaptureFormatError(f"{name}: {size} bytes is too short to be a capture")
    (magic,) = struct.unpack_from("<I", buf, 0)
    if magic in PCAP_MAGICS:
        if size < PCAP_GLOBAL_HEADER:
            raise CaptureFormatError(f"{name}: pcap header is cut off ({size} bytes)")
        order, nanos, header_len = PCAP_MAGICS[magic]
        (linktype,) = struct.unpack_from(order + "I", buf, 20)
        linktype &= 0x0FFFFFFF  # upper bits carry FCS length flags (pcap-linktype(7))
        return Layout(
            "pcap-ns" if nanos else "pcap",
            size,
            PCAP_GLOBAL_HEADER,
            order=order,
            header_len=header_len,
            nanos=nanos,
            linktype=linktype,
        )
    if magic == BLOCK_SHB:
        if size < 28:
            raise CaptureFormatError(f"{name}: pcapng section header is cut off")
        (bom,) = struct.unpack_from("<I", buf, 8)
        if bom not in (BYTE_ORDER_MAGIC, 0x4D3C2B1A):
            raise CaptureFormatError(f"{name}: pcapng section header has a bad byte-order magic")
        return _pcapng_layout(buf, size, "<" if bom == BYTE_ORDER_MAGIC else ">")
    how = compression_of(bytes(buf[:6]))
    if how is not None:  # only the per-packet reader gets here: documents decompress first
        raise CaptureFormatError(
            f"{name}: the capture is {how}-compressed; decompress it first (monoview reads pcap and pcapng)"
        )
    raise CaptureFormatError(
        f"{name}: not a pcap or pcapng capture (the file starts with {bytes(buf[:4]).hex()})"
    )


def _pcapng_layout(buf: Buffer, size: int, order: str) -> Layout:
    """The first section's interfaces, from the blocks before its first packet.

    Anything odd here (a damaged block) just ends the look-ahead: the walk
    from offset 0 meets the same block and reports it properly.
    """
    interfaces: list[Interface] = []
    offset = 0
    while offset + 12 <= size:
        block_type, block_len = struct.unpack_from(order + "II", buf, offset)
        if block_len < 12 or block_len % 4 or block_len > MAX_BLOCK_BYTES or offset + block_len > size:
            break
        if offset and block_type == BLOCK_SHB:
            break
        if block_type in (BLOCK_EPB, BLOCK_SPB, BLOCK_OPB):
            break
        if block_type == BLOCK_IDB:
            try:
                interfaces.append(interface_from_block(bytes(buf[offset : offset + block_len]), order == "<"))
            except BadInterface:
                break
        offset += block_len
    return Layout("pcapng", size, offset, order=order, interfaces=tuple(interfaces))


class BadInterface(Exception):
    """An Interface Description Block dpkt cannot decode (its text says why)."""


def interface_from_block(block: bytes, little: bool) -> Interface:
    """Decode an IDB through dpkt, including the options that change timestamps.

    dpkt is imported here, not at the top: it takes longer to import than a
    small capture takes to read, and only pcapng interface blocks need it.
    """
    import dpkt

    idb_class = dpkt.pcapng.InterfaceDescriptionBlockLE if little else dpkt.pcapng.InterfaceDescriptionBlock
    try:
        idb = idb_class(block)
    except (dpkt.UnpackError, struct.error, ValueError) as exc:
        raise BadInterface(str(exc)) from exc
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

def ticks_to_ns(ticks: int, iface: Interface) -> int:
    """Interface timestamp units to integer nanoseconds since the epoch (exact, Python ints)."""
    units = iface.units_per_second
    if units == 1_000_000_000:
        ns = ticks
    elif 1_000_000_000 % units == 0:
        ns = ticks * (1_000_000_000 // units)
    else:
        ns = ticks * 1_000_000_000 // units
    return ns + iface.offset_seconds * 1_000_000_000
