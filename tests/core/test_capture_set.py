"""Several files as one capture: rotated sets read as the whole file is (issue 9).

The references are independent of monoview: tshark's oracle of the whole
lab capture (compare.py), tshark's count of the frames a cut file holds, and
for generated captures the bytes the generator sent.  A set split with
``editcap -c`` must give the whole file's streams whatever the order of its
files on the command line; a cut member is named with the frame it was cut
at, and the other members' sessions are still read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from monoview.cli import main
from monoview.core.capture.captureset import CaptureSet, SetBuffer, expand
from monoview.core.document import CaptureDocument, DocumentOptions
from monoview.core.export import Exporter, ExportOptions
from monoview.core.listener import Listener
from monoview.core.streambytes import direction_bytes
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from tests.conformance import client_ignored, extra_gaps_explained, load_compare, oracle_for, tshark_view
from tests.conftest import CAPTURES
from tests.pcapgen import Conversation, Frame, pcap_bytes, pcapng_bytes, write_pcap

EDITCAP = shutil.which("editcap")
TSHARK = shutil.which("tshark")
LAB = sorted(p for p in (CAPTURES / "lab").glob("*.pcap*")) if (CAPTURES / "lab").exists() else []
needs_editcap = pytest.mark.skipif(EDITCAP is None, reason="editcap (Wireshark) not installed")


def _describe(document: CaptureDocument) -> dict[str, Any]:
    """Raw bytes, gaps omitted: the manifest whose len/sha256 equal the oracle's (nothing written)."""
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    manifest: dict[str, Any] = Exporter(document, "unused", options).describe()
    return manifest


def _frames(capture: Path) -> int:
    out = subprocess.run([TSHARK or "tshark", "-r", str(capture), "-T", "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=False).stdout  # fmt: skip
    return len(out.split())


def _split(capture: Path, folder: Path, files: int = 4) -> list[Path]:
    """``capture`` cut by editcap into ``files`` files of equal frame counts."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = _frames(capture) if TSHARK else 400
    each = max(1, -(-frames // files))
    subprocess.run(
        [EDITCAP or "editcap", "-c", str(each), str(capture), str(folder / "part.pcapng")], check=True
    )
    return sorted(folder.iterdir())


def _alone_sessions(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with CaptureDocument(path, workers=1) as document:
            total += len(document)
    return total


@needs_editcap
@pytest.mark.skipif(not LAB, reason="shared/captures/lab not available")
@pytest.mark.parametrize("capture", LAB, ids=[p.name for p in LAB])
def test_a_split_lab_capture_matches_the_whole_files_oracle(capture: Path, tmp_path: Path) -> None:
    paths = _split(capture, tmp_path / "set")
    assert len(paths) >= 3
    oracle = oracle_for(capture)
    with CaptureDocument(paths, workers=1) as document:
        manifest = _describe(document)
        assert document.stats.frames == _frames(capture) or TSHARK is None
    diffs, _matched, mismatched = load_compare().summary(
        oracle, tshark_view(manifest), ignore=client_ignored(oracle)
    )
    assert diffs == [] and mismatched == 0
    assert extra_gaps_explained(oracle, manifest) == []
    assert manifest["capture"]["read_error"] is None
    assert [f["file"] for f in manifest["capture"]["files"]] == [p.name for p in paths]


@needs_editcap
@pytest.mark.skipif(not (CAPTURES / "lab" / "http_many.pcap").exists(), reason="lab captures absent")
def test_sessions_continue_across_files_in_any_order_and_from_a_folder(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    capture = CAPTURES / "lab" / "http_many.pcap"
    paths = _split(capture, tmp_path / "set")
    with CaptureDocument(paths, workers=1) as document:
        whole = len(document)
        assert whole == len(oracle_for(capture)["streams"])
    assert _alone_sessions(paths) > whole  # some sessions were cut by the split

    def listing(*arguments: str | Path) -> dict[str, Any]:
        assert main(["sessions", "--json", *map(str, arguments)]) == 0
        out: dict[str, Any] = json.loads(capsys.readouterr().out)
        return out

    ordered = listing(*paths)
    assert ordered["files"] == [p.name for p in paths]
    shuffled = [paths[2], paths[0], paths[3], paths[1]]
    assert listing(*shuffled) == ordered
    assert listing(*reversed(paths)) == ordered
    assert listing(tmp_path / "set") == ordered
    assert listing(paths[0], tmp_path / "set", paths[2]) == ordered  # each file is read once
    assert ordered["sessions"] == listing(capture)["sessions"]

    def exported(name: str, *arguments: str | Path) -> dict[str, Any]:
        assert main(["export", *map(str, arguments), "--out", str(tmp_path / name)]) == 0
        out: dict[str, Any] = json.loads((tmp_path / name / "manifest.json").read_text())
        return out

    manifest = exported("set", *shuffled)
    assert manifest["streams"] == exported("whole", capture)["streams"]
    assert [f["file"] for f in manifest["capture"]["files"]] == [p.name for p in paths]
    followed = []
    for arguments in ([*shuffled], [capture]):
        capsys.readouterr()
        assert main(["follow", *map(str, arguments), "19", "--format", "hex"]) == 0
        followed.append(capsys.readouterr().out)
    assert followed[0] and followed[0] == followed[1]


@needs_editcap
@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.skipif(not (CAPTURES / "lab" / "http_many.pcap").exists(), reason="lab captures absent")
def test_a_cut_middle_file_is_named_and_the_other_files_are_read(tmp_path: Path) -> None:
    capture = CAPTURES / "lab" / "http_many.pcap"
    paths = _split(capture, tmp_path / "set")
    middle = paths[1]
    before = _frames(paths[0])
    last_ts = float(subprocess.run([TSHARK or "tshark", "-r", str(middle), "-T", "fields", "-e",
                                    "frame.time_epoch"], capture_output=True, text=True, check=True
                                   ).stdout.split()[-1])  # fmt: skip
    with middle.open("r+b") as handle:
        handle.truncate(middle.stat().st_size // 2 + 7)  # inside a record
    kept = _frames(middle)  # tshark reads the records before the cut
    with CaptureDocument(paths, workers=1) as document:
        error = document.read_error
        manifest = _describe(document)
    assert error is not None
    assert middle.name in error and f"frame {before + kept + 1}" in error
    assert f"of {middle.name} are not read" in error
    assert manifest["capture"]["read_error"] == error
    # Sessions that start after the cut file ended are exactly the whole file's (the rest of
    # a session that began in the lost bytes is a session of its own, not compared).
    oracle = oracle_for(capture)
    late = {**oracle, "streams": [s for s in oracle["streams"] if float(s["first_ts"]) > last_ts]}
    assert late["streams"]
    earlier = {_pair(s) for s in oracle["streams"] if float(s["first_ts"]) <= last_ts}
    kept = [s for s in manifest["streams"] if float(s["first_ts"]) > last_ts and _pair(s) not in earlier]
    ours = {**manifest, "streams": kept}
    diffs, _ok, bad = load_compare().summary(late, tshark_view(ours), ignore=client_ignored(oracle))
    assert diffs == [] and bad == 0


def _pair(stream: dict[str, Any]) -> frozenset[tuple[str, int]]:
    return frozenset((e["ip"], int(e["port"])) for e in stream["endpoints"])


def test_a_file_that_is_no_capture_is_left_out_and_said(tmp_path: Path) -> None:
    conversation = Conversation().handshake().send(True, b"hello").close()
    good = write_pcap(tmp_path / "a.pcap", conversation.frames)
    (tmp_path / "b.pcap").write_bytes(b"not a capture at all")
    (tmp_path / "c.pcap").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("ignored: not a capture's name")
    assert expand([tmp_path]) == [
        good.resolve(),
        (tmp_path / "b.pcap").resolve(),
        (tmp_path / "c.pcap").resolve(),
    ]
    with CaptureDocument(tmp_path, workers=1) as document:
        assert len(document) == 1
        assert document.files == [good.resolve()]
        assert document.read_error is not None
        assert "b.pcap" in document.read_error and "c.pcap" in document.read_error


def _two_conversations() -> tuple[list[Frame], dict[tuple[int, str], bytes]]:
    """Two interleaved connections with data both ways, and the bytes each direction sent."""
    first = Conversation(start_ns=1_700_000_000_000_000_000)
    second = Conversation(client=("10.0.0.3", 40001), start_ns=1_700_000_000_000_500_000)
    sent = {}
    for k, conv in enumerate((first, second)):
        request, reply = bytes(range(k, 200 + k)) * 3, hashlib.sha256(bytes([k])).digest() * 90
        conv.handshake().send(True, request, mss=300).send(False, reply, mss=700).close()
        sent[(k, "c2s")], sent[(k, "s2c")] = request, reply
    frames = sorted(first.frames + second.frames, key=lambda f: f.ts_ns)
    return frames, sent


@pytest.mark.parametrize("overlap", [0, 2])
def test_a_capture_split_at_every_record_boundary_reads_as_the_whole(tmp_path: Path, overlap: int) -> None:
    """Property: for every cut (and rotated files that repeat ``overlap`` frames across the cut,
    read as retransmissions), the set holds the generator's two sessions, byte for byte."""
    frames, sent = _two_conversations()
    for cut in range(1, len(frames)):
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        later = write_pcap(folder / "a-later.pcap", frames[max(cut - overlap, 0) :])
        earlier = write_pcap(folder / "z-earlier.pcap", frames[:cut])
        with CaptureDocument([later, earlier], workers=1) as document:
            if cut > overlap:  # else both begin with the same packet: their names decide
                assert [p.name for p in document.files] == [earlier.name, later.name]
            assert document.stats.frames == len(frames) + min(overlap, cut)
            assert len(document) == 2, cut
            for k in range(2):
                session = document.conversation(k + 1)
                for direction in ("c2s", "s2c"):
                    assert direction_bytes(session, direction) == sent[(k, direction)], (cut, k, direction)
                    assert session.gaps(direction) == []


def test_every_byte_knows_its_file_and_offset(tmp_path: Path) -> None:
    frames, sent = _two_conversations()
    earlier = write_pcap(tmp_path / "1.pcap", frames[:9])
    later = write_pcap(tmp_path / "2.pcap", frames[9:])
    with CaptureDocument([earlier, later], workers=1) as document:
        assert isinstance(document.source, CaptureSet) and isinstance(document.buffer, SetBuffer)
        spans = []
        for k in range(2):
            for direction in ("c2s", "s2c"):
                stream = document.conversation(k + 1).stream(direction)
                files = set()
                for start, length in zip(stream.p_file, stream.p_len, strict=True):
                    path, offset = document.where(start)
                    files.add(path.name)
                    piece = path.read_bytes()[offset : offset + length]
                    assert piece == document.buffer[start : start + length]
                    assert piece in sent[(k, direction)]
                spans.append(files)
        # the second connection's request is cut by the rotation; its response is all in 2.pcap
        assert spans == [{"1.pcap"}, {"2.pcap"}, {"1.pcap", "2.pcap"}, {"2.pcap"}]
        start = document.conversation(2).stream("s2c").p_file[0]
        _path, local = document.where(start)
        assert document.offset_text(start) == f"2.pcap offset 0x{local:x}"
        assert local == start - earlier.stat().st_size
    with CaptureDocument(earlier, workers=1) as single:
        assert single.offset_text(40) == "file offset 0x28" and single.where(40) == (single.path, 40)


@pytest.mark.slow
def test_worker_processes_read_the_set(tmp_path: Path) -> None:
    """Indexing, summarising and export in worker processes map the members themselves."""
    frames, sent = _two_conversations()
    paths = [
        write_pcap(tmp_path / f"{k}.pcap", frames[k * 10 : (k + 1) * 10])
        for k in range(len(frames) // 10 + 1)
    ]
    with CaptureDocument(paths, workers=2, min_range=64) as document:
        assert len(document) == 2
        out = tmp_path / "out"
        manifest = Exporter(document, out, ExportOptions(), workers=2).export()
    for k, stream in enumerate(manifest["streams"]):
        assert stream["c2s"]["sha256"] == hashlib.sha256(sent[(k, "c2s")]).hexdigest()
        assert stream["s2c"]["sha256"] == hashlib.sha256(sent[(k, "s2c")]).hexdigest()


def test_members_of_different_formats_link_types_and_compression(tmp_path: Path) -> None:
    """An Ethernet pcap, a gzip-compressed raw-IP pcap and a pcapng with two interfaces (raw IP
    on its second) make one capture: each member is decoded by its own header."""
    frames, sent = _two_conversations()
    a, b = len(frames) // 3, 2 * len(frames) // 3
    first = write_pcap(tmp_path / "c.pcap", frames[:a])
    raw = [Frame(f.ts_ns, f.data[14:]) for f in frames[a:b]]
    (tmp_path / "b.pcap.gz").write_bytes(gzip.compress(pcap_bytes(raw, linktype=101)))
    tail = [Frame(f.ts_ns, f.data[14:], interface=1) for f in frames[b:]]
    (tmp_path / "a.pcapng").write_bytes(pcapng_bytes([([(1, 6), (101, 9)], tail)]))
    with CaptureDocument(tmp_path, workers=1) as document:
        assert [p.name for p in document.files] == [first.name, "b.pcap", "a.pcapng"]
        assert document.format == "pcap+pcapng" and document.read_error is None
        assert document.stats.frames == len(frames)
        assert len(document) == 2
        for k in range(2):
            for direction in ("c2s", "s2c"):
                assert direction_bytes(document.conversation(k + 1), direction) == sent[(k, direction)]
    with CaptureDocument(tmp_path, DocumentOptions(split_interfaces=True), workers=1) as split:
        # interfaces are numbered as each file declares them: the pcapng's interface 1 is
        # not the pcaps' interface 0, so each connection is two sessions there
        assert len(split) == 4


def test_a_folder_with_one_capture_is_that_capture(tmp_path: Path) -> None:
    conversation = Conversation().handshake().send(True, b"hello").close()
    only = write_pcap(tmp_path / "only.pcap", conversation.frames)
    with CaptureDocument(tmp_path, workers=1) as document:
        assert document.name == "only.pcap" and document.files == [only.resolve()]
        assert not isinstance(document.source, CaptureSet)


def test_a_rotated_pcapng_keeps_its_interfaces_apart_as_the_whole_file_does(tmp_path: Path) -> None:
    """Rotated pcapng files declare the same interfaces in the same order: with interfaces kept
    apart, one connection seen on two interfaces is two sessions, across the files too."""
    conversation = Conversation().handshake().send(True, b"request " * 300, mss=500).close()
    frames = conversation.frames
    copies = [Frame(f.ts_ns + 300_000, f.data, interface=1) for f in frames]
    both = sorted(frames + copies, key=lambda f: f.ts_ns)
    interfaces = [(1, 6), (1, 9)]
    half = len(both) // 2
    (tmp_path / "1.pcapng").write_bytes(pcapng_bytes([(interfaces, both[:half])]))
    (tmp_path / "2.pcapng").write_bytes(pcapng_bytes([(interfaces, both[half:])]))
    with CaptureDocument(tmp_path, DocumentOptions(split_interfaces=True), workers=1) as split:
        assert len(split) == 2
        assert sorted(i.context for i in split.sessions) == [(-2,), (-1,)]
        for k in (1, 2):
            assert direction_bytes(split.conversation(k), "c2s") == b"request " * 300
            assert split.conversation(k).gaps("c2s") == []
    with CaptureDocument(tmp_path, workers=1) as joined:
        assert len(joined) == 1  # the second interface's copies are retransmissions
        assert direction_bytes(joined.conversation(1), "c2s") == b"request " * 300


def test_the_python_api_opens_a_set(tmp_path: Path) -> None:
    import monoview

    frames, sent = _two_conversations()
    paths = [write_pcap(tmp_path / "x.pcap", frames[:13]), write_pcap(tmp_path / "y.pcap", frames[13:])]
    with monoview.open(paths) as capture:
        assert len(capture) == 2 and capture.stats.frames == len(frames)
        assert direction_bytes(capture.conversation(2), "s2c") == sent[(1, "s2c")]


def test_listeners_read_each_files_payload_from_its_own_place(tmp_path: Path) -> None:
    """``dispatch`` (what ``trace`` and ``http`` replay to their listeners) gathers many
    flows' rows at once; those rows' payload offsets missed their file's place in the set,
    so the second file's sessions were read from the first file's bytes (the GET of the
    first session where a POST was)."""
    first = Conversation().handshake().send(True, b"GET / HTTP/1.0\r\n\r\n").send(False, b"A" * 60).close()
    second = Conversation(client=("10.0.0.9", 41000), start_ns=first.start_ns + 10**9)
    second.handshake().send(True, b"POST /other HTTP/1.0\r\n\r\n" + b"x" * 30).send(False, b"B" * 50).close()
    write_pcap(tmp_path / "a.pcap", first.frames)
    write_pcap(tmp_path / "b.pcap", second.frames)

    class Monologues(Listener):
        def __init__(self) -> None:
            self.seen: list[tuple[int, str, bytes]] = []

        def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
            self.seen.append((session.id, monologue.direction, bytes(monologue.data())))

    with CaptureDocument(tmp_path, workers=1) as document:
        expected = [
            (s.id, m.direction, bytes(m.data())) for s in document.conversations() for m in s.monologues
        ]
        listener = Monologues()
        document.dispatch([listener])
    post = b"POST /other HTTP/1.0\r\n\r\n" + b"x" * 30
    assert [data for _id, _direction, data in expected][2:] == [post, b"B" * 50]
    assert listener.seen == expected
