"""One word per session for its colour: what a reader of the conversation checks first.

The session list's dot used to say *health* (red: bytes missing) while the
timeline said *state* (red: reset), so one session was orange in the list and
red in the plot.  Here is the single classification both use, in the order a
Wireshark user asks the questions when following a stream:

1. ``bytes missing``: are all the bytes there?  Follow TCP Stream shows
   ``[N bytes missing]`` for this, and a missing byte spoils what is read after
   it, so it wins over how the connection ended.
2. ``reset``: did it end with an RST (``tcp.flags.reset``), an abort rather
   than a goodbye?
3. ``open``: did the capture stop before both FINs (still open or half-closed
   at the end)?  More bytes may have followed.
4. ``no handshake``: closed by both FINs but its SYN was never seen (the
   capture began inside it), so its first bytes may be missing unseen.
5. ``complete``: handshake, both FINs, no hole: everything was captured.

The list's Status column still says the details (half-closed, conflicts,
truncated); the colour says this one word.  Indices grow with how much is
wrong, so sorting by them puts the worst first when descending.  No Qt here:
the colours are in ``gui/views/palette.py``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.tcp.session import TcpSession

VERDICTS: Final = ("complete", "no handshake", "open", "reset", "bytes missing")
MEANINGS: Final = {
    "complete": "handshake, FIN both ways, no bytes missing",
    "no handshake": "closed, but its start (the SYN) was not captured",
    "open": "still open (or half-closed) when the capture ended",
    "reset": "ended by a reset (RST)",
    "bytes missing": "the capture lost bytes of it (gaps in the stream)",
}
I64 = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


def verdicts(missing: Flags, reset: Flags, closed: Flags, handshake: Flags) -> I64:
    """Index into ``VERDICTS`` of every session, from its four facts (numpy, any length)."""
    conditions = [missing, reset, ~closed, ~handshake]
    codes: I64 = np.select(conditions, [4, 3, 2, 1], default=0).astype(np.int64)
    return codes


def session_verdict(session: TcpSession) -> str:
    """The verdict of one reassembled session (what ``verdicts`` says of its columns)."""
    missing = any(session.gaps(d) for d in ("c2s", "s2c"))
    facts = [np.array([f]) for f in (missing, any(session.rst), all(session.fin), session.handshake)]
    return VERDICTS[int(verdicts(*facts)[0])]


def legend() -> list[tuple[str, str]]:
    """Each verdict with what it means, in order (for a legend or a tooltip)."""
    return [(v, MEANINGS[v]) for v in VERDICTS]
