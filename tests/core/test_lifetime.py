"""A session's lifetime is decided by its own flow's packets and times.

Two connections on one 4-tuple, 122 s apart, the second with no SYN captured:
the first closed long before the second began, so they are two sessions, and
the second's bytes are its own (no phantom gap from the first's sequence
numbers).  The answer must be the same whatever else is in the file: alone,
with thousands of unrelated packets between them, or with those packets after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.export import stream_json
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import Conversation, Frame, write_pcap

SECOND = 10**9


def _two_connections() -> tuple[list[Frame], list[Frame]]:
    first = Conversation(start_ns=1_700_000_000 * SECOND)
    first.handshake().send(True, b"GET /one HTTP/1.1\r\n\r\n").send(False, b"HTTP/1.1 200 OK\r\n\r\none")
    first.close()
    # 122 s later the same 4-tuple carries another connection whose handshake was not
    # captured; its sequence numbers are nowhere near the first one's (899 kB apart).
    second = Conversation(client_isn=900_000, server_isn=5_000_000, start_ns=first._t + 122 * SECOND)
    second.send(True, b"GET /two HTTP/1.1\r\n\r\n").send(False, b"HTTP/1.1 200 OK\r\n\r\ntwo")
    return first.frames, second.frames


def _noise(count: int, start_ns: int) -> list[Frame]:
    other = Conversation(
        client=("10.9.9.9", 45000), server=("10.9.9.8", 443), start_ns=start_ns, step_ns=1000
    )
    other.handshake()
    while len(other.frames) < count:
        other.send(True, b"x" * 20)
    return other.frames


def _summary(path: Path, workers: int | None = None) -> list[dict[str, Any]]:
    """The port-80 sessions: by the per-packet path, or (``workers``) by a capture document
    indexed in that many processes from small ranges."""
    if workers is None:
        sessions = analyse(path).sessions
    else:
        document = CaptureDocument(path, workers=workers, min_range=4096)
        sessions = list(document.conversations())
    out = []
    for session in sessions:
        if session.server.port != 80:
            continue
        entry = stream_json(session)
        entry.pop("id")
        entry["bytes"] = (direction_bytes(session, "c2s"), direction_bytes(session, "s2c"))
        entry["gaps"] = (session.gaps("c2s"), session.gaps("s2c"))
        out.append(entry)
    return out


def test_lifetime_does_not_depend_on_the_rest_of_the_file(tmp_path: Path) -> None:
    first, second = _two_connections()
    alone = _summary(write_pcap(tmp_path / "alone.pcap", first + second))
    between = _summary(
        write_pcap(tmp_path / "between.pcap", first + _noise(4200, first[-1].ts_ns + 1) + second)
    )
    after = _summary(write_pcap(tmp_path / "after.pcap", first + second + _noise(4200, second[-1].ts_ns + 1)))
    assert len(alone) == 2
    assert alone == between == after
    for workers in (1, 2):
        for name in ("alone", "between", "after"):
            assert _summary(tmp_path / f"{name}.pcap", workers) == alone, (name, workers)
    one, two = alone
    assert one["bytes"] == (b"GET /one HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\none")
    assert two["bytes"] == (b"GET /two HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\ntwo")
    assert one["gaps"] == two["gaps"] == ([], [])
    assert one["ended_by"] == "close" and two["ended_by"] == "capture end"


def test_a_connection_that_goes_on_within_the_linger_time_is_one_session(tmp_path: Path) -> None:
    """Packets of a closed connection less than 60 s after its last one still belong to it."""
    first, second = _two_connections()
    late = [Frame(f.ts_ns - 100 * SECOND, f.data) for f in second]  # 22 s after the close
    (session,) = [s for s in analyse(write_pcap(tmp_path / "x.pcap", first + late)).sessions]
    assert session.packets == len(first) + len(late)
