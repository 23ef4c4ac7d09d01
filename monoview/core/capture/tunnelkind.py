"""What follows a tunnel's header, and what a tunnel decoder answers.

Shared by ``tunnels`` and the tunnels of their own module (``capwap``), which ``tunnels``
imports for its table of UDP ports.
"""

from __future__ import annotations

from enum import IntEnum


class Next(IntEnum):
    """What a tunnel header is followed by (IP values are the IP version, 0: read the nibble)."""

    IP = 0
    ETHERNET = 1
    MPLS = 2
    PPP = 3
    IPV4 = 4
    NSH = 5
    IPV6 = 6
    IEEE802_11 = 7  # an 802.11 frame (Aruba's GRE): ``decode`` reads it with the link type's decoder
    IEEE802_11_SWAPPED = 8  # one whose frame control's two bytes are swapped (CAPWAP's, as tshark reads it)
    CAPWAP_FRAGMENT = 9  # a piece of a CAPWAP packet (``capwap_fragment``): reassembled first


Inner = tuple[int, Next]
# (offset, kind) of the inner packet; None: not user data; str: known, not decoded (its name).
TunnelResult = Inner | str | None
