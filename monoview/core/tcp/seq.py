"""TCP sequence arithmetic: 32-bit numbers mapped to unbounded stream offsets."""

from __future__ import annotations

from typing import Final

SEQ_MOD: Final = 1 << 32
SEQ_HALF: Final = 1 << 31


def unwrap(seq: int, ref_seq: int, ref_offset: int) -> int:
    """Offset of ``seq`` given that ``ref_seq`` sits at ``ref_offset``.

    The result is the one within 2**31 of the reference, so a stream that
    wraps past 2**32 keeps growing instead of jumping back to zero.
    """
    return ref_offset + ((seq - ref_seq + SEQ_HALF) % SEQ_MOD) - SEQ_HALF
