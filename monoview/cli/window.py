"""The window's command line, ``monoview [FILE] [--screenshot OUT.png] [--session ID] ...``,
read without Qt.

``monoview.gui.app`` runs the window with it; ``monoview.cli`` reads it first, before
Qt is imported, to learn whether a capture is to be opened: the worker processes that
open it are forked from a server that imports the core (half a second), which is then
started at once (``executor.start_fork_server``) and does that while this process
imports Qt and builds the window.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

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
    parser.add_argument("--plots", action="store_true", help="with --screenshot: show the plots")
    parser.add_argument(
        "--size",
        default=f"{SCREENSHOT_SIZE[0]}x{SCREENSHOT_SIZE[1]}",
        metavar="WxH",
        help="with --screenshot: window size (default %(default)s)",
    )
    return parser.parse_args(list(argv))


__all__ = ["SCREENSHOT_SIZE", "parse_args"]
