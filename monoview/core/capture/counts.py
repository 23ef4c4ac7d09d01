"""What reading a capture counted: frames, TCP packets, and what was skipped and why.

One record for both readers (the per-packet analysis and the index), so the
capture summary and the warnings say the same whichever read the file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Final

from monoview.core.capture.decode import Cut, Several, Skip, Undecoded
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.linktypes import linktype_name
from monoview.core.packet import TcpPacket

BAD_IP_LENGTH = Skip.BAD_IP_LENGTH.value
CUT = "IP length beyond the frame"
SHORT_TCP_HEADER = "TCP header beyond the IP packet"
# Encapsulations named one line each in the warnings; the others are one line together.  A
# name may come from a frame's bytes (a GRE protocol type), so a capture can hold thousands.
MAX_NAMED_ENCAPSULATIONS: Final = 8


@dataclass
class SkipCounts:
    """Frames that gave no TCP packet, by reason, and packets cut short by the frame; what the
    warnings name, with its first frame."""

    skipped: Counter[str] = field(default_factory=Counter)  # Skip reason -> frames
    unsupported_link_types: Counter[str] = field(default_factory=Counter)  # name -> frames
    undecoded: Counter[str] = field(default_factory=Counter)  # encapsulation name -> frames
    cut: int = 0  # packets (or fragments) whose IP length says more than the frame held
    short_headers: int = 0  # TCP packets whose IP packet ends inside the TCP header
    # TCP packets after the first of their frame (an 802.11 A-MSDU holds several: ``wlan``).
    aggregated: int = 0
    # The first frame of each undecoded encapsulation (by name), of bad and of cut IP lengths.
    first_frames: dict[str, int] = field(default_factory=dict)

    def skip(self, result: Skip | Undecoded, frame: int, linktype: int) -> None:
        """Count one frame that ``decode`` did not make a packet of."""
        self.skipped[result.value] += 1
        if isinstance(result, Undecoded):
            self.undecoded[result.name] += 1
            self.first(result.name, frame)
        elif result is Skip.UNSUPPORTED_LINK:
            self.unsupported_link_types[linktype_name(linktype)] += 1
        elif result is Skip.BAD_IP_LENGTH:
            self.first(BAD_IP_LENGTH, frame)

    def cut_packet(self, frame: int, short: bool = False) -> None:
        """Count one packet decoded from a frame shorter than its IP length, or (``short``)
        whose TCP header goes past its IP packet's end (``decode.Cut``)."""
        if short:
            self.short_headers += 1
            self.first(SHORT_TCP_HEADER, frame)
        else:
            self.cut += 1
            self.first(CUT, frame)

    def several(self, several: Several, frame: int, linktype: int) -> list[TcpPacket | Fragment]:
        """Count a frame of several packets (``decode.Several``) as its subframes say: packets
        cut short, the packets after its first (``aggregated``), and the frame as skipped when
        no subframe gave a packet or fragment.  Returns its packets and fragments, in order,
        for the reader to take as it takes a frame's (a fragment marked ``beside`` when the
        frame has a packet of its own: a datagram it completes is not the frame's first)."""
        found: list[TcpPacket | Fragment] = []
        for part in several.parts:
            if isinstance(part, Cut):
                self.cut_packet(frame, part.short)
                part = part.packet
            if isinstance(part, TcpPacket | Fragment):
                found.append(part)
        packets = sum(isinstance(part, TcpPacket) for part in found)
        self.aggregated += packets - 1 if packets > 1 else 0
        if packets and len(found) > packets:
            found = [replace(p, beside=True) if isinstance(p, Fragment) else p for p in found]
        skipped = several.skipped
        if skipped is not None:
            self.skip(skipped, frame, linktype)
        return found

    def first(self, key: str, frame: int) -> None:
        """Remember ``frame`` if it is the first one of ``key`` seen."""
        known = self.first_frames.get(key)
        if known is None or frame < known:
            self.first_frames[key] = frame

    def merge(self, other: SkipCounts, frames_before: int = 0) -> None:
        """Add the counts of a range whose frame numbers start after ``frames_before``."""
        self.skipped.update(other.skipped)
        self.unsupported_link_types.update(other.unsupported_link_types)
        self.undecoded.update(other.undecoded)
        self.cut += other.cut
        self.short_headers += other.short_headers
        self.aggregated += other.aggregated
        for key, frame in other.first_frames.items():
            self.first(key, frame + frames_before)


@dataclass
class CaptureStats(SkipCounts):
    """Counts over every frame read."""

    frames: int = 0
    tcp_packets: int = 0
    incomplete_fragments: int = 0  # IP fragments of TCP (or tunnel) datagrams never completed
    clamped_timestamps: int = 0  # timestamps beyond int64 nanoseconds
    bytes_read: int = 0

    @property
    def non_tcp(self) -> int:
        """Frames that produced no TCP packet, whatever the reason (a frame of several packets
        counts once)."""
        return self.frames - self.tcp_packets + self.aggregated

    def _undecoded_notes(self) -> list[str]:
        """One line per encapsulation not decoded, for the most frequent few; one for the rest."""
        by_count = sorted(self.undecoded.items(), key=lambda item: (-item[1], item[0]))
        named, rest = by_count[:MAX_NAMED_ENCAPSULATIONS], by_count[MAX_NAMED_ENCAPSULATIONS:]
        notes = [
            f"{count:,} frames of {name} were not decoded (the first is frame {self.first_frames[name]})"
            for name, count in sorted(named)
        ]
        if rest:
            first = min(self.first_frames[name] for name, _ in rest)
            notes.append(
                f"{sum(count for _, count in rest):,} frames of {len(rest):,} other encapsulations"
                f" were not decoded (the first is frame {first})"
            )
        return notes

    def warnings(self) -> list[str]:
        """One sentence per thing the user should know about skipped frames."""
        notes = [
            f"{count:,} frames of unsupported link type {name} were skipped"
            for name, count in self.unsupported_link_types.items()
        ]
        notes += self._undecoded_notes()
        bad = self.skipped.get(BAD_IP_LENGTH, 0)
        if bad:
            notes.append(
                f"{bad:,} frames whose IP length is shorter than the IP header were dropped"
                f" (the first is frame {self.first_frames[BAD_IP_LENGTH]})"
            )
        if self.cut:
            notes.append(
                f"{self.cut:,} packets held less than their IP length says; their TCP payload is what"
                f" the frame holds, as tshark reads it (the first is frame {self.first_frames[CUT]})"
            )
        if self.short_headers:
            notes.append(
                f"{self.short_headers:,} TCP headers went past the end of their IP packet; their flags"
                " and sequence numbers count, with no payload, as tshark reads them (the first is"
                f" frame {self.first_frames[SHORT_TCP_HEADER]})"
            )
        if self.incomplete_fragments:
            notes.append(
                f"{self.incomplete_fragments:,} IP fragments of TCP packets (or of tunnels that may"
                " carry them) never completed a datagram"
            )
        if self.clamped_timestamps:
            notes.append(
                f"{self.clamped_timestamps:,} timestamps lie beyond the year 2262 and were clamped to it"
            )
        return notes
