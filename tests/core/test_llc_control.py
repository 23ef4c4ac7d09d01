"""802.2 LLC frames carry a protocol's data only in information frames, as tshark reads them.

An 802.3 frame (a length where the EtherType was) starts with an LLC header:
destination and source SAP, then a control field.  Only an unnumbered
information frame (control 0x03 exactly) and an I-frame (control's low bit
clear: a 2-byte control field) hand their data to the SAP's protocol (IP, or
SNAP's EtherType); supervisory frames and the other unnumbered ones (XID,
TEST, UI with the poll/final bit) are data.  Each case wraps one HTTP
exchange's IP packets so; tshark must find the TCP stream exactly when the
rule says so, and monoview (per packet, the document, the vectorised scanner)
with it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_readers import REQUEST, RESPONSE, conversation
from tests.core.test_scan import _compare
from tests.encapgen import IPV4, MACS
from tests.pcapgen import Frame, pcap_bytes

TSHARK = shutil.which("tshark")
SNAP_IPV4 = b"\x00\x00\x00" + struct.pack(">H", IPV4)
# control field -> whether the frame's data is the SAP's protocol
CONTROLS = {
    "ui": (b"\x03", True),
    "ui-poll": (b"\x13", False),
    "i-frame": (b"\x00\x00", True),
    "i-frame-numbered": (b"\x0a\x04", True),
    "s-frame-rr": (b"\x01\x00", False),
    "s-frame-rej": (b"\x09\x02", False),
    "xid": (b"\xaf", False),
    "test": (b"\xe3", False),
    "sabme": (b"\x6f", False),
}


def _capture(tmp_path: Path, control: bytes, snap: bool) -> Path:
    def frame(ip: bytes) -> bytes:
        llc = (b"\xaa\xaa" if snap else b"\x06\x06") + control + (SNAP_IPV4 if snap else b"") + ip
        return MACS + struct.pack(">H", len(llc)) + llc

    path = tmp_path / "llc.pcap"
    path.write_bytes(pcap_bytes([Frame(f.ts_ns, frame(f.data[14:])) for f in conversation().frames]))
    return path


def _tshark_finds_tcp(path: Path) -> bool:
    out = subprocess.run(
        [TSHARK or "tshark", "-r", str(path), "-T", "fields", "-e", "tcp.stream"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return any(line.strip() for line in out.splitlines())


@pytest.mark.parametrize("snap", [True, False], ids=["snap", "ip-sap"])
@pytest.mark.parametrize("case", sorted(CONTROLS))
def test_only_information_frames_carry_ip(tmp_path: Path, case: str, snap: bool) -> None:
    control, carries = CONTROLS[case]
    path = _capture(tmp_path, control, snap)
    if TSHARK:
        assert _tshark_finds_tcp(path) == carries
    sessions = analyse(path).sessions
    with CaptureDocument(path, workers=1) as document:
        assert len(document.sessions) == len(sessions) == (1 if carries else 0)
        if carries:
            (conversation_,) = document.conversations()
            assert direction_bytes(conversation_, "c2s") == REQUEST
            assert direction_bytes(sessions[0], "s2c") == RESPONSE
    _compare(path.read_bytes(), path.name)
