"""The command line's grammar: every subcommand and its options."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Final

from monoview import __version__

# The values of streambytes.GapPolicy, export.Format and export.Layout (tests/core/test_listing.py
# checks they agree).
GAP_POLICIES: Final = ("omit", "zero", "marker")
FORMATS: Final = ("raw", "hex", "text")
# Show data as (core.showas.ShowAs), spelled for a command line.
SHOW_AS: Final = ("ascii", "utf-8", "latin-1", "utf-16", "ebcdic", "hex-dump", "c-arrays", "raw", "yaml")
LAYOUTS: Final = ("full", "directions")
CAPTURE_HELP: Final = (
    "a capture file; several files or a folder are one capture (a rotated set: ordered by "
    "their first packet's time, frames numbered across them, sessions continuing across files)"
)
# core.follow.FOLLOW_FORMATS, and bytes (tests/core/test_follow.py checks they agree).
FOLLOW_FORMATS: Final = ("ascii", "hex", "raw", "bytes", "yaml", "c-array", "utf-8")


def _whole_number(minimum: int, base: int = 10) -> Callable[[str], int]:
    """An option's value as an integer of at least ``minimum``: a bad one is a usage error, not a
    surprise later (``--max-session-size -5`` used to be taken, and kept nothing)."""

    def parse(text: str) -> int:
        try:
            value = int(text, base)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {value}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its message
    return parse


SESSION_ID: Final = _whole_number(1)
BYTE_COUNT: Final = _whole_number(0)


def session_or_pair(text: str) -> int | str:
    """A session id, or endpoints ``A:P,B:P`` (checked when the capture is read)."""
    return text if "," in text else SESSION_ID(text)


session_or_pair.__name__ = "session id or endpoints"


def build() -> argparse.ArgumentParser:
    """The parser of every subcommand (choices spelled out: no analysis module is imported)."""
    parser = argparse.ArgumentParser(
        prog="monoview",
        description="Browse and export the monologues of every TCP session in a capture. "
        "Without a subcommand, opens the GUI (on FILE if given).",
    )
    parser.add_argument("--version", action="version", version=f"monoview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--split-interfaces",
        action="store_true",
        help="keep equal 4-tuples on different capture interfaces apart (pcapng)",
    )

    # Where the heavy work runs: the local worker processes, or a Dask cluster (core.cluster).
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--dask",
        metavar="WHERE",
        help="run the index and export tasks on Dask: 'local' (a LocalCluster on this machine) or a "
        "scheduler's address, tcp://HOST:8786 (needs monoview[cluster])",
    )
    where.add_argument(
        "--dask-workers",
        type=SESSION_ID,
        default=2,
        metavar="N",
        help="with --dask local: its worker processes",
    )

    p = sub.add_parser("sessions", parents=[common, where], help="list the TCP sessions, one line each")
    p.add_argument("capture", type=Path, nargs="+", help=CAPTURE_HELP)
    p.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    p.add_argument(
        "-a", "--application", action="store_true",
        help="name each session's application from its first bytes (HTTP Host, TLS server name, SSH...)",
    )  # fmt: skip
    p.add_argument(
        "-p", "--outer-path", action="store_true",
        help="show what each session came through: tunnels (with their outer addresses), VLAN tags, "
        "a source route (the inner endpoints name the session)",
    )  # fmt: skip

    p = sub.add_parser("follow", parents=[common], help="print one session's conversation")
    p.add_argument("capture", type=Path, nargs="+", help=CAPTURE_HELP)
    p.add_argument(
        "session",
        nargs="?",
        type=session_or_pair,
        help="session id, as 'sessions' lists it, or its endpoints A:P,B:P ([addr]:port for IPv6)",
    )
    p.add_argument("--stream", type=BYTE_COUNT, metavar="N", help="tshark's tcp.stream N (from 0)")
    p.add_argument(
        "--frame",
        type=SESSION_ID,
        metavar="N",
        help="the session with a packet in frame N (from 1; the first, named with the others, when "
        "the frame holds packets of several)",
    )
    p.add_argument(
        "--format",
        choices=FOLLOW_FORMATS,
        default="ascii",
        help="as tshark -z follow,tcp,MODE prints it (ascii, hex, raw: hex text, yaml), or c-array, "
        "utf-8; bytes: the conversation's bytes, nothing else",
    )
    p.add_argument(
        "--monologues",
        action="store_true",
        help="one entry per monologue (the default: one per segment, as tshark)",
    )
    p.add_argument("--gaps", choices=GAP_POLICIES, default="marker", help="with --format bytes")
    p.add_argument(
        "--show-as",
        choices=SHOW_AS,
        help="print the conversation as the window's Show data as does (instead of --format): "
        "a text decoding, Wireshark's hex dump, C arrays, raw hex or tshark's YAML",
    )
    p.add_argument(
        "--segments",
        action="store_true",
        help="with --show-as: one entry per segment, as tshark's follow prints them "
        "(the default: one per monologue)",
    )

    p = sub.add_parser(
        "export", parents=[common, where], help="write sessions, monologues and transcripts to a folder"
    )
    p.add_argument("capture", type=Path, nargs="+", help=CAPTURE_HELP)
    p.add_argument("--out", type=Path, help="output folder")
    p.add_argument(
        "--pcap",
        type=Path,
        metavar="OUT",
        help="write the chosen sessions' packets, untouched, as a capture (pcap or pcapng by OUT's "
        "suffix, else the input's format), as Wireshark's Export Specified Packets",
    )
    p.add_argument("--session", type=SESSION_ID, action="append", dest="sessions", metavar="ID")
    p.add_argument(
        "--stream",
        type=BYTE_COUNT,
        action="append",
        dest="streams",
        metavar="N",
        help="tshark's tcp.stream N",
    )
    p.add_argument(
        "--endpoints", action="append", metavar="A:P,B:P", help="the sessions between these two endpoints"
    )
    p.add_argument(
        "--frame",
        type=SESSION_ID,
        action="append",
        dest="frames",
        metavar="N",
        help="every session with a packet in frame N (from 1)",
    )
    p.add_argument("--gaps", choices=GAP_POLICIES, default="omit")
    p.add_argument("--format", choices=FORMATS, default="raw")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument(
        "--layout",
        choices=LAYOUTS,
        default="full",
        help="full: directions, monologues and a transcript per session; directions: only each "
        "direction's stream (as tcpflow writes them)",
    )
    p.add_argument("--sync", action="store_true", help="flush the written files to disk before finishing")

    p = sub.add_parser("http", parents=[common], help="list HTTP requests and their responses")
    p.add_argument("capture", type=Path, nargs="+", help=CAPTURE_HELP)
    p.add_argument("--sort", choices=("session", "time"), default="session", help="order of the list")
    p.add_argument("--export", type=Path, metavar="DIR", help="write each body (decoded) and manifest.json")
    p.add_argument("--force", action="store_true", help="let --export overwrite existing files")

    p = sub.add_parser("trace", parents=[common], help="print Net::Analysis-style event traces")
    p.add_argument("capture", type=Path, nargs="+", help=CAPTURE_HELP)
    p.add_argument(
        "-v",
        type=_whole_number(0, base=0),
        default=0x06,
        metavar="MASK",
        help="0x01 per packet, 0x02 per monologue, 0x04 per session (default 0x06)",
    )
    p.add_argument("-k", metavar="KEY", help="session key or id to trace packet by packet")
    p.add_argument("--dump", type=Path, metavar="DIR", help="write each monologue as a file")
    p.add_argument("--force", action="store_true", help="let --dump overwrite existing files")
    p.add_argument(
        "--max-session-size", type=BYTE_COUNT, metavar="N", help="keep at most N bytes per session"
    )
    return parser
