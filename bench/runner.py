"""Measuring whole processes for the bench: spawn, reap with ``wait4``, sample memory.

One run is a process started with ``posix_spawn`` in a fresh empty folder
(removed after it, outside the timing); rounds alternate the commands so that
each pair's ratio compares runs made side by side.  Memory is sampled in the
warm-up run only (see ``compare_tools``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final


@dataclass
class Run:
    """One whole-process measurement."""

    wall: float
    cpu: float  # user + system
    sys: float
    maxrss_mib: float  # ru_maxrss: the largest process of the tree
    anon_mib: float  # sampled peaks of the main process (0 if never sampled)
    tree_anon_mib: float  # sampled peak of Pss_Anon summed over the process and its children
    shmem_mib: float
    file_mib: float
    status: int
    timed_out: bool = False
    sync_s: float | None = None  # os.sync() right after the process, when the command asks for it


SAMPLED: Final = (b"RssAnon:", b"RssShmem:", b"RssFile:")


def _status_kib(pid: int) -> dict[bytes, int]:
    values: dict[bytes, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(SAMPLED):
                    name, value = line.split(b":", 1)
                    values[name + b":"] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return values


def _tree(pid: int) -> list[int]:
    """The process and its descendants (worker processes), from /proc/PID/task/*/children."""
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", "rb") as handle:
                for child in handle.read().split():
                    out += _tree(int(child))
    except (OSError, ValueError):
        pass
    return out


def _pss_anon_kib(pid: int) -> int:
    """Pss_Anon: the process's anonymous memory, pages shared after a fork counted once
    in total (split between the processes that share them)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss_Anon:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Sampler(threading.Thread):
    """Polls a process's RssAnon, RssShmem and RssFile, and the Pss_Anon of it and its
    worker processes together, until told to stop (lower bounds of the peaks)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = dict.fromkeys(SAMPLED, 0)
        self.tree_peak_kib = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for name, kib in _status_kib(self.pid).items():
                self.peak_kib[name] = max(self.peak_kib[name], kib)
            total = sum(_pss_anon_kib(p) for p in _tree(self.pid))
            self.tree_peak_kib = max(self.tree_peak_kib, total)
            self.stopped.wait(self.interval)


@dataclass(eq=False)
class Command:
    """A command to time.  ``argv`` gets the run's fresh folder RUN (its output folder is RUN/out)."""

    name: str
    argv: Callable[[Path], list[str]]
    base: Path  # where the run folders are made (RAM or disk)
    env: dict[str, str] = field(default_factory=dict)
    stdout_to: str | None = None  # file name in the run folder, else /dev/null
    runs: int = 0  # 0: the section's default
    warmup: bool = True
    timeout: float | None = None
    sync: bool = False  # os.sync() before each run, and timed right after it (disk output)
    count: bool = False  # count the files written to RUN/out (first run)
    ref: Command | None = None  # the pair: ratio ref / this, same rounds
    # looks at the run folder before it is removed: (RUN, the run, whether it was the warm-up)
    after: Callable[[Path, Run, bool], None] | None = None
    runs_done: list[Run] = field(default_factory=list)
    warm_run: Run | None = None  # the warm-up run, where memory is sampled
    rounds: list[int] = field(default_factory=list)  # round of each run (pairing)
    output: str = ""  # what was written (count)
    notes: list[str] = field(default_factory=list)


def measure(cmd: Command, run_dir: Path, sample: float) -> Run:
    """Spawn ``cmd`` (stdout to /dev/null or a file in ``run_dir``), wait4 it, return the figures."""
    argv = cmd.argv(run_dir)
    env = dict(os.environ) | cmd.env
    out_path = str(run_dir / cmd.stdout_to) if cmd.stdout_to else os.devnull
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    # stderr goes beside the output folder (tcpflow chats there); shown when the command fails.
    err_fd = os.open(str(run_dir / "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    actions = [
        (os.POSIX_SPAWN_DUP2, out_fd, 1),
        (os.POSIX_SPAWN_DUP2, err_fd, 2),
        (os.POSIX_SPAWN_CLOSE, out_fd),
        (os.POSIX_SPAWN_CLOSE, err_fd),
    ]
    started = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
    os.close(out_fd)
    os.close(err_fd)
    sampler = Sampler(pid, sample)
    if sample > 0:
        sampler.start()
    timer: threading.Timer | None = None
    timed_out = threading.Event()
    if cmd.timeout:

        def kill() -> None:
            timed_out.set()
            os.kill(pid, 9)

        timer = threading.Timer(cmd.timeout, kill)
        timer.start()
    _pid, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if timer is not None:
        timer.cancel()
    sampler.stopped.set()
    if sample > 0:
        sampler.join()
    peak = sampler.peak_kib
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        sys=usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,
        anon_mib=peak[b"RssAnon:"] / 1024,
        tree_anon_mib=sampler.tree_peak_kib / 1024,
        shmem_mib=peak[b"RssShmem:"] / 1024,
        file_mib=peak[b"RssFile:"] / 1024,
        status=os.waitstatus_to_exitcode(status),
        timed_out=timed_out.is_set(),
    )


def memory_runs(cmd: Command) -> list[Run]:
    """The runs whose memory was sampled: the warm-up if there was one, else the timed runs."""
    return [cmd.warm_run] if cmd.warm_run is not None else cmd.runs_done


def count_files(folder: Path) -> tuple[int, int]:
    """Files under ``folder`` and their total size."""
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(root, name)).st_size
    return files, size


def run_once(cmd: Command, sample: float, warm: bool = False, kept: list[Path] | None = None) -> Run:
    """One run in a fresh folder RUN under ``cmd.base`` (RUN/out made empty); RUN is removed
    after, or added to ``kept`` (when given) if the command writes to disk."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{re.sub(r'[^A-Za-z0-9]+', '-', cmd.name)}-", dir=cmd.base))
    try:
        (run_dir / "out").mkdir()
        if cmd.sync:
            os.sync()
        result = measure(cmd, run_dir, sample)
        if cmd.sync:
            started = time.perf_counter()
            os.sync()
            result.sync_s = time.perf_counter() - started
        if result.status != 0 and not result.timed_out:
            err = (run_dir / "stderr.txt").read_text(errors="replace")[-2000:]
            print(f"  warning: {cmd.name} exited with status {result.status}:\n{err}", file=sys.stderr)
        if cmd.count and not cmd.output:
            files, size = count_files(run_dir / "out")
            cmd.output = f"{files:,} files, {size / 1e6:,.0f} MB"
            manifest = run_dir / "out" / "manifest.json"
            if manifest.exists():
                try:
                    streams = len(json.loads(manifest.read_text())["streams"])
                    cmd.output += f", {streams:,} sessions in manifest.json"
                except (OSError, ValueError, KeyError, TypeError):
                    cmd.output += ", manifest.json unreadable"
        if cmd.after is not None:
            cmd.after(run_dir, result, warm)
    finally:
        if cmd.sync and kept is not None:
            kept.append(run_dir)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    return result


def run_rounds(cmds: list[Command], runs: int, sample: float) -> None:
    """A warm-up of each command (unless it has none), then rounds A B C ... until all have their runs.

    What the commands that write to disk (``sync``) wrote stays there until
    the last round: on ext4, creating files soon after tens of thousands were
    deleted costs several times more (the inode allocator steps over recently
    deleted inodes), and whichever tool ran right after a deletion paid for it.
    """
    kept: list[Path] = []
    try:
        _rounds(cmds, runs, sample, kept)
    finally:
        for folder in kept:
            shutil.rmtree(folder, ignore_errors=True)
        if kept:
            os.sync()


def _rounds(cmds: list[Command], runs: int, sample: float, kept: list[Path]) -> None:
    for cmd in cmds:
        if cmd.warmup:
            run = cmd.warm_run = run_once(cmd, sample, warm=True, kept=kept)
            print(f"  warm-up {cmd.name}: {run.wall:.3f} s", flush=True)
    for rnd in range(max([c.runs or runs for c in cmds], default=0)):
        for cmd in cmds:
            if len(cmd.runs_done) >= (cmd.runs or runs):
                continue
            run = run_once(cmd, 0.0 if cmd.warm_run is not None else sample, kept=kept)
            cmd.runs_done.append(run)
            cmd.rounds.append(rnd)
            print(f"  round {rnd + 1} {cmd.name}: {run.wall:.3f} s", flush=True)
