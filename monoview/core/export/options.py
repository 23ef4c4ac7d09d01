"""What an export writes: format, gap policy, layout, and how safely."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from monoview.core.export.encode import Format
from monoview.core.streambytes import GapPolicy


class Layout(Enum):
    """Which files a session gets."""

    FULL = "full"  # each direction, each monologue, the transcript
    DIRECTIONS = "directions"  # each direction only (tcpflow's layout)


@dataclass
class ExportOptions:
    """What to write (``directions``, ``monologues``, ``transcript`` off: describe only)."""

    fmt: Format = Format.RAW
    gaps: GapPolicy = GapPolicy.OMIT
    directions: bool = True
    monologues: bool = True
    transcript: bool = True
    force: bool = False
    layout: Layout = Layout.FULL
    sync: bool = False  # flush everything to disk once, at the end
    # Whether ``Exporter.export`` returns each stream's manifest entry (manifest.json has them
    # whatever this says).  Off, a stream is ``None`` in the returned manifest: an export of
    # 300,000 sessions otherwise holds 3 kB of dicts per session in each worker and again here.
    return_streams: bool = True

    @property
    def writes(self) -> bool:
        """Does this export write any file besides the manifest?"""
        return self.directions or (self.layout is Layout.FULL and (self.monologues or self.transcript))
