"""What decoding a frame gives: a TCP packet, a fragment, a packet cut short, the reason
there is none, or (an 802.11 A-MSDU) several of these.  ``decode`` makes them; the
readers (``analyse``, ``scan``) and the counts (``counts``) take them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from monoview.core.capture.fragments import Fragment
from monoview.core.packet import TcpPacket


class Skip(Enum):
    """Why a frame produced no TCP packet; the capture summary counts each."""

    UNSUPPORTED_LINK = "unsupported link type"
    NOT_IP = "not IP"
    NOT_TCP = "IP but not TCP"
    FRAGMENT = "IP fragment"  # one that did not complete a datagram (decode returns Fragment)
    MALFORMED = "malformed or truncated header"
    # An IP total length shorter than the IP header: tshark's "Bogus IP length", which it
    # decodes no further either; dropped, counted, reported with the first such frame.
    BAD_IP_LENGTH = "IP length shorter than its header"


@dataclass(frozen=True, slots=True)
class Undecoded:
    """A frame of a known encapsulation that is not decoded, by name (the summary counts it)."""

    name: str
    value: ClassVar[str] = "encapsulation not decoded"


@dataclass(frozen=True, slots=True)
class Cut:
    """A packet whose IP length says more than the frame held on the wire (tshark: "total
    length exceeds packet length").  Decoded as tshark decodes it, with the payload the
    frame holds; the readers count it and report the first such frame, so the bytes never
    change a stream unannounced."""

    packet: TcpPacket | Fragment
    # tshark's "short segment": the IP packet ends inside the TCP header.  tshark still puts
    # the segment in its stream (ports, sequence numbers, flags and window come first), with
    # no payload; so does monoview, counting it apart from packets cut by the frame.
    short: bool = False


# What one packet of a frame decodes to.
Single = TcpPacket | Fragment | Cut | Skip | Undecoded


@dataclass(frozen=True, slots=True)
class Several:
    """A frame that holds several packets (an 802.11 A-MSDU: ``wlan``): each subframe's
    result, in order.  The readers take each packet and fragment as they take a frame's, in
    that order; the frame counts as skipped only when no subframe gave one (``skipped``)."""

    parts: tuple[Single, ...]

    @property
    def skipped(self) -> Skip | Undecoded | None:
        """Why the frame gave nothing (its first subframe's reason); None when a subframe is a
        packet or a fragment."""
        reasons = [part for part in self.parts if isinstance(part, Skip | Undecoded)]
        return reasons[0] if len(reasons) == len(self.parts) else None


Decoded = Single | Several
