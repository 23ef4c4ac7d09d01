"""Check that decode()'s fused Ethernet/IPv4/TCP path gives what the general path gives.

For every frame of the captures named (default: every capture under
/work/shared/captures) and for many randomly damaged variants of their
Ethernet/IPv4/TCP frames (truncation, snaplen, IP total length, IHL, data
offset, fragment bits, protocol, ethertype), ``decode`` and ``decode_any`` must
return the same Skip or a TcpPacket with the same fields.  Stdlib only.

    .venv/bin/python bench/check_fastpath.py [--mutations N] [CAPTURE ...]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

from monoview.core.capture.decode import Skip, decode, decode_any
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.linktypes import Buffer
from monoview.core.capture.records import Record
from monoview.core.capture.source import CaptureFile
from monoview.core.errors import MonoviewError
from monoview.core.packet import TcpPacket

DEFAULT_DIR = Path("/work/shared/captures")
FIELDS = TcpPacket.__slots__


def _fields(result: TcpPacket | Fragment | Skip) -> object:
    if isinstance(result, Skip | Fragment):
        return result
    return tuple(getattr(result, name) for name in FIELDS)


def _same(buf: Buffer, record: Record) -> bool:
    return _fields(decode(buf, record)) == _fields(decode_any(buf, record))


def _mutate(rng: random.Random, frame: bytearray, caplen: int, origlen: int) -> tuple[bytearray, int, int]:
    """One random damage to an Ethernet/IPv4/TCP frame."""
    frame = bytearray(frame)
    what = rng.randrange(9)
    if what == 0:  # snaplen cut anywhere
        caplen = rng.randrange(0, caplen + 1)
    elif what == 1:  # IP total length anything
        struct.pack_into(">H", frame, 16, rng.choice((0, 1, 19, 20, 39, 40, 41, rng.randrange(65536))))
    elif what == 2:  # version/IHL
        frame[14] = rng.choice((0x45, 0x44, 0x46, 0x4F, 0x65, 0x05, rng.randrange(256)))
    elif what == 3:  # TCP data offset
        frame[46] = (rng.randrange(16) << 4) | (frame[46] & 0x0F)
    elif what == 4:  # fragment bits
        struct.pack_into(">H", frame, 20, rng.choice((0x4000, 0x2000, 0x0001, 0x8000, rng.randrange(65536))))
    elif what == 5:  # protocol
        frame[23] = rng.choice((6, 17, 1, rng.randrange(256)))
    elif what == 6:  # ethertype
        struct.pack_into(">H", frame, 12, rng.choice((0x0800, 0x86DD, 0x8100, 0x0806, rng.randrange(65536))))
    elif what == 7:  # origlen larger than caplen (snaplen) or smaller (nonsense)
        origlen = rng.choice((caplen + rng.randrange(1, 3000), max(0, caplen - rng.randrange(1, 60))))
    else:  # caplen shrinks and the frame claims more on the wire
        caplen = rng.randrange(0, caplen + 1)
        origlen = len(frame) + rng.randrange(0, 100)
    return frame, caplen, origlen


def check(path: Path, mutations: int, rng: random.Random) -> tuple[int, int, int]:
    """Frames checked, mutated frames checked, mismatches."""
    try:
        capture = CaptureFile.open(path)
    except MonoviewError as exc:
        print(f"skip {path.name}: {exc}")
        return 0, 0, 0
    buf = capture.buffer
    frames = mutated = bad = 0
    candidates: list[Record] = []
    try:
        for record in capture.records():
            frames += 1
            if not _same(buf, record):
                bad += 1
                print(f"MISMATCH {path.name} frame {record.frame}")
            if record.linktype == 1 and record.caplen >= 54 and len(candidates) < 2000:
                candidates.append(record)
    except MonoviewError:
        pass
    for _ in range(mutations if candidates else 0):
        record = rng.choice(candidates)
        raw = bytearray(buf[record.offset : record.offset + record.caplen])
        frame, caplen, origlen = _mutate(rng, raw, record.caplen, record.origlen)
        for _ in range(rng.randrange(3)):  # sometimes two or three damages at once
            frame, caplen, origlen = _mutate(rng, frame, caplen, origlen)
        data = bytes(8) + bytes(frame[:caplen]) + bytes(8)
        fake = Record(record.frame, record.ts_ns, 1, 0, 8, caplen, origlen)
        mutated += 1
        if not _same(data, fake):
            bad += 1
            print(f"MISMATCH {path.name} mutated frame {record.frame}: caplen {caplen} origlen {origlen} "
                  f"{bytes(frame[:60]).hex()}")
    capture.close()
    return frames, mutated, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("captures", nargs="*", type=Path)
    parser.add_argument("--mutations", type=int, default=2000, help="damaged frames per capture")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = args.captures or sorted(
        p for p in DEFAULT_DIR.rglob("*") if p.is_file() and ".pcap" in p.name and p.suffix != ".json"
    )
    rng = random.Random(args.seed)
    totals = [0, 0, 0]
    for path in paths:
        for i, n in enumerate(check(path, args.mutations, rng)):
            totals[i] += n
    print(f"frames {totals[0]} mutated {totals[1]} mismatches {totals[2]}")
    return 1 if totals[2] else 0


if __name__ == "__main__":
    sys.exit(main())
