"""``monoview export``: write sessions, monologues and transcripts to a folder, or the sessions'
packets as a capture (``--pcap``)."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import Executor

from monoview.cli.report import damage
from monoview.cli.where import executor_of
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.errors import MonoviewError, UnknownSessionError
from monoview.core.export import Exporter, ExportOptions, Format, Layout
from monoview.core.export.packets import output_format, write_session_packets
from monoview.core.flows.lookup import sessions_of_frame
from monoview.core.flows.tcpstream import tcp_streams
from monoview.core.follow import parse_pair
from monoview.core.streambytes import GapPolicy


class UsageError(MonoviewError):
    """The command line asked for nothing to write, or named sessions badly."""


def run(args: argparse.Namespace) -> int:
    """Export the chosen sessions (all by default) of ``args.capture`` into ``args.out`` and/or
    their packets into ``args.pcap``."""
    if args.out is None and args.pcap is None:
        raise UsageError("say where to write: --out DIR (the sessions' bytes) or --pcap OUT (their packets)")
    with executor_of(args) as (executor, workers):
        return _run(args, executor, workers)


def _run(args: argparse.Namespace, executor: Executor | None, workers: int | None) -> int:
    reading = DocumentOptions(split_interfaces=args.split_interfaces)
    document = CaptureDocument(args.capture, reading, executor=executor, workers=workers)
    try:
        ids = _chosen(document, args)
        if args.pcap is not None:
            every = range(1, len(document) + 1) if ids is None else ids
            wanted, written = write_session_packets(document, every, args.pcap, args.force)
            fmt = output_format(args.pcap, document.format)
            print(f"wrote {len(wanted.frames)} packets of {len(every)} sessions to {args.pcap} ({fmt}, "
                  f"{written.length:,} bytes)", file=sys.stderr)  # fmt: skip
        if args.out is not None:
            options = ExportOptions(
                fmt=Format(args.format), gaps=GapPolicy(args.gaps), force=args.force,
                layout=Layout(args.layout), sync=args.sync, return_streams=False,
            )  # fmt: skip
            exporter = Exporter(document, args.out, options, executor=executor, workers=workers)
            manifest = exporter.export(ids)
            print(f"exported {len(manifest['streams'])} sessions to {args.out}", file=sys.stderr)
        return damage(document)
    finally:
        document.close()


def _chosen(document: CaptureDocument, args: argparse.Namespace) -> list[int] | None:
    """The ids named by --session, --stream, --endpoints and --frame (None: all); an unknown
    one is a usage error, before anything is written."""
    if not (args.sessions or args.streams or args.endpoints or args.frames):
        return None
    ids: set[int] = set()
    for session_id in args.sessions or ():
        document.session(session_id)
        ids.add(session_id)
    if args.streams:
        streams = tcp_streams(document.parts, document.flows, document.rows)
        for number in args.streams:
            found = streams.sessions_of(number) if 0 <= number < streams.count else []
            if not found:
                raise UnknownSessionError(
                    f"{document.name} has no tcp.stream {number} (it has {streams.count})"
                )
            ids.update(found)
    for text in args.endpoints or ():
        try:
            pair = set(parse_pair(text))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        found = [s.id for s in document.sessions if set(s.endpoints) == pair]
        if not found:
            raise UnknownSessionError(f"{document.name} has no session between {text}")
        ids.update(found)
    for frame in args.frames or ():
        held = sessions_of_frame(document, frame)  # every one: a frame may hold several
        if not held:
            raise UnknownSessionError(f"{document.name}: frame {frame} is no packet of a TCP session")
        ids.update(held)
    return sorted(ids)
