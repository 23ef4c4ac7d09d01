"""CPU seconds of ``monoview http`` on HTTP messages that arrive in many monologues (issue 12).

Builds each shape at 1x, 2x and 4x its size and runs ``python -m monoview http FILE`` on
it, printing the child's user + system CPU seconds (``resource.getrusage``) and the
ratio to the 1x run; linear work shows as about 1, 2, 4.  The shapes are the ones
tests/core/test_linear_http.py counts calls on (built by its functions, so the two
measure the same thing):

* ``lines``: a POST whose header lines each come in a monologue of their own (the
  server says ``100 Continue`` between them); issue 12 measured the old listener at
  3.1 / 11.7 / 57 s for 5,000 / 10,000 / 20,000 lines;
* ``pieces``: a response body of N pieces of 2,000 bytes, a pipelined request between pieces;
* ``chunked``: a chunked response of N chunks, each piece ending in the middle of one.

    PYTHONPATH=. .venv/bin/python bench/linear_http.py              # lines: 5,000 10,000 20,000
    PYTHONPATH=. .venv/bin/python bench/linear_http.py --shape chunked --base 2000
    PYTHONPATH=. .venv/bin/python bench/linear_http.py --checkout ../main --base 1000   # another tree

Captures are cached under ``$XDG_CACHE_HOME/monoview-bench`` (or /tmp/monoview-bench).
Run from the repository root (the shapes come from ``tests/``).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.core.test_linear_http import _body_in_pieces, _chunked_in_pieces, _header_line_by_line

SHAPES: dict[str, Callable[[Path, int], Path]] = {
    "lines": _header_line_by_line,
    "pieces": lambda folder, n: _body_in_pieces(folder, n, 2000),
    "chunked": _chunked_in_pieces,
}


def cache_folder() -> Path:
    folder = Path(os.environ.get("XDG_CACHE_HOME") or "/tmp") / "monoview-bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def capture(shape: str, n: int) -> Path:
    """The capture of ``shape`` at size ``n``, built once."""
    folder = cache_folder() / f"linear-http-{shape}-{n}"
    folder.mkdir(exist_ok=True)
    done = folder / "done"
    if done.exists():
        return Path(done.read_text())
    path = SHAPES[shape](folder, n)
    done.write_text(str(path))
    return path


def cpu_seconds(path: Path, checkout: Path | None) -> tuple[float, list[str]]:
    """The CPU seconds of ``monoview http PATH`` (user + system, the child and its children)
    and the rows it printed."""
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout.resolve())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "http", str(path)], capture_output=True, text=True, env=env,
        check=True, cwd=checkout,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return spent, result.stdout.splitlines()[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="lines")
    parser.add_argument("--base", type=int, default=5000, help="the 1x size (default 5000)")
    parser.add_argument("--steps", type=int, default=3, help="1x, 2x, 4x... (default 3)")
    parser.add_argument("--checkout", type=Path, help="run the monoview of this source tree")
    args = parser.parse_args()
    first = None
    print(f"monoview http, shape {args.shape}" + (f", {args.checkout}" if args.checkout else ""))
    print(f"{'n':>8}  {'cpu s':>8}  {'x 1x':>6}  rows")
    for step in range(args.steps):
        n = args.base << step
        path = capture(args.shape, n)
        seconds, rows = cpu_seconds(path, args.checkout)
        first = first or seconds
        print(f"{n:>8}  {seconds:>8.2f}  {seconds / first:>6.2f}  {len(rows)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
