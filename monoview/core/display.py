"""Short texts for times, sizes and a session's status, as the window and its tree show them
(no Qt: any front end can print them the same way)."""

from __future__ import annotations

import time

from monoview.core.tcp.session import TcpSession

ARROWS = {"c2s": "→", "s2c": "←"}


def clock(ts_ns: int) -> str:
    """Local time of day with microseconds, e.g. ``14:03:07.123456``."""
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{ns // 1000:06d}"


def date_time(ts_ns: int) -> str:
    """Full local date and time with microseconds (tooltips, headers)."""
    seconds, ns = divmod(ts_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + f".{ns // 1000:06d}"


def duration(ns: int) -> str:
    """Seconds with a precision that suits the size: ``0.000412 s``, ``12.31 s``, ``3 m 05 s``."""
    seconds = ns / 1e9
    if seconds < 10:
        return f"{seconds:.6f} s"
    if seconds < 600:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} m {rest:02d} s"


def delta(ns: int) -> str:
    """A signed time difference: ``+0.000412 s``."""
    return ("+" if ns >= 0 else "−") + duration(abs(ns))


def size(n: int) -> str:
    """Bytes with thousands separators: ``1,234,567``."""
    return f"{n:,}"


def human_size(n: float) -> str:
    """Bytes in the largest sensible unit: ``48.2 MB``."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def session_flags(session: TcpSession) -> list[str]:
    """What a person checks first about completeness, in a fixed order."""
    flags = [session.state]
    if not session.handshake:
        flags.append("no handshake")
    gaps = sum(len(session.gaps(d)) for d in ("c2s", "s2c"))
    if gaps:
        flags.append(f"{gaps} gap" + ("s" if gaps > 1 else ""))
    conflicts = sum(len(session.conflicts(d)) for d in ("c2s", "s2c"))
    if conflicts:
        flags.append(f"{conflicts} conflict" + ("s" if conflicts > 1 else ""))
    if session.truncated:
        flags.append("truncated")
    if not session.finished:
        flags.append("loading")
    return flags
