"""``core.sets`` gives numpy's own answers (``np.unique``, ``np.setdiff1d``, ``np.isin``) without
importing ``numpy.ma``, which is checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monoview.core.sets import among, setdiff, unique, unique_rows

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.uint64])
def test_the_answers_are_numpys(n: int, dtype: type[np.generic]) -> None:
    rng = np.random.default_rng(n)
    values = rng.integers(0, 60, n).astype(dtype)
    assert np.array_equal(unique(values), np.unique(values)) and unique(values).dtype == dtype
    pairs = rng.integers(0, 5, (n, 2)).astype(dtype)
    assert np.array_equal(unique_rows(pairs), np.unique(pairs, axis=0).reshape(-1, 2))
    away = rng.integers(0, 60, 9).astype(dtype)
    assert np.array_equal(setdiff(values, away), np.setdiff1d(values, away))
    for members in [(), (3,), (1, 5, 59, 200), tuple(range(0, 60, 7))]:
        assert np.array_equal(among(values, members), np.isin(values, members))


def test_numpy_ma_is_not_imported() -> None:
    probe = (
        "import sys, numpy as np\n"
        "from monoview.core.sets import among, setdiff, unique, unique_rows\n"
        "a = np.arange(10) % 3\n"
        "unique(a); unique_rows(np.stack([a, a], axis=1)); setdiff(a, a[:2]); among(a, (1, 2))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    plain = "import sys, numpy as np\nnp.unique(np.arange(3))\nprint('numpy.ma' in sys.modules)\n"
    env = {"PYTHONPATH": str(REPO)}
    ran = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
           for code in (probe, plain)]  # fmt: skip
    assert [r.stdout.strip() for r in ran] == ["False", "True"]  # numpy's own does import it
