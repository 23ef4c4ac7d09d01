"""``monoview follow``: print one session's conversation, as tshark's ``-z follow,tcp`` does."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from monoview.cli.parser import session_or_pair
from monoview.cli.report import damage
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.errors import MonoviewError, UnknownSessionError
from monoview.core.export import write_chunks
from monoview.core.flows.lookup import sessions_of_frame
from monoview.core.flows.tcpstream import tcp_streams
from monoview.core.follow import Chosen, by_id, by_pair, by_stream, follow_text, listed, parse_pair
from monoview.core.showas import ShowAs, render, segments, turns
from monoview.core.streambytes import GapPolicy, monologue_chunks

_SHOW_AS = {how.cli_name: how for how in ShowAs}


class UsageError(MonoviewError):
    """The session was not named in a way follow understands."""


def _session_from_captures(args: argparse.Namespace) -> None:
    """``follow FILE... SESSION``: argparse gives the session to the capture list (both are
    positional, the session optional); the last word is the session unless it is a file."""
    if args.session is None and len(args.capture) > 1 and not Path(args.capture[-1]).exists():
        word = str(args.capture[-1])
        if not word.lstrip("-").isdigit() and "," not in word:
            return  # a missing file, which the reader will name
        try:
            args.session = session_or_pair(word)
        except argparse.ArgumentTypeError as exc:  # as argparse says it, with its status
            print(f"monoview follow: error: argument session: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        args.capture.pop()


def run(args: argparse.Namespace) -> int:
    """Print one session's conversation (reassembled on demand: only its own packets are read)."""
    _session_from_captures(args)
    document = CaptureDocument(args.capture, DocumentOptions(split_interfaces=args.split_interfaces))
    try:
        chosen = _choose(document, args)
        if chosen.note:
            print(f"monoview: note: {chosen.note}", file=sys.stderr)
        session = document.conversation(chosen.session_id)
        out = sys.stdout.buffer
        if args.show_as is not None:
            how = _SHOW_AS[args.show_as]
            picked = segments(session.monologues) if args.segments else turns(session.monologues)
            out.write(render(session, picked, how).encode("utf-8", errors="surrogateescape"))
        elif args.format == "bytes":
            policy = GapPolicy(args.gaps)
            for monologue in session.monologues:
                write_chunks(out, monologue_chunks(monologue, policy))
        else:
            text = follow_text(session, args.format, chosen.filter, monologues=args.monologues)
            out.write(text.encode("utf-8", errors="surrogateescape"))
        out.flush()
        del session
        return damage(document)
    finally:
        document.close()


def _choose(document: CaptureDocument, args: argparse.Namespace) -> Chosen:
    """The session named by id, endpoints, ``--stream`` or ``--frame`` (exactly one of them)."""
    named = args.session
    if [named, args.stream, args.frame].count(None) != 2:
        raise UsageError("name one session: its id, its endpoints A:P,B:P, --stream N or --frame N")
    if args.frame is not None:
        return by_frame(document, args.frame)
    if isinstance(named, str):
        try:
            pair = parse_pair(named)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return by_pair(document.sessions, pair, document.name, named)
    streams = tcp_streams(document.parts, document.flows, document.rows)
    if args.stream is not None:
        return by_stream(streams, args.stream, document.name)
    document.session(named)  # an unknown id is reported as such
    return by_id(streams, named)


def by_frame(document: CaptureDocument, frame: int) -> Chosen:
    """The session with a packet in frame ``frame``: of several (an 802.11 A-MSDU, a tunnel
    datagram of several packets), the first in the frame, with a note naming the others."""
    ids = sessions_of_frame(document, frame)
    if not ids:
        raise UnknownSessionError(f"{document.name}: frame {frame} is no packet of a TCP session")
    streams = tcp_streams(document.parts, document.flows, document.rows)
    chosen = by_id(streams, ids[0])
    if len(ids) > 1:
        note = f"frame {frame} holds packets of sessions {listed(ids)}: following session {ids[0]}"
        chosen = replace(chosen, note=note if chosen.note is None else f"{note}; {chosen.note}")
    return chosen
