"""Export one capture three ways, in one run, and check they give the same manifest:
one process (``workers=1``), the local worker processes (``workers=N``, the default path),
and a Dask ``LocalCluster`` of N workers (``core.cluster``: the code a cluster runs).

Each way builds the document (the index by range tasks) and exports every session
(shards by flow) into a fresh folder under ``--out``; the time of each is the
wall time of both.  The LocalCluster's start is timed apart.  On 2 cores the
cluster is not expected to win (its tasks pay Dask's scheduling and the results'
trip through it); the point is that the same tasks give the same bytes.

    .venv/bin/python bench/cluster_time.py CAPTURE... [--workers 2] [--out /dev/shm/x]

Needs monoview and Dask (``pip install 'monoview[cluster]'``) importable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import Any


def _export(capture: list[str], out: Path, workers: int, executor: Executor | None) -> tuple[float, str, int]:
    from monoview.core.document import CaptureDocument
    from monoview.core.export import Exporter, ExportOptions

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    document = CaptureDocument(
        capture[0] if len(capture) == 1 else capture, workers=workers, executor=executor
    )
    try:
        Exporter(
            document, out, ExportOptions(return_streams=False), workers=workers, executor=executor
        ).export()
    finally:
        document.close()
    seconds = time.perf_counter() - started
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    streams = json.dumps(manifest["streams"], sort_keys=True).encode()
    return seconds, hashlib.sha256(streams).hexdigest(), len(manifest["streams"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("capture", nargs="+", help="a capture, or several files (or a folder) as one")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/dev/shm/monoview-cluster-bench"))
    args = parser.parse_args()
    from monoview.core.cluster import LOCAL, dask_cluster

    rows = []
    rows.append(("one process", *_export(args.capture, args.out / "one", 1, None)))
    rows.append(
        (f"{args.workers} worker processes", *_export(args.capture, args.out / "local", args.workers, None))
    )
    started = time.perf_counter()
    with dask_cluster(LOCAL, args.workers) as cluster:
        up = time.perf_counter() - started
        rows.append((f"Dask LocalCluster, {cluster.workers} workers", *_export(
            args.capture, args.out / "dask", cluster.workers, cluster.executor
        )))  # fmt: skip
    shutil.rmtree(args.out, ignore_errors=True)
    base = rows[0][1]
    print(f"capture: {' '.join(args.capture)}; LocalCluster start: {up:.2f} s (not counted)")
    print("| way | sessions | wall s (index + export) | / one process | manifest streams sha256 |")
    print("|---|---|---|---|---|")
    for name, seconds, digest, count in rows:
        print(f"| {name} | {count:,} | {seconds:.2f} | {seconds / base:.2f} | {digest[:16]} |")
    same = len({digest for _n, _s, digest, _c in rows}) == 1
    print("same manifest: " + ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
