"""The core's own hard limits as plain numbers; imports nothing, so the contract shares them."""

from __future__ import annotations

from typing import Final

# gzip output past this stops the file: a small upload cannot expand without bound.
MAX_DECOMPRESSED_BYTES: Final = 4 << 30
