"""TCP sequence arithmetic: 32-bit numbers mapped to unbounded stream offsets."""

from __future__ import annotations

from typing import Final

SEQ_MOD: Final = 1 << 32
SEQ_HALF: Final = 1 << 31

