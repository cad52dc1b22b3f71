"""The set of Ids seen so far in a file: the one thing allowed to grow with the file.

Canonical integer Ids (0, 1, 2, ... the common case) live in a bitmap, one bit each, so
ten million of them cost 1.25 MB. Any other Id ('007', 'tx-1', a huge number) is kept as a
string in a set. The two never collide: a string in the set is never a canonical integer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from txsummary.core.rules import is_canonical_int

# Integer Ids below this go in the bitmap (at most 16 MiB of bits); larger ones in the set.
BITMAP_LIMIT = 1 << 27


class IdRegistry:
    def __init__(self) -> None:
        # One buffer, two views: a bytearray for single Ids (fast scalar access) and a numpy
        # array over the same bytes for batches.
        self._bytes = bytearray()
        self._bits = np.frombuffer(self._bytes, dtype=np.uint8)
        self._others: set[str | int] = set()

    def add(self, text: str) -> bool:
        """Record one Id; False if it was seen before."""
        if is_canonical_int(text):
            value = int(text)
            if value < BITMAP_LIMIT:
                byte, bit = value >> 3, 1 << (value & 7)
                if byte >= len(self._bytes):
                    self._grow(value)
                bits = self._bytes
                if bits[byte] & bit:
                    return False
                bits[byte] |= bit
                return True
            key: str | int = value
        else:
            key = text
        if key in self._others:
            return False
        self._others.add(key)
        return True

    def add_ints(self, values: npt.NDArray[np.int64]) -> bool:
        """Record canonical integer Ids in [0, BITMAP_LIMIT). If any is a duplicate (within
        values, or seen before) record nothing and return False."""
        if values.size == 0:
            return True
        if not bool(np.all(values[1:] > values[:-1])):  # Ids usually arrive sorted: O(n) check
            ordered = np.sort(values)
            if bool(np.any(ordered[1:] == ordered[:-1])):
                return False
        low, high = int(values.min()), int(values.max())
        self._grow(high)
        start = low & ~7
        if high - start < 16 * values.size:
            # Dense Ids (the usual 0, 1, 2, ...): pack the chunk's own bitmap and compare bytes.
            local = np.zeros((high - start) // 8 * 8 + 8, dtype=bool)
            local[values - start] = True
            packed = np.packbits(local, bitorder="little")
            window = self._bits[start >> 3 : (start >> 3) + packed.size]
            if bool(np.any(window & packed)):
                return False
            window |= packed
            return True
        byte = values >> 3
        mask = np.left_shift(1, values & 7).astype(np.uint8)
        if bool(np.any(self._bits[byte] & mask)):
            return False
        np.bitwise_or.at(self._bits, byte, mask)
        return True

    def _grow(self, max_value: int) -> None:
        needed = (max_value >> 3) + 1
        if needed > len(self._bytes):
            size = min(max(needed, 2 * len(self._bytes)), BITMAP_LIMIT >> 3)
            bigger = bytearray(size)
            bigger[: len(self._bytes)] = self._bytes
            self._bytes = bigger
            self._bits = np.frombuffer(bigger, dtype=np.uint8)

    def add_texts(self, texts: list[str]) -> bool:
        """Record Ids given as strings; if any is a duplicate record nothing, return False."""
        if len(set(texts)) != len(texts) or any(self._seen(t) for t in texts):
            return False
        for text in texts:
            self.add(text)
        return True

    def _seen(self, text: str) -> bool:
        if is_canonical_int(text):
            value = int(text)
            if value < BITMAP_LIMIT:
                byte = value >> 3
                return byte < len(self._bytes) and bool(self._bytes[byte] >> (value & 7) & 1)
            return value in self._others
        return text in self._others
