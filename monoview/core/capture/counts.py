"""What reading a capture counted: frames, TCP packets, and what was skipped and why.

One record for both readers (the per-packet analysis and the index), so the
capture summary and the warnings say the same whichever read the file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CaptureStats:
    """Counts over every frame read."""

    frames: int = 0
    tcp_packets: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # Skip reason -> frames
    unsupported_link_types: Counter[str] = field(default_factory=Counter)  # name -> frames
    incomplete_fragments: int = 0  # IP fragments of TCP datagrams never completed
    clamped_timestamps: int = 0  # timestamps beyond int64 nanoseconds
    bytes_read: int = 0

    @property
    def non_tcp(self) -> int:
        """Frames that produced no TCP packet, whatever the reason."""
        return self.frames - self.tcp_packets

    def warnings(self) -> list[str]:
        """One sentence per thing the user should know about skipped frames."""
        notes = [
            f"{count:,} frames of unsupported link type {name} were skipped"
            for name, count in self.unsupported_link_types.items()
        ]
        if self.incomplete_fragments:
            notes.append(
                f"{self.incomplete_fragments:,} IP fragments of TCP packets never completed a datagram"
            )
        if self.clamped_timestamps:
            notes.append(
                f"{self.clamped_timestamps:,} timestamps lie beyond the year 2262 and were clamped to it"
            )
        return notes
