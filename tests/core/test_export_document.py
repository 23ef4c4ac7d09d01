"""Export from the capture document: the manifest and files are those of the
per-packet export, and they do not depend on how the work was split.

The determinism test exports one capture with 1 and 2 worker processes,
ranges of several sizes and several walk batch sizes, and requires the same
manifest byte for byte and the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.errors import ExportError
from monoview.core.executor import local_executor
from monoview.core.export import Exporter, ExportOptions, Layout
from monoview.core.streambytes import GapPolicy
from tests.conftest import DATA, TOOLS
from tests.core.test_walk import CAPTURE_FILES


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _describe(source: object) -> dict[str, object]:
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    return Exporter(source, "unused", options).describe()  # type: ignore[arg-type]


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_document_manifest_is_the_per_packet_manifest(path: Path) -> None:
    document = CaptureDocument(path, workers=1)
    assert _describe(document) == _describe(analyse(path))
    document.close()


def test_document_export_writes_the_per_packet_files(tmp_path: Path) -> None:
    path = DATA / "chatter.pcap"
    for policy in GapPolicy:
        options = ExportOptions(gaps=policy)
        Exporter(analyse(path), tmp_path / f"old-{policy.value}", options).export()
        document = CaptureDocument(path, workers=1)
        Exporter(document, tmp_path / f"new-{policy.value}", options, workers=1).export()
        assert _tree(tmp_path / f"new-{policy.value}") == _tree(tmp_path / f"old-{policy.value}")


def test_files_get_the_users_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        Exporter(CaptureDocument(DATA / "chatter.pcap", workers=1), tmp_path / "x", ExportOptions()).export()
    finally:
        os.umask(old)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "x").rglob("*") if p.is_file()}
    assert modes == {0o640}


def test_directions_layout_writes_streams_only(tmp_path: Path) -> None:
    options = ExportOptions(layout=Layout.DIRECTIONS)
    manifest = Exporter(CaptureDocument(DATA / "chatter.pcap", workers=1), tmp_path, options).export()
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    stream = manifest["streams"][0]
    assert files == sorted([stream["c2s"]["file"], stream["s2c"]["file"], "manifest.json"])
    assert all(m["file"] is None and m["sha256"] is None for m in stream["monologues"])


def test_an_empty_direction_writes_no_file(tmp_path: Path) -> None:
    from tests.pcapgen import Conversation, write_pcap

    conv = Conversation()
    conv.handshake().send(True, b"only the client speaks").close()
    capture = write_pcap(tmp_path / "one-way.pcap", conv.frames)
    manifest = Exporter(CaptureDocument(capture, workers=1), tmp_path / "out", ExportOptions()).export()
    s2c = manifest["streams"][0]["s2c"]
    assert s2c["file"] is None and s2c["len"] == 0
    assert not list((tmp_path / "out").rglob("s2c*"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture of 300 sessions with loss, reordering and retransmissions (the bench's generator)."""
    if not (TOOLS / "make_big_capture.py").exists():
        pytest.skip("shared/tools/make_big_capture.py not available")
    path = tmp_path_factory.mktemp("gen") / "gen.pcap"
    subprocess.run(
        [sys.executable, str(TOOLS / "make_big_capture.py"), "-o", str(path), "--size", "6M",
         "--sessions", "300", "--bulk", "3", "--seed", "3", "-q"],
        check=True, capture_output=True,
    )  # fmt: skip
    return path


def test_the_same_export_whatever_the_split(tmp_path: Path, generated: Path) -> None:
    """One file, 1 and 2 worker processes, several range and batch sizes, the manifest lines
    sent back or spooled by the workers (``return_streams``): the same bytes, and no spool left."""
    path = generated
    size = path.stat().st_size
    results = []
    for k, (workers, min_range, batch) in enumerate(
        [(1, 1 << 40, 8192), (2, size // 3, 8192), (2, size // 7, 333), (1, size // 5, 64), (2, 1, 4096)]
    ):
        with local_executor(workers) as pool:
            document = CaptureDocument(
                path, workers=workers, executor=pool, min_range=max(min_range, 1), batch=batch
            )
        out = tmp_path / f"run{k}"
        Exporter(document, out, ExportOptions(return_streams=k % 2 == 0), workers=workers).export()
        results.append(((out / "manifest.json").read_bytes(), _tree(out)))
        document.close()
    assert len(results[0][1]) > 1000  # every session's files
    assert all(r == results[0] for r in results[1:])
    # And it is what the per-packet path writes.
    Exporter(analyse(path), tmp_path / "reference", ExportOptions()).export()
    assert _tree(tmp_path / "reference") == results[0][1]


def test_directions_layout_refuses_to_overwrite_a_stream_file(tmp_path: Path) -> None:
    from monoview.core.errors import ExportError

    document = CaptureDocument(DATA / "chatter.pcap", workers=1)
    options = ExportOptions(layout=Layout.DIRECTIONS)
    manifest = Exporter(document, tmp_path, options).export()
    (tmp_path / "manifest.json").unlink()
    victim = tmp_path / manifest["streams"][0]["s2c"]["file"]
    before = victim.read_bytes()
    with pytest.raises(ExportError, match="exists"):
        Exporter(document, tmp_path, options).export()
    assert victim.read_bytes() == before and not (tmp_path / "manifest.json").exists()
    Exporter(document, tmp_path, ExportOptions(layout=Layout.DIRECTIONS, force=True)).export()
    assert victim.read_bytes() == before


def test_the_writer_keeps_every_byte_of_many_small_and_large_chunks(tmp_path: Path) -> None:
    """More chunks than one writev takes, views and bytes mixed, some empty, one over a block."""
    from monoview.core.atomic import IOV_MAX, AtomicWriter

    backing = bytes(range(256)) * 40
    chunks: list[bytes | memoryview] = []
    for n in range(3 * IOV_MAX):
        view = memoryview(backing)[n % 200 : n % 200 + n % 37]
        chunks.append(view if n % 2 else bytes([n % 251]) * (n % 5))
    chunks.append(b"\x07" * (3 << 20))
    expected = b"".join(bytes(c) for c in chunks)
    written = AtomicWriter(tmp_path, "out/many.bin", force=False).write(chunks)
    assert (tmp_path / "out" / "many.bin").read_bytes() == expected
    assert written.length == len(expected)
    assert written.sha256 == hashlib.sha256(expected).hexdigest()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "many.bin"]


@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed then linked", "temporary name renamed"])
def test_both_ways_of_writing_give_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    """Unnamed files linked into place (Linux) and temporary names renamed (elsewhere, or a
    file system without them): the same files, the umask honoured, existing files refused
    unless forced, and nothing left behind."""
    from monoview.core import atomic as writer

    if unnamed and not writer._Unnamed.works:
        pytest.skip("no unnamed files here")
    monkeypatch.setattr(writer._Unnamed, "works", unnamed)
    old = os.umask(0o027)
    try:
        first = writer.AtomicWriter(tmp_path, "a/b.bin", force=False).write([b"one", memoryview(b"two")])
        with pytest.raises(ExportError, match="exists"):
            writer.AtomicWriter(tmp_path, "a/b.bin", force=False).write([b"other"])
        if unnamed:  # a file that appeared after the check is not replaced either
            with pytest.raises(ExportError, match="exists"):
                writer.AtomicWriter(tmp_path, "a/b.bin", force=False, checked=True).write([b"other"])
        again = writer.AtomicWriter(tmp_path, "a/b.bin", force=True).write([b"three"])
    finally:
        os.umask(old)
    target = tmp_path / "a" / "b.bin"
    assert (first.length, again.length) == (6, 5)
    assert target.read_bytes() == b"three"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.bin"]
    assert writer._Unnamed.works is unnamed  # no fallback was needed


@pytest.mark.parametrize("planted", ["session folder", "monologues"])
def test_force_replaces_a_planted_folder_link_instead_of_writing_through_it(
    tmp_path: Path, planted: str
) -> None:
    """A session's folder (or its ``monologues``) made a link to another folder: without
    ``force`` the export refuses; with it the link is replaced and the other folder kept."""
    from monoview.core.export.session import session_folder

    document = CaptureDocument(DATA / "chatter.pcap", workers=1)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_bytes(b"keep")
    folder = out / session_folder(document.session(1))
    if planted == "session folder":
        out.mkdir()
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        folder.mkdir(parents=True)
        (folder / "monologues").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ExportError):
        Exporter(document, out, ExportOptions(), workers=1).export()
    Exporter(document, out, ExportOptions(force=True), workers=1).export()
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]
    assert not folder.is_symlink() and not (folder / "monologues").is_symlink()
    assert (folder / "monologues").is_dir() and any((folder / "monologues").iterdir())


@pytest.mark.parametrize("layout", ["full", "directions"])
def test_force_replaces_planted_file_links_instead_of_writing_through_them(
    tmp_path: Path, layout: str
) -> None:
    """Every file an export writes (the manifest, each direction, monologue and transcript) made
    a link to a file outside the folder: with ``force`` each link is replaced by the real file,
    and nothing outside changes."""
    from monoview.core.export.options import Layout

    document = CaptureDocument(DATA / "chatter.pcap", workers=1)
    options = ExportOptions(force=True, layout=Layout(layout))
    out, outside = tmp_path / "out", tmp_path / "outside"
    expected = Exporter(document, tmp_path / "clean", options, workers=1).export()
    written = [p.relative_to(tmp_path / "clean") for p in (tmp_path / "clean").rglob("*") if p.is_file()]
    assert len(written) >= 3
    outside.write_bytes(b"precious")
    for name in written:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).symlink_to(outside)
    manifest = Exporter(document, out, options, workers=1).export()
    assert outside.read_bytes() == b"precious"
    assert manifest["streams"] == expected["streams"]
    for name in written:
        assert not (out / name).is_symlink(), name
        if name.name != "manifest.json":
            assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name


def test_a_spooled_manifest_is_the_returned_one_on_every_shared_capture(tmp_path: Path) -> None:
    """The command line's export (lines spooled by the workers, copied into the manifest) writes
    the manifest the API's export writes (lines and entries sent back), byte for byte."""
    if not CAPTURE_FILES:
        pytest.skip("no captures")
    checked = 0
    for n, path in enumerate(CAPTURE_FILES):
        with CaptureDocument(path, workers=1) as document:
            for spooled in (False, True):
                options = ExportOptions(return_streams=not spooled, layout=Layout.DIRECTIONS)
                Exporter(document, tmp_path / f"{n}-{spooled}", options, workers=1).export()
        returned, spooled_out = tmp_path / f"{n}-False", tmp_path / f"{n}-True"
        assert (spooled_out / "manifest.json").read_bytes() == (returned / "manifest.json").read_bytes(), path
        assert _tree(spooled_out) == _tree(returned), path
        # The lines are composed by hand from pieces; each must be what json.dumps makes of its
        # entry (same separators, same key order), or a reader re-encoding them would differ.
        from monoview.core.export.manifest import item_line

        text = (spooled_out / "manifest.json").read_text()
        lines = [line.strip().rstrip(",") for line in text.splitlines() if line.startswith('  {"id": ')]
        assert all(item_line(json.loads(line)) == line for line in lines), path
        checked += len(lines)
    assert checked > 0


def test_an_export_leaves_the_spools_of_a_running_export_alone(tmp_path: Path) -> None:
    """Two exports into one folder at once must not remove each other's spools; a spool whose
    export died (its process is gone) is removed by the next export."""
    from monoview.core.atomic import PART_SUFFIX
    from monoview.core.export.spool import SPOOL_PREFIX

    out = tmp_path / "out"
    out.mkdir()
    running = out / f"{SPOOL_PREFIX}{os.getpid()}.feedbeef.{os.getpid()}.0{PART_SUFFIX}"  # ours: alive
    running.write_text("a line of another export")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead = out / f"{SPOOL_PREFIX}{int(gone.stdout)}.deadbeef.1.0{PART_SUFFIX}"
    dead.write_text("a line of a killed export")
    with CaptureDocument(DATA / "chatter.pcap", workers=1) as document:
        Exporter(document, out, ExportOptions(return_streams=False, force=True), workers=1).export()
    assert running.read_text() == "a line of another export"
    assert not dead.exists()
    assert sorted(p.name for p in out.glob(f"{SPOOL_PREFIX}*")) == [running.name]


def test_exporting_many_monologues_holds_no_entry_per_monologue(tmp_path: Path) -> None:
    """One session of many one-byte monologues (each its own file): with the lines spooled, the
    export holds what the reassembly holds and little more, at any count; the returned entries
    would cost a kilobyte or more per monologue (a dict and its values)."""
    import tracemalloc

    from monoview.core.executor import InlineExecutor
    from tests.pcapgen import ACK, FIN, PSH, SYN, ipv4_tcp_frame, raw_pcap

    def capture(n: int) -> Path:
        c, s = (0x0A000001, 40000), (0x0A000002, 80)

        def frames():  # type: ignore[no-untyped-def]
            yield ipv4_tcp_frame(*c, *s, 1000, 0, SYN, b"")
            yield ipv4_tcp_frame(*s, *c, 5000, 1001, SYN | ACK, b"")
            for k in range(n):
                src, dst = (c, s) if k % 2 == 0 else (s, c)
                seq = (1001 if k % 2 == 0 else 5001) + k // 2
                ack = (5001 + (k + 1) // 2) if k % 2 == 0 else (1001 + (k + 1) // 2)
                yield ipv4_tcp_frame(*src, *dst, seq, ack, PSH | ACK, b"m")
            yield ipv4_tcp_frame(*c, *s, 1001 + (n + 1) // 2, 5001 + n // 2, FIN | ACK, b"")

        return raw_pcap(tmp_path / f"mono-{n}.pcap", frames())

    def peak_per_monologue(n: int, spooled: bool) -> float:
        with CaptureDocument(capture(n), workers=1) as document:
            document.conversation(1, keep=False)  # the index and the mapping, before measuring
            options = ExportOptions(return_streams=not spooled, layout=Layout.DIRECTIONS)
            tracemalloc.start()
            try:
                exporter = Exporter(
                    document, tmp_path / f"out-{n}-{spooled}", options, executor=InlineExecutor()
                )
                exporter.export()
                _current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        return peak / n

    def reassembly_per_monologue(n: int) -> float:
        with CaptureDocument(capture(n), workers=1) as document:
            document.conversation(1, keep=False)
            tracemalloc.start()
            try:
                session = document.conversation(1, keep=False)
                _current, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert len(session.monologues) == n
        return peak / n

    spooled = peak_per_monologue(4000, True), peak_per_monologue(8000, True)
    returned = peak_per_monologue(8000, False)
    reassembly = reassembly_per_monologue(8000)
    # measured: about 660 B a monologue spooled, less than a conversation's reassembly at its
    # peak (750 B; the export builds clean sessions from their rows); 2,000 B returned
    assert spooled[1] < spooled[0] * 1.25, spooled
    assert spooled[1] < reassembly * 1.25, (spooled, reassembly)
    assert returned > 2 * spooled[1], (returned, spooled)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_the_same_export_whatever_rows_the_replay_reads_at_once(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replayed flows' rows and run hints are made a batch of flows at a time
    (``conversations.REPLAY_BATCH_ROWS``); one flow a batch (and a flow needed again after
    its batch read alone) writes the same files and manifest."""
    from monoview.core.flows import conversations

    with CaptureDocument(path, workers=1) as document:
        monkeypatch.setattr(conversations, "REPLAY_BATCH_ROWS", 1 << 62)  # all at once
        Exporter(document, tmp_path / "whole", ExportOptions(), workers=1).export()
        monkeypatch.setattr(conversations, "REPLAY_BATCH_ROWS", 1)
        Exporter(document, tmp_path / "batched", ExportOptions(), workers=1).export()
    assert _tree(tmp_path / "batched") == _tree(tmp_path / "whole")
