"""Correctness bugs found in review, each shown by a minimal synthetic capture.

Every test states the correct behaviour; each failed when it was written, and
the fix that made it pass is in the commit that removed its xfail mark.  They
stay as regression tests.
"""

from __future__ import annotations

import struct
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.export import Format, transcript_chunks
from monoview.core.streambytes import GapPolicy, direction_bytes
from tests.pcapgen import (
    ACK,
    CLIENT,
    FIN,
    PSH,
    RST,
    SERVER,
    SYN,
    Conversation,
    Frame,
    ethernet,
    ip_bytes,
    tcp_ip,
    write_pcap,
)


def ipv4_fragment(ident: int, offset: int, more: bool, data: bytes) -> bytes:
    """One IPv4 fragment (client to server) carrying ``data`` at datagram offset ``offset``."""
    flags = offset // 8 | (0x2000 if more else 0)
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(data),
        ident,
        flags,
        64,
        6,
        0,
        ip_bytes(CLIENT[0]),
        ip_bytes(SERVER[0]),
    )
    return ethernet(header + data)


def add_fragments(conv: Conversation, ip_packet: bytes, cut: int, ident: int = 77) -> None:
    """Append ``ip_packet`` (IPv4, client to server) as two fragments split ``cut`` bytes into its payload."""
    payload = ip_packet[20:]
    for offset, more, part in ((0, True, payload[:cut]), (cut, False, payload[cut:])):
        conv._t += conv.step_ns
        conv.frames.append(Frame(conv._t, ipv4_fragment(ident, offset, more, part)))


# -- table.SessionTable._is_new_connection --------------------------------------


def test_synack_after_closed_midstream_session_starts_a_new_session(tmp_path: Path) -> None:
    # Connection 1 is picked up mid-stream and closes (FIN both ways, last ACK).
    # Connection 2 reuses the 4-tuple; its SYN was not captured, its SYN/ACK was.
    # A SYN/ACK cannot belong to a connection that has finished its close, so it
    # opens a new session (as a SYN would: _is_new_connection returns
    # session.closed for it).  Today both connections become one session with
    # gaps of ~0.9 GB and ~2 GB between them.
    first = Conversation(client_isn=1000, server_isn=5000)
    first.send(True, b"hello").send(False, b"world").close()
    second = Conversation(client_isn=900_000_000, server_isn=2_000_000_000, start_ns=first._t + 10**9)
    second.handshake()
    del second.frames[0]  # the SYN was not captured
    second.send(True, b"second request").send(False, b"second reply").close()
    sessions = analyse(write_pcap(tmp_path / "x.pcap", first.frames + second.frames)).sessions
    assert len(sessions) == 2
    assert direction_bytes(sessions[1], "c2s") == b"second request"
    assert sessions[1].gaps("c2s") == [] and sessions[1].gaps("s2c") == []


# -- session.TcpSession._note_syn -----------------------------------------------


def test_synack_with_new_isn_acked_by_the_handshake_sets_the_server_stream(tmp_path: Path) -> None:
    # The first SYN/ACK is lost on its way to the client (capture on the server
    # side); the client retransmits its SYN; the server answers with another ISN
    # (SYN cookies, a new listener).  The client's ACK acknowledges ISN2+1, so
    # the server's stream starts there: the handshake is complete and "200 OK" is
    # at offset 0.  Today the stream stays based on ISN1: no handshake and a
    # 6,995,000-byte gap before the reply.
    conv = Conversation(client_isn=1000, server_isn=7_000_000)
    conv._frame(tcp_ip(conv.client, conv.server, 1000, 0, SYN))
    conv._frame(tcp_ip(conv.server, conv.client, 5000, 1001, SYN | ACK))
    conv._frame(tcp_ip(conv.client, conv.server, 1000, 0, SYN))
    conv._frame(tcp_ip(conv.server, conv.client, 7_000_000, 1001, SYN | ACK))
    conv.ack(True)
    conv.send(True, b"GET /").send(False, b"200 OK")
    (session,) = analyse(write_pcap(tmp_path / "x.pcap", conv.frames)).sessions
    assert session.handshake
    assert session.gaps("s2c") == []
    assert session.monologues[1].offset == 0


# -- stream.DirectionStream.add_segment (keep-alive) ----------------------------


def test_keepalive_byte_does_not_fill_a_snaplen_hole(tmp_path: Path) -> None:
    # The server's 100-byte segment is cut by snaplen after 40 bytes; later it
    # sends a keep-alive: one garbage byte at SND.NXT-1 (RFC 1122 4.2.3.6;
    # Wireshark flags any 1-byte segment at nextseq-1 as "TCP Keep-Alive").
    # That byte is not stream data: the snaplen gap must stay 60 bytes long and
    # the stream must not end in the keep-alive's 0x00.  Today _fill runs before
    # the keep-alive test, so the garbage byte becomes byte 99 of the stream.
    conv = Conversation()
    conv.handshake()
    frame = conv.segment(False, 0, b"B" * 100)
    conv.frames[-1] = Frame(frame.ts_ns, frame.data[: 54 + 40], len(frame.data))
    conv.s_next += 100
    conv.ack(True)
    conv.segment(False, 99, b"\x00")  # keep-alive
    conv.ack(True)
    (session,) = analyse(write_pcap(tmp_path / "x.pcap", conv.frames)).sessions
    assert direction_bytes(session, "s2c") == b"B" * 40
    assert [(g.offset, g.length) for g in session.gaps("s2c")] == [(40, 60)]


# -- session.TcpSession.process (finished session) ------------------------------


def test_data_on_a_lingered_out_4tuple_is_not_dropped(tmp_path: Path) -> None:
    # Connection 1 closes; more than the linger time (60 s) and 4096 packets
    # later the sweep finishes its session.  Connection 2 then reuses the 4-tuple
    # and its SYN was not captured.  Its packets are found in the table, marked
    # LATE by the finished session and their payload is thrown away, although
    # "nothing is ever dropped": they must start a new (mid-stream) session.
    first = Conversation()
    first.handshake().send(True, b"first").send(False, b"one").close()
    other = Conversation(client=("10.0.0.9", 50000), start_ns=first._t + 61 * 10**9, step_ns=1000)
    other.handshake()
    for _ in range(2100):
        other.send(True, b"x")
    second = Conversation(client_isn=900_000, server_isn=800_000, start_ns=other._t + 10**6)
    second.send(True, b"second").send(False, b"two")
    sessions = analyse(write_pcap(tmp_path / "x.pcap", first.frames + other.frames + second.frames)).sessions
    c2s = b"".join(direction_bytes(s, "c2s") for s in sessions)
    s2c = b"".join(direction_bytes(s, "s2c") for s in sessions)
    assert b"second" in c2s and b"two" in s2c


# -- capture.fragments._assemble ------------------------------------------------


def test_tcp_header_split_across_ip_fragments(tmp_path: Path) -> None:
    # IPv4 allows an 8-byte first fragment; Wireshark reassembles the datagram
    # and then dissects TCP from the whole, so the request is in its stream.
    # _assemble reads the TCP header from the first fragment alone and returns
    # None when it holds fewer than 20 bytes (or fewer than the data offset), so
    # the datagram stays pending forever and its payload is lost.
    conv = Conversation()
    conv.handshake()
    segment = tcp_ip(CLIENT, SERVER, conv.c_next, conv.s_next, PSH | ACK, b"GET / HTTP/1.0\r\n\r\n")
    add_fragments(conv, segment, 8)
    (session,) = analyse(write_pcap(tmp_path / "x.pcap", conv.frames)).sessions
    assert direction_bytes(session, "c2s") == b"GET / HTTP/1.0\r\n\r\n"


# -- session.TcpSession.process (payload_parts kind) ----------------------------


def _refill_conversation(fragmented: bool) -> list[Frame]:
    """Client bytes [0,10) lost but ACKed; later one segment resends [0,30) (fills + new data)."""
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 10, b"B" * 10)
    conv.c_next += 20
    conv.ack(False)
    conv.send(False, b"reply-1")
    segment = tcp_ip(
        CLIENT, SERVER, conv.client_isn + 1, conv.s_next, PSH | ACK, b"A" * 10 + b"B" * 10 + b"C" * 10
    )
    if fragmented:
        add_fragments(conv, segment, 32)  # TCP header + [0,12) | [12,30)
    else:
        conv._frame(segment)
    conv.c_next += 10
    conv.ack(False)
    conv.send(False, b"reply-2")
    conv._frame(tcp_ip(CLIENT, SERVER, conv.c_next, conv.s_next, FIN | ACK))
    return conv.frames


def test_fragmented_segment_gives_the_same_monologues_as_unfragmented(tmp_path: Path) -> None:
    # The same TCP segment, whole or in two IP fragments, must reassemble the
    # same way.  Its first fragment only fills the ACKed hole (FILL) while the
    # second carries new bytes (DATA); process() keeps the first part's kind,
    # so the new client bytes are treated as a late fill: they do not end the
    # server's monologue, "reply-1" and "reply-2" merge into one monologue and
    # the client's monologue is moved after them.
    whole = analyse(write_pcap(tmp_path / "whole.pcap", _refill_conversation(False))).sessions[0]
    parts = analyse(write_pcap(tmp_path / "parts.pcap", _refill_conversation(True))).sessions[0]
    expected = [(m.direction, m.data()) for m in whole.monologues]
    assert expected == [
        ("c2s", b"B" * 10),
        ("s2c", b"reply-1"),
        ("c2s", b"A" * 10 + b"C" * 10),
        ("s2c", b"reply-2"),
    ]
    assert [(m.direction, m.data()) for m in parts.monologues] == expected


# -- stream.DirectionStream.peer_ack (ACK from the previous incarnation) ---------


def test_ack_of_previous_incarnation_does_not_make_an_end_gap(tmp_path: Path) -> None:
    # The client reuses its port while the server still sits in LAST_ACK: the
    # server answers the new SYN with its old FIN/ACK, the client resets it and
    # retries (RFC 793 SYN-SENT: an ACK outside ISS..SND.NXT is not acceptable).
    # That old ACK number says nothing about the new connection, yet peer_ack
    # takes it as "the receiver got 1,499,000,000 more bytes": the new session
    # gets an acknowledged END gap of that size (and missing_data).
    old = Conversation(client_isn=1_500_000_000, server_isn=5000)
    old.handshake().send(True, b"first").send(False, b"one")
    old._frame(tcp_ip(old.client, old.server, old.c_next, old.s_next, FIN | ACK))
    old.c_next += 1
    old._frame(tcp_ip(old.server, old.client, old.s_next, old.c_next, FIN | ACK))
    old._frame(tcp_ip(old.client, old.server, old.c_next, old.s_next + 1, ACK))  # lost before the server
    new = Conversation(client_isn=1_000_000, server_isn=9_000_000, start_ns=old._t + 10**9)
    new._frame(tcp_ip(new.client, new.server, new.client_isn, 0, SYN))
    new._frame(tcp_ip(old.server, old.client, old.s_next, old.c_next, FIN | ACK))  # LAST_ACK retransmits
    new._frame(tcp_ip(new.client, new.server, old.c_next, 0, RST))
    new.handshake()
    new.send(True, b"second").send(False, b"two")
    sessions = analyse(write_pcap(tmp_path / "x.pcap", old.frames + new.frames)).sessions
    assert len(sessions) == 2
    assert direction_bytes(sessions[1], "c2s") == b"second"
    assert sessions[1].gaps("c2s") == []


# -- export.transcript_chunks (trailing gap that is not an END gap) --------------


def test_transcript_shows_a_snaplen_cut_after_the_last_captured_byte(tmp_path: Path) -> None:
    # The server's only segment (100 bytes) is cut by snaplen after 40.  The s2c
    # file under the marker policy ends in "[60 bytes missing]", but the
    # transcript writes only END gaps after the last monologue, and
    # Monologue.gaps() leaves out a gap that starts at the monologue's end: the
    # 60 missing bytes appear nowhere in the transcript (nor in the header's
    # "bytes missing" count), though they are "bytes missing after the last
    # captured byte" that the transcript promises to show.
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"GET /")
    frame = conv.segment(False, 0, b"B" * 100)
    conv.frames[-1] = Frame(frame.ts_ns, frame.data[: 54 + 40], len(frame.data))
    conv.s_next += 100
    conv.ack(True)
    (session,) = analyse(write_pcap(tmp_path / "x.pcap", conv.frames)).sessions
    assert direction_bytes(session, "s2c", GapPolicy.MARKER) == b"B" * 40 + b"[60 bytes missing]"
    transcript = b"".join(transcript_chunks(session, Format.RAW, GapPolicy.MARKER))
    assert b"[60 bytes missing]" in transcript
