"""``monoview trace --dump DIR`` writes as export writes: a file per monologue of every
session (sessions reusing one 4-tuple included), complete or not at all, nothing
overwritten without ``--force`` (refused before anything is written), and never
through a link planted in the folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.tcp.trace import dump_name
from tests.core.test_cli import run
from tests.pcapgen import Conversation, write_pcap


def _reused(tmp_path: Path) -> Path:
    """Two connections on one 4-tuple (the second opens with a new SYN and ISN)."""
    first = Conversation()
    first.handshake().send(True, b"one?").send(False, b"one!").close()
    second = Conversation(client_isn=900_000, server_isn=7_000_000, start_ns=first._t + 10**9)
    second.handshake().send(True, b"two?").send(False, b"two!").close()
    return write_pcap(tmp_path / "reused.pcap", first.frames + second.frames)


def _expected(path: Path) -> dict[str, bytes]:
    return {
        dump_name(s.id, s.key, m.index): m.data() for s in analyse(path).sessions for m in s.monologues
    }


def test_every_monologue_of_every_session_gets_its_file(tmp_path: Path) -> None:
    capture = _reused(tmp_path)
    expected = _expected(capture)
    assert len(expected) == 4  # two sessions on one key, two monologues each: four names
    result = run("trace", "--dump", str(tmp_path / "dump"), str(capture))
    assert result.returncode == 0, result.stderr
    assert {p.name: p.read_bytes() for p in (tmp_path / "dump").iterdir()} == expected


def test_an_existing_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    capture = _reused(tmp_path)
    dump = tmp_path / "dump"
    dump.mkdir()
    taken = sorted(_expected(capture))[-1]
    (dump / taken).write_bytes(b"mine")
    result = run("trace", "--dump", str(dump), str(capture))
    assert result.returncode == 1
    assert taken in result.stderr.decode() and "--force" in result.stderr.decode()
    assert [p.name for p in dump.iterdir()] == [taken] and (dump / taken).read_bytes() == b"mine"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_planted_link_is_replaced_not_followed(tmp_path: Path) -> None:
    capture = _reused(tmp_path)
    expected = _expected(capture)
    dump = tmp_path / "dump"
    dump.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    name = sorted(expected)[0]
    (dump / name).symlink_to(outside)
    result = run("trace", "--dump", str(dump), "--force", str(capture))
    assert result.returncode == 0, result.stderr
    assert outside.read_bytes() == b"keep me"
    assert not (dump / name).is_symlink() and (dump / name).read_bytes() == expected[name]
