"""``monoview http --export`` against ``tshark --export-objects http`` on every shared capture.

The reference (tests/reference/http_objects.json, made by make_http_objects.py with tshark
4.0) lists, for every shared capture where tshark finds an HTTP object, each object's name,
size and sha256; tshark de-chunks and decodes Content-Encoding for export, as monoview does.
For each capture, the sha256 multiset of the files monoview's export writes for its
*complete* objects must equal tshark's, except for the objects listed below, each shown
wrong (or missing) in tshark by a test of its own that looks at the capture's bytes.
Incomplete objects (a body across a gap) are exported too, flagged in the manifest; tshark
exports none of them, so they are left out of the comparison.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.http_export import export_objects
from monoview.core.http_objects import HttpObject, objects_of
from monoview.core.streambytes import direction_bytes
from tests.conftest import CAPTURES, shared_capture
from tests.core.test_http_objects import sha, transactions

REFERENCE = json.loads((Path(__file__).parent.parent / "reference" / "http_objects.json").read_text())
TSHARK = REFERENCE["captures"]

# tshark objects monoview does not export: sha256 -> why tshark is wrong.
TSHARK_ONLY = {
    "lab/snaplen96.pcap": "each is one segment's 30 captured bytes (the snap length cut the rest), "
    "taken as a body; every header crosses a snaplen gap, so no body is in the capture",
    "wild/suricata_tcp-urgent1.pcap": "object8 is the rest of the client's request head after its "
    "urgent byte ('ious HTTP/1.1 ... Connection: keep-alive'), not a body",
    "wild/tcpflow_test1-out-of-order.pcap": "object1 is the last segment of a server stream that holds "
    "no status line at all (the capture starts inside a gzip body); tshark drops the earlier segment",
    "wild/zeek_tcp-reassembly.pcap": "object110 is the end of the client's SEARCH request (two segments "
    "after 8 gaps in its 28 kB request line), listed by tshark as an object of a response",
}
# monoview objects tshark does not export, by capture: why monoview is right.
MONOVIEW_ONLY = {
    "wild/zeek_vlan-collisions.pcap": "tshark merges three sessions (untagged, VLAN 42, QinQ 10/20) "
    "into one and exports its object once; each of the three carries the same file",
    "wild/zeek_http-206_example_b.pcap": "the first 206 response (bytes 0-816895 of 1022920) is complete "
    "and gap-free; tshark exports only the two later ranges",
    "wild/tcpflow_test5-lines-randomized.pcap": "its packets are shuffled; tshark reassembles in file "
    "order and finds no message, monoview by sequence number finds the 1,590-byte file",
}


def exported(path: Path, out: Path) -> tuple[list[HttpObject], dict[str, str]]:
    """The objects of ``path`` and, written by the export, each file's sha256 by name."""
    found = [o for t in transactions(path) for o in objects_of(t, keep_data=True)]
    found.sort(key=lambda o: (o.ts_ns, o.session, o.transaction, o.direction != "request"))
    result = export_objects(found, out, force=False, capture=path.name)
    files = {p.name: sha(p.read_bytes()) for p in out.iterdir() if p.name != "manifest.json"}
    assert sorted(files) == sorted(result.files)
    return found, files


def _shared_without_objects() -> list[str]:
    if not CAPTURES.exists():
        return []
    return [
        f"{folder}/{p.name}"
        for folder in ("lab", "wild")
        for p in sorted((CAPTURES / folder).iterdir())
        if p.suffix in (".pcap", ".pcapng") and f"{folder}/{p.name}" not in TSHARK
    ]


@pytest.mark.parametrize("capture", sorted(TSHARK))
def test_the_export_holds_tshark_s_objects(capture: str, tmp_path: Path) -> None:
    path = shared_capture(capture)
    found, files = exported(path, tmp_path / "out")
    complete = Counter(o.sha256 for o in found if o.complete)
    by_file = Counter(files.values())
    assert complete <= by_file  # every complete object was written with those bytes
    want = Counter(o["sha256"] for o in TSHARK[capture])
    missing, extra = want - complete, complete - want
    assert bool(missing) == (capture in TSHARK_ONLY), (capture, missing)
    assert bool(extra) == (capture in MONOVIEW_ONLY), (capture, extra)


@pytest.mark.parametrize("capture", _shared_without_objects())
def test_no_complete_object_where_tshark_has_none(capture: str) -> None:
    found = [o for t in transactions(shared_capture(capture)) for o in objects_of(t, False)]
    assert not [o for o in found if o.complete] or capture in MONOVIEW_ONLY


def _tshark_objects(capture: str) -> list[dict[str, object]]:
    return list(TSHARK[capture])


def test_snaplen96_tshark_objects_are_segment_fragments() -> None:
    capture = "lab/snaplen96.pcap"
    path = shared_capture(capture)
    sessions = analyse(path).sessions
    segments = {
        bytes(session.read(file_offset, length))
        for session in sessions
        for monologue in session.monologues
        if monologue.direction == "s2c"
        for _offset, length, file_offset, _frame in monologue.pieces()
    }
    # every tshark object is one server segment's captured bytes, or the end of one
    for obj in _tshark_objects(capture):
        assert any(sha(seg[-int(obj["size"]) :]) == obj["sha256"] for seg in segments), obj  # type: ignore[call-overload]
    # while each response's first segment ends inside its header: no body byte is known
    for session in sessions:
        for monologue in session.monologues:
            if monologue.direction == "s2c" and monologue.data().startswith(b"HTTP/"):
                _offset, length, file_offset, _frame = next(iter(monologue.pieces()))
                first = bytes(session.read(file_offset, length))
                assert b"\r\n\r\n" not in first and monologue.gaps()
    # monoview lists the responses, with no body
    assert all(t.response is None or t.response.body_length == 0 for t in transactions(path))


def test_urgent1_tshark_object_is_request_head() -> None:
    capture = "wild/suricata_tcp-urgent1.pcap"
    (session,) = analyse(shared_capture(capture)).sessions
    sent = direction_bytes(session, "c2s")
    head_end = sent.index(b"\r\n\r\n") + 4
    assert head_end == len(sent)  # the client sent a request head and nothing more: no body
    assert sent.startswith(b"GET /malicXious HTTP/1.1\r\n")
    (t,) = transactions(shared_capture(capture))
    assert t.uri == "/malicXious" and t.request is not None and t.request.body_length == 0
    tail = sent[len(b"GET /malicX") :]
    sizes = {o["size"] for o in _tshark_objects(capture)}
    assert len(tail) in sizes  # tshark's 156-byte object is exactly that tail of the head


def test_out_of_order_tshark_object_is_a_bare_segment() -> None:
    capture = "wild/tcpflow_test1-out-of-order.pcap"
    (session,) = analyse(shared_capture(capture)).sessions
    served = direction_bytes(session, "s2c")
    assert b"HTTP/1." not in served and direction_bytes(session, "c2s") == b""
    (obj,) = _tshark_objects(capture)
    assert sha(served[-int(obj["size"]) :]) == obj["sha256"]  # type: ignore[call-overload]


def _tcp_payloads(path: Path, frames: set[int]) -> dict[int, tuple[bytes, bytes]]:
    """Source address and TCP payload of the chosen frames (1-based), read with dpkt."""
    import dpkt

    out = {}
    with path.open("rb") as f:
        for number, (_ts, buf) in enumerate(dpkt.pcap.Reader(f), 1):
            if number in frames:
                ip = dpkt.ethernet.Ethernet(buf).data
                out[number] = (bytes(ip.src), bytes(ip.data.data))
    return out


def test_reassembly_tshark_object_is_request_bytes() -> None:
    """object110 is frames 108 and 110 as sent by the client: the end of a SEARCH request
    whose 1-byte body (``Content-length: 1``) came long before; there is no server data."""
    capture = "wild/zeek_tcp-reassembly.pcap"
    path = shared_capture(capture)
    (session,) = analyse(path).sessions
    sent = direction_bytes(session, "c2s")
    assert sent.startswith(b"SEARCH /") and direction_bytes(session, "s2c") == b""
    assert b"Content-length: 1\r\n\r\nO<?xml" in sent and len(session.gaps("c2s")) >= 8
    (obj,) = _tshark_objects(capture)
    frames = _tcp_payloads(path, {108, 110})
    client = {src for src, _payload in frames.values()}
    assert client == {bytes([63, 193, 213, 194])}  # the client, 63.193.213.194 (monoview sessions)
    assert sha(frames[108][1] + frames[110][1]) == obj["sha256"]


def test_206_first_range_is_complete() -> None:
    capture = "wild/zeek_http-206_example_b.pcap"
    found = transactions(shared_capture(capture))
    ranges = [t.response.headers["content-range"] for t in found if t.response]
    assert ranges[:2] == ["bytes 0-816895/1022920", "bytes 816896-1022919/1022920"]
    first, second = (t.response for t in found[:2])
    assert first is not None and second is not None
    assert first.complete and not found[0].session.gaps("s2c")
    whole = bytes(first.body) + bytes(second.body)
    assert len(whole) == 1022920 and whole.startswith(b"MZ")  # the two ranges make the .exe
    tshark = {o["sha256"] for o in _tshark_objects(capture)}
    assert sha(second.body) in tshark and sha(first.body) not in tshark


def test_vlan_collisions_three_copies() -> None:
    capture = "wild/zeek_vlan-collisions.pcap"
    found = [o for t in transactions(shared_capture(capture)) for o in objects_of(t, False)]
    (obj,) = _tshark_objects(capture)
    assert [o.sha256 for o in found] == [obj["sha256"]] * 3
    assert len({o.session for o in found}) == 3


def test_randomized_lines_are_the_file() -> None:
    capture = "wild/tcpflow_test5-lines-randomized.pcap"
    (t,) = transactions(shared_capture(capture))
    assert t.response is not None
    assert bytes(t.response.body) == b"".join(b"this is line %d\n" % i for i in range(100))
    assert t.response.headers["etag"].strip('"').split("-")[0] == f"{1590:x}"  # Apache's ETag: the size


@pytest.mark.parametrize("capture", ["lab/http_many.pcap", "wild/zeek_http-pipelined-requests.pcap"])
def test_workers_write_the_same_export(capture: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers write the bodies into the parts folder as transactions complete; the export
    then holds tshark's files under tshark's names, and no parts folder is left."""
    from monoview.core import fanout
    from monoview.core.document import CaptureDocument
    from monoview.core.http_export import PARTS, ExportListeners, export_rows

    monkeypatch.setattr(fanout, "PARALLEL_SESSIONS", 1)  # workers even for a few sessions
    path = shared_capture(capture)
    document = CaptureDocument(path, workers=1)
    try:
        for workers in (1, 2):
            out = tmp_path / f"w{workers}"
            pairs, failures = fanout.map_sessions(
                document, ExportListeners(str(out)), export_rows, workers=workers
            )
            assert not failures
            found = [obj for _row, objs in pairs for obj in objs]
            assert all(obj.data is None and obj.part for obj in found)
            found.sort(key=lambda o: (o.ts_ns, o.session, o.transaction, o.direction != "request"))
            export_objects(found, out, force=False, capture=path.name)
            files = {p.name: sha(p.read_bytes()) for p in out.iterdir() if p.name != "manifest.json"}
            assert files == {o["name"]: o["sha256"] for o in TSHARK[capture]}
            assert not (out / PARTS).exists()
    finally:
        document.close()
