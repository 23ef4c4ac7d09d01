"""The bench's report: medians, paired ratios, the Markdown table, machine facts."""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

from runner import Command, memory_runs

REPO = Path(__file__).resolve().parent.parent


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(x: float) -> str:
    """3 significant digits, at least 3 decimals below 1."""
    if x != x:  # nan
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def spread(values: Sequence[float]) -> str:
    return f"{fmt(med(values))} ({fmt(min(values))}-{fmt(max(values))})" if values else "-"


def paired(a: Command, b: Command) -> list[float]:
    """a/b wall-time ratios of the runs made in the same round."""
    b_by_round = dict(zip(b.rounds, b.runs_done, strict=True))
    return [
        run.wall / b_by_round[r].wall
        for r, run in zip(a.rounds, a.runs_done, strict=True)
        if r in b_by_round and not b_by_round[r].timed_out and not run.timed_out
    ]


def ratio_text(a: Command, b: Command) -> str:
    ratios = paired(a, b)
    return f"{spread(ratios)}, {len(ratios)} pair{'s' if len(ratios) > 1 else ''}" if ratios else "-"


def table(cmds: list[Command], size: int | None) -> list[str]:
    """One row per command; the last column is the paired ratio of the command's ``ref`` to it."""
    syncs = any(c.sync for c in cmds)
    counts = any(c.count for c in cmds)
    head = [
        "command",
        "runs",
        "wall s median (min-max)",
        "CPU s",
        "sys s",
        "peak RSS MiB (largest process)",
        "anon / shmem / file MiB (main process, peaks sampled in the warm-up)",
        "anon MiB, all processes (PSS)",
    ]
    head += ["sync after s"] if syncs else []
    head += ["output (first run)"] if counts else []
    head += ["MB/s"] if size else []
    head += ["paired wall ratio: pair, median (min-max)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cmd in cmds:
        runs = cmd.runs_done
        if not runs:
            continue
        walls = [r.wall for r in runs]
        timeout = " (timed out)" if any(r.timed_out for r in runs) else ""
        statuses = sorted({str(r.status) for r in runs if r.status and not r.timed_out})
        failed = f" (**exit {','.join(statuses)}**)" if statuses else ""
        ratio = f"{cmd.ref.name} / this: {ratio_text(cmd.ref, cmd)}" if cmd.ref is not None else "-"
        sampled = memory_runs(cmd)
        cells = [
            f"{cmd.name}{timeout}{failed}",
            str(len(runs)),
            spread(walls),
            fmt(med([r.cpu for r in runs])),
            fmt(med([r.sys for r in runs])),
            f"{med([r.maxrss_mib for r in runs]):.0f}",
            f"{max(r.anon_mib for r in sampled):.0f} / {max(r.shmem_mib for r in sampled):.0f} / "
            f"{max(r.file_mib for r in sampled):.0f}",
            f"{max(r.tree_anon_mib for r in sampled):.0f}",
        ]
        if syncs:
            cells.append(fmt(med([r.sync_s for r in runs if r.sync_s is not None])) if cmd.sync else "-")
        if counts:
            cells.append(cmd.output or "-")
        if size:
            cells.append(f"{size / 1e6 / med(walls):.0f}")
        cells.append(ratio)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def commands_list(cmds: list[Command]) -> list[str]:
    lines = [
        "Commands (RUN = a fresh folder made for each run under the folder named, removed after it):",
        "",
    ]
    for cmd in cmds:
        warm = "a warm-up run, then " if cmd.warmup else ""
        sync = "; `sync` before, timed `sync` after" if cmd.sync else ""
        lines.append(
            f"* {cmd.name} ({warm}{len(cmd.runs_done)} timed; RUN under `{cmd.base}`{sync}): "
            f"`{describe(cmd)}`"
        )
    return lines


def first_line(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].rstrip(".") if text else "?"


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return commit + ("+dirty" if dirty else "")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def filesystem(path: Path) -> str:
    """The type and device of the filesystem holding ``path`` (longest mount point in /proc/mounts)."""
    real, best = os.path.realpath(path), ("", "?", "?")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            device, point, kind = line.split()[:3]
            point = point.replace("\\040", " ")
            inside = real == point or real.startswith(point.rstrip("/") + "/")
            if inside and len(point) > len(best[0]):
                best = (point, kind, device)
    except OSError:
        pass
    return f"{best[1]} ({best[2]} on {best[0]})"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def describe(cmd: Command) -> str:
    """The exact command line, RUN standing for the run's fresh folder."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in cmd.env.items())
    line = shlex.join(cmd.argv(Path("RUN")))
    out = f"RUN/{cmd.stdout_to}" if cmd.stdout_to else "/dev/null"
    return f"{env + ' ' if env else ''}{line} > {out} 2> RUN/stderr.txt"
