"""The window's command line, ``monoview [FILE] [--screenshot OUT.png] [--session ID] ...``,
read without Qt.

``monoview.gui.app`` runs the window with it; ``monoview.cli`` reads it first, before
Qt is imported, to learn whether a capture is to be opened, and starts what the
window will wait for (``start_before_qt``): the fork server the worker processes
come from (it imports the core, half a second), and the build of the capture's
document in those workers (``core.opening``), both while this process imports Qt
and builds the window (most of a second on one core; the build's own work is in
the workers, on the other).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monoview.cli.parser import SHOW_AS

SCREENSHOT_SIZE = (1400, 880)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The GUI's command line."""
    parser = argparse.ArgumentParser(
        prog="monoview",
        description="Browse the TCP conversations of a capture, monologue by monologue. "
        "Headless subcommands: monoview sessions|follow|export|http|trace (see monoview --help).",
    )
    parser.add_argument("file", nargs="?", type=Path, help="capture to open (pcap or pcapng)")
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="OUT.png",
        help="load FILE, select a session, save a picture of the window and exit",
    )
    parser.add_argument("--session", type=int, metavar="ID", help="session to select (default: the first)")
    parser.add_argument("--monologue", type=int, metavar="N", help="with --screenshot: monologue to select")
    parser.add_argument(
        "--view",
        choices=("hex", "text", "http"),
        default="hex",
        help="with --screenshot: which detail view to show",
    )
    parser.add_argument(
        "--scope",
        choices=("monologue", "c2s", "s2c", "session"),
        default="monologue",
        help="with --screenshot: which bytes the hex/text view shows",
    )
    parser.add_argument(
        "--show-as",
        choices=SHOW_AS,
        help="with --screenshot: the text view, showing the bytes as Wireshark's Follow dialog does",
    )
    parser.add_argument("--plots", action="store_true", help="with --screenshot: show the plots")
    parser.add_argument(
        "--size",
        default=f"{SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]}",
        metavar="WxH",
        help="with --screenshot: window size (default %(default)s)",
    )
    return parser.parse_args(list(argv))


def headless() -> bool:
    """True on a Linux machine without a display server (and no platform chosen): the window
    can only take a picture (``--screenshot``)."""
    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    )


def start_before_qt(args: argparse.Namespace) -> None:
    """Start the window's work on ``args.file`` before Qt is imported: the fork server, then
    the document's build (``opening.start_early``; for a plain capture file only: the window
    says what is wrong with any other), which the window takes over when it opens the file.
    Nothing without a file, or when there will be no window to open it in."""
    if args.file is None or (headless() and args.screenshot is None):
        return
    from monoview.core.executor import start_fork_server

    start_fork_server()
    from monoview.core.opening import start_early

    start_early(args.file, previews=args.screenshot is None)  # a picture is of the whole list


__all__ = ["SCREENSHOT_SIZE", "headless", "parse_args", "start_before_qt"]
