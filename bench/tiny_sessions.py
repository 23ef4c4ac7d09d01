"""A deterministic pcap of N tiny TCP sessions, for timing exports that are all per-session overhead.

Every session is 8 frames: SYN, SYN/ACK, ACK, one 1-byte data segment from the
client, the server's ACK, FIN/ACK from the client, FIN/ACK from the server and
the client's last ACK.  Each session has its own client address (10.1.0.1 + i)
and port; the servers are 192.0.2.1-16 port 80.  Sessions follow one another
in time (200 us apart, frames 10 us apart), so the file is in time order.
Nothing is random: the same N always gives the same bytes.

    .venv/bin/python bench/tiny_sessions.py -o /tmp/tiny.pcap -n 5000

Beside the capture it writes ``FILE.truth.json`` (sessions, TCP packets,
stream bytes), in the keys of make_big_capture.py's truth files.  Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10
START_NS = 1_700_000_000_000_000_000
SESSION_STEP_NS = 200_000
FRAME_STEP_NS = 10_000
FRAMES_PER_SESSION = 8
MAC_CLIENT = bytes.fromhex("020000000001")
MAC_SERVER = bytes.fromhex("020000000002")


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src: tuple[bytes, int], dst: tuple[bytes, int], seq: int, ack: int, flags: int,
          payload: bytes = b"", ip_id: int = 0) -> bytes:
    """Ethernet + IPv4 + TCP (20-byte headers, correct checksums)."""
    (src_ip, sport), (dst_ip, dport) = src, dst
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                      65535, 0, 0) + payload
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id & 0xFFFF, 0x4000, 64,
                     socket.IPPROTO_TCP, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    macs = MAC_SERVER + MAC_CLIENT if src_ip.startswith(b"\x0a") else MAC_CLIENT + MAC_SERVER
    return macs + b"\x08\x00" + ip + tcp


def session_frames(i: int) -> list[bytes]:
    """The 8 frames of session ``i`` (0-based)."""
    client = (struct.pack("!I", 0x0A010001 + i), 1024 + (i * 7919) % 64000)
    server = (bytes([192, 0, 2, 1 + i % 16]), 80)
    c_isn = (i * 2654435761 + 12345) & 0xFFFFFFFF
    s_isn = (i * 40503 * 65537 + 777) & 0xFFFFFFFF
    c, s = c_isn + 1, s_isn + 1
    byte = bytes([0x41 + i % 26])
    return [
        frame(client, server, c_isn, 0, SYN, ip_id=1),
        frame(server, client, s_isn, c, SYN | ACK, ip_id=1),
        frame(client, server, c, s, ACK, ip_id=2),
        frame(client, server, c, s, PSH | ACK, byte, ip_id=3),
        frame(server, client, s, c + 1, ACK, ip_id=2),
        frame(client, server, c + 1, s, FIN | ACK, ip_id=4),
        frame(server, client, s, c + 2, FIN | ACK, ip_id=3),
        frame(client, server, c + 2, s + 1, ACK, ip_id=5),
    ]


def records(n: int) -> Iterator[bytes]:
    """pcap records (header + frame) of all sessions, in time order."""
    for i in range(n):
        t = START_NS + i * SESSION_STEP_NS
        for data in session_frames(i):
            sec, ns = divmod(t, 1_000_000_000)
            yield struct.pack("<IIII", sec, ns // 1000, len(data), len(data)) + data
            t += FRAME_STEP_NS


def write(path: Path, n: int) -> Path:
    """Write the capture (via a temporary name) and its truth file; return the capture's path."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for record in records(n):
            out.write(record)
    truth = {
        "generator": "bench/tiny_sessions.py",
        "packets": n * FRAMES_PER_SESSION,
        "tcp_packets": n * FRAMES_PER_SESSION,
        "tcp_sessions": n,
        "tcp_stream_bytes": n,
    }
    path.with_name(path.name + ".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-o", "--out", required=True, type=Path, help="the pcap to write")
    parser.add_argument("-n", "--sessions", type=int, default=5000, help="how many sessions (default 5000)")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 0xFEFFFF:
        parser.error("--sessions must be between 1 and 16,711,679 (one 10.x client address each)")
    write(args.out, args.sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
