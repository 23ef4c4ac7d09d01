"""The window ended by SIGTERM or SIGHUP while it reads a compressed capture: it closes as
File › Quit does, its decompressed copy is removed, and the exit status is 128 + the signal
(issue 10).  A subprocess on the offscreen platform; the signal is sent once the temporary
copy exists, and nothing is asserted about time."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gui.conftest import DATA, REPO

WAIT_S = 60  # a bound on waits that end as soon as their condition holds


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_the_window_ended_by_a_signal_leaves_no_copy(tmp_path: Path, signum: signal.Signals) -> None:
    capture = tmp_path / "big.pcap.gz"
    frames = (DATA / "chatter.pcap").read_bytes()
    header, body = frames[:24], frames[24:]
    with gzip.open(capture, "wb", compresslevel=1) as out:  # ~60 MB once decompressed
        out.write(header)
        for _ in range(60_000_000 // len(body)):
            out.write(body)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {
        **os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "monoview", str(capture)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + WAIT_S
    while not list(tmp.glob("monoview-*/*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None and list(tmp.glob("monoview-*/*")), "the copy never appeared"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 128 + signum, err.decode(errors="replace")
    assert b"Traceback" not in err
    assert [p for p in tmp.rglob("*") if "monoview" in p.name] == []
