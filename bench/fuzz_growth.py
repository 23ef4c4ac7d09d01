"""How one fuzz worker's memory grows over many inputs: retention, or fragmentation?

Runs a worker's loop (``harness.build`` then ``harness.run_input``) in this
process, and every ``--every`` inputs samples what can tell the two apart:
the RSS (anonymous and file-backed), malloc's bytes in use and its free bytes
kept (``mallinfo2``, glibc), its mmapped chunks, the anonymous memory outside
malloc (Python's object arenas, mostly), Python's allocated blocks and, every
fifth sample, the gc's objects.  Bytes in use and live objects that climb are
retention; RSS that climbs while they do not is fragmentation.  (The memory
outside malloc is the anonymous RSS less malloc's heap and mmapped chunks: an
estimate, low where malloc_trim gave heap pages back.)
``--no-trim`` runs as the harness did before it gave the heap back
(``recycle.release_heap``) at each input.

    nice -n 19 .venv/bin/python bench/fuzz_growth.py --seed 41 --start 230000 --inputs 3000
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")
        + ("fordblks", "keepcost")
    ]


def _status() -> dict[str, float]:
    got = {}
    with open("/proc/self/status") as status:
        for line in status:
            key = line.split(":")[0]
            if key in ("RssAnon", "RssFile"):
                got[key] = round(int(line.split()[1]) / 1024, 1)
    return got


def _sample(libc: Any, index: int) -> dict[str, Any]:
    info = libc.mallinfo2()
    status = _status()
    heap, mapped = info.arena / MB, info.hblkhd / MB
    return {
        "index": index,
        **status,
        "malloc_in_use": round(info.uordblks / MB, 1),
        "malloc_free_kept": round(info.fordblks / MB, 1),
        "malloc_mmapped": round(mapped, 1),
        "malloc_heap": round(heap, 1),
        "anon_outside_malloc": round(status["RssAnon"] - heap - mapped, 1),
        "python_blocks": sys.getallocatedblocks(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--start", type=int, default=230_000)
    parser.add_argument("--inputs", type=int, default=3000)
    parser.add_argument("--every", type=int, default=100, help="inputs between samples")
    parser.add_argument("--no-trim", action="store_true", help="no malloc_trim before each input")
    parser.add_argument("--out", type=Path, help="the samples, one JSON line each")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.fuzz import corpus, harness, recycle

    libc = ctypes.CDLL(None)
    if not hasattr(libc, "mallinfo2"):
        print("mallinfo2 needs glibc 2.33 or later", file=sys.stderr)
        return 2
    libc.mallinfo2.restype = _MallInfo2
    if args.no_trim:
        recycle._TRIM = None  # noqa: SLF001 - the harness as it was
    bases = corpus.load()
    folder = tempfile.mkdtemp(
        prefix="monoview-growth-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None
    )
    tempfile.tempdir = folder
    path = Path(folder) / "input"
    out = args.out.open("w") if args.out else None
    samples = [_sample(libc, -1)]
    began = time.process_time()
    for n, index in enumerate(range(args.start, args.start + args.inputs)):
        data, _plan, _base = harness.build(bases, args.seed, index)
        path.write_bytes(data)
        harness.run_input(path, index)
        del data
        if n % args.every == args.every - 1:
            sample = _sample(libc, index)
            if len(samples) % 5 == 0:
                sample["gc_objects"] = len(gc.get_objects())
            samples.append(sample)
            if out is not None:
                out.write(json.dumps(sample) + "\n")
                out.flush()
    path.unlink(missing_ok=True)
    Path(folder).rmdir()
    keys = [k for k in {k: None for sample in samples for k in sample} if k != "index"]
    print(f"{args.inputs} inputs, {time.process_time() - began:.0f} CPU s, trim {not args.no_trim}")
    print("index".rjust(8), *(k.rjust(19) for k in keys))
    shown = samples[:: max(1, len(samples) // 8)]
    for sample in shown + ([] if shown[-1] is samples[-1] else samples[-1:]):
        print(str(sample["index"]).rjust(8), *(str(sample.get(k, "")).rjust(19) for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
