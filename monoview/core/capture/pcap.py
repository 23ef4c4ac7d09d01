"""Classic pcap: both byte orders, microsecond and nanosecond timestamps, and
the "modified" format of Alexey Kuznetsov's patched libpcap (8 more bytes per
record header: interface index, protocol, packet type).

The record headers are walked with ``struct`` over the memory map: dpkt's
``pcap.Reader`` copies every packet into a new ``bytes``, which is what this
module exists to avoid.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final, NoReturn

from monoview.core.capture.linktypes import Buffer
from monoview.core.capture.records import MAX_RECORD_BYTES, Record
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
    _vmaj, _vmin, _zone, _sigfigs, _snaplen, linktype = struct.unpack_from(
        order + "HHiIII", buf, 4
    )
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
