"""TCP sequence arithmetic: 32-bit numbers mapped to unbounded stream offsets."""

from __future__ import annotations

from typing import Final

SEQ_MOD: Final = 1 << 32
SEQ_HALF: Final = 1 << 31
# ``x & SEQ_MASK == x % SEQ_MOD`` for every integer, negative ones too; on numpy
# arrays the mask is some twenty times faster than the modulo.
SEQ_MASK: Final = SEQ_MOD - 1

