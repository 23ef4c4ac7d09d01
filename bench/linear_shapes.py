"""Scaling lines for the input shapes that once cost the square of their size (issue 12).

Each shape is generated at 1x, 2x and 4x its base size; each size is run as a
user would run it (``monoview sessions`` or ``monoview export``), and the CPU
seconds (user + system, the command and its worker processes), the peak
resident memory of the biggest process ("peak MB": it counts the mapped
capture and index files too) and the largest own memory (RssAnon, sampled
every 10 ms: "own MB") are printed.  Linear work shows as
time ratios of about 1 : 2 : 4; a bounded one (vlan tags, fragments past the
cap, zero-fill past the budget) as flat lines.

    .venv/bin/python bench/linear_shapes.py                 # every shape
    .venv/bin/python bench/linear_shapes.py syn-storm -x 2  # one shape, base size doubled

The captures are generated under --tmp (default /tmp/monoview-shapes) and kept,
so a second run only measures.  Correctness of each shape is the tests' job
(tests/core/test_linear_time.py and the others named below); this only times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pcapgen import (  # noqa: E402
    ACK,
    FIN,
    PSH,
    SYN,
    Conversation,
    Frame,
    ethernet,
    ipv4_tcp_frame,
    raw_pcap,
    tcp_ip,
    write_pcap,
)  # fmt: skip

MONOVIEW = [sys.executable, "-m", "monoview"]
START_NS = 1_700_000_000_000_000_000


# -- the shapes ------------------------------------------------------------------


def dup_acks(path: Path, n: int, reverse: bool = False) -> Path:
    """One segment lost (sent last), then ``n`` segments each answered by a duplicate ACK."""
    conv = Conversation()
    conv.handshake()
    size = 100
    order = list(range(1, n + 1))
    if reverse:
        order.reverse()
    for k in order:
        conv.segment(True, k * size, bytes([k & 0xFF]) * size)
        conv.ack(False)
    conv.segment(True, 0, b"0" * size)
    conv.c_next += (n + 1) * size
    conv.ack(False)
    return write_pcap(path, conv.frames)


def dup_acks_reversed(path: Path, n: int) -> Path:
    """As ``dup_acks``, the segments in reverse order."""
    return dup_acks(path, n, reverse=True)


def fragments(path: Path, n: int) -> Path:
    """``n`` 8-byte fragments of one IPv4 datagram, the last one first, the others covering its
    8,000 slots over and over (duplicates): past the per-datagram cap it is given up, and the
    rest must cost no more than reading them."""
    slots = 8000
    payload = tcp_ip(("10.0.0.1", 40000), ("10.0.0.2", 80), 1001, 0, PSH | ACK, b"x" * (8 * slots - 20))[20:]
    frames = []
    for j in range(n):
        k = slots - 1 if j == 0 else (j - 1) % (slots - 1)
        more = 0x2000 if k < slots - 1 else 0
        piece = payload[8 * k : 8 * k + 8]
        header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(piece), 7, more | k, 64, 6, 0,
                             bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))  # fmt: skip
        frames.append(Frame(START_NS + j * 1000, ethernet(header + piece)))
    return write_pcap(path, frames)


def vlan_tags(path: Path, n: int) -> Path:
    """A frame whose Ethernet header carries ``n`` stacked VLAN tags (malformed past the cap)."""
    conv = Conversation()
    conv.handshake()
    frame = conv.frames[0].data
    stack = b"".join(struct.pack(">HH", 0x8100, k & 0xFFF) for k in range(n))
    conv.frames[0] = Frame(conv.frames[0].ts_ns, frame[:12] + stack + frame[12:])
    return write_pcap(path, conv.frames)


def holes_before_monologues(path: Path, n: int) -> Path:
    """``n`` exchanges; each request starts after a 10-byte hole the server ACKs past."""
    conv = Conversation()
    conv.handshake()
    for _ in range(n):
        conv.c_next += 10
        conv.send(True, b"request!")
        conv.send(False, b"answer")
    return write_pcap(path, conv.frames)


def syn_storm(path: Path, n: int) -> Path:
    """``n`` SYNs to distinct 4-tuples, nothing else: every one is a session attempt."""
    return raw_pcap(
        path,
        (ipv4_tcp_frame(0x0A000000 + (k >> 8), 1024 + (k & 0xFF), 0xC0000201, 80, k * 7919, 0, SYN, b"")
         for k in range(n)),
    )  # fmt: skip


def one_byte_monologues(path: Path, n: int) -> Path:
    """One connection of ``n`` one-byte monologues, each side in turn."""

    def frames() -> Iterator[bytes]:
        c, s = (0x0A000001, 40000), (0x0A000002, 80)
        cs, ss = 1000, 5000
        yield ipv4_tcp_frame(*c, *s, cs, 0, SYN, b"")
        yield ipv4_tcp_frame(*s, *c, ss, cs + 1, SYN | ACK, b"")
        cs, ss = cs + 1, ss + 1
        yield ipv4_tcp_frame(*c, *s, cs, ss, ACK, b"")
        for k in range(n):
            if k % 2 == 0:
                yield ipv4_tcp_frame(*c, *s, cs, ss, PSH | ACK, b"c")
                cs += 1
            else:
                yield ipv4_tcp_frame(*s, *c, ss, cs, PSH | ACK, b"s")
                ss += 1
        yield ipv4_tcp_frame(*c, *s, cs, ss, FIN | ACK, b"")
        yield ipv4_tcp_frame(*s, *c, ss, cs + 1, FIN | ACK, b"")
        yield ipv4_tcp_frame(*c, *s, cs + 1, ss + 1, ACK, b"")

    return raw_pcap(path, frames())


def sessions_with_holes(path: Path, n: int) -> Path:
    """``n`` sessions, each a byte, a 3 MiB hole and a byte: zero-filling them all would write
    3 MiB a session, the export's budget stops it at 64 MiB (tests/core/test_fuzz_findings.py)."""
    hole = 3 << 20

    def frames() -> Iterator[bytes]:
        for k in range(n):
            c, s = (0x0A000000 + (k >> 8) + 1, 1024 + (k & 0xFF)), (0xC0000201, 80)
            yield ipv4_tcp_frame(*c, *s, 1000, 0, SYN, b"")
            yield ipv4_tcp_frame(*s, *c, 5000, 1001, SYN | ACK, b"")
            yield ipv4_tcp_frame(*c, *s, 1001, 5001, ACK, b"")
            yield ipv4_tcp_frame(*c, *s, 1001, 5001, PSH | ACK, b"a")
            yield ipv4_tcp_frame(*c, *s, 1002 + hole, 5001, PSH | ACK, b"b")
            yield ipv4_tcp_frame(*s, *c, 5001, 1003 + hole, ACK, b"")

    return raw_pcap(path, frames())


@dataclass(frozen=True)
class Shape:
    name: str
    make: Callable[[Path, int], Path]
    base: int
    command: tuple[str, ...]  # "sessions" or "export", with options
    test: str  # where its result is checked


SHAPES = [
    Shape("dup-acks", dup_acks, 20_000, ("sessions",), "test_linear_time.py::test_duplicate_acks_*"),
    Shape(
        "dup-acks-reversed",
        dup_acks_reversed,
        12_500,
        ("sessions",),
        "test_linear_time.py::test_reversed_*",
    ),  # fmt: skip
    Shape("fragments", fragments, 25_000, ("sessions",), "test_fuzz_findings.py::test_many_fragments_*"),
    Shape("vlan-tags", vlan_tags, 12_500, ("sessions",), "test_fuzz_findings.py::test_vlan_tag_flood_*"),
    Shape(
        "holes-export",
        holes_before_monologues,
        5_000,
        ("export",),
        "test_linear_time.py::test_exporting_monologues_*",
    ),  # fmt: skip
    Shape("syn-storm", syn_storm, 75_000, ("sessions",), "test_linear_time.py::test_syn_only_*"),
    Shape("syn-storm-json", syn_storm, 75_000, ("sessions", "--json"), "test_session_table / jsonlist tests"),
    Shape(
        "syn-storm-export", syn_storm, 75_000, ("export", "--layout", "directions"), "test_export_document"
    ),
    Shape("one-byte-monologues", one_byte_monologues, 50_000, ("export",), "test_linear_time.py"),
    Shape(
        "zero-fill-budget",
        sessions_with_holes,
        50,
        ("export", "--gaps", "zero", "--layout", "directions"),
        "test_fuzz_findings.py::test_zero_fill_of_an_export_*",
    ),  # fmt: skip
]


# Run in a process of its own, so that the peak memory is this command's alone (a process's
# RUSAGE_CHILDREN peak is the largest of every child it ever waited for).  Besides the peak RSS
# (which counts the pages of the mapped capture and index files too) it samples every 10 ms the
# largest RssAnon of the command's processes: their own memory, what must stay flat.
_MEASURE = """
import os, resource, subprocess, sys, time

def tree(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found

def anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while child.poll() is None:
    peak = max([peak] + [anon_kib(p) for p in tree(child.pid)])
    time.sleep(0.01)
if child.returncode:
    sys.exit(child.returncode)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime, r.ru_maxrss / 1024, peak / 1024)
"""


def measure(command: list[str]) -> tuple[float, float, float]:
    """CPU seconds of ``command`` and its worker processes, the peak RSS (MB) of the largest,
    and the largest RssAnon (MB) sampled in any of them."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True
    )
    cpu, rss, anon = result.stdout.split()
    return float(cpu), float(rss), float(anon)


def run(shape: Shape, scale: int, tmp: Path, out: Path) -> list[tuple[int, float, float, float]]:
    lines = []
    for factor in (1, 2, 4):
        n = shape.base * scale * factor
        capture = tmp / f"{shape.make.__name__}-{n}.pcap"
        if not capture.exists():
            shape.make(capture, n)
        words = [*MONOVIEW, *shape.command]
        if shape.command[0] == "export":
            shutil.rmtree(out, ignore_errors=True)
            words += ["--out", str(out)]
        cpu, rss, anon = measure([*words, str(capture)])
        lines.append((n, cpu, rss, anon))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("shapes", nargs="*", help="shape names (default: all)")
    parser.add_argument("-x", "--scale", type=int, default=1, help="multiply every base size")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp/monoview-shapes"))
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(
            "/dev/shm/monoview-shapes-out" if Path("/dev/shm").is_dir() else "/tmp/monoview-shapes-out"
        ),
        help="export folder (default in RAM: what is measured is monoview, not the disk's file creation)",
    )
    args = parser.parse_args()
    args.tmp.mkdir(parents=True, exist_ok=True)
    wanted = [s for s in SHAPES if not args.shapes or s.name in args.shapes]
    empty = syn_storm(args.tmp / "baseline.pcap", 1)
    base, base_rss, _anon = measure([*MONOVIEW, "sessions", str(empty)])
    print(f"start-up and one session: {base:.2f} CPU s, {base_rss:.0f} MB (subtracted in 'work')")
    heads = f"{'cpu s':>8} {'work s':>8} {'ratio':>6} {'peak MB':>8} {'own MB':>7}"
    print(f"{'shape':22} {'n':>9} {heads}   command")
    for shape in wanted:
        lines = run(shape, args.scale, args.tmp, args.out)
        for n, cpu, rss, anon in lines:
            work, first = max(cpu - base, 0.0), max(lines[0][1] - base, 0.01)
            ratio = work / first
            words = " ".join(shape.command)
            figures = f"{cpu:>8.2f} {work:>8.2f} {ratio:>6.2f} {rss:>8.0f} {anon:>7.0f}"
            print(f"{shape.name:22} {n:>9,} {figures}", end="")
            print(f"   monoview {words}")
        sys.stdout.flush()
    shutil.rmtree(args.out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
