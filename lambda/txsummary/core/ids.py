"""The set of Ids seen so far in a file: the one thing allowed to grow with the file.

Canonical integer Ids (0, 1, 2, ... the common case) live in a bitmap, one bit each, so
ten million of them cost 1.25 MB. Any other Id ('007', 'tx-1', a huge number) is kept as a
string in a set. The two never collide: a string in the set is never a canonical integer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from txsummary.core.rules import canonical_ints, empty_values

# Integer Ids below this go in the bitmap (at most 16 MiB of bits); larger ones in the set.
BITMAP_LIMIT = 1 << 27


class IdRegistry:
    def __init__(self) -> None:
        self._bytes = bytearray()
        self._bits = np.frombuffer(self._bytes, dtype=np.uint8)
        self._others: set[str | int] = set()

    def add(self, text: str) -> bool:
        """Record one Id; False if it was seen before (the one-value form of add_each)."""
        return bool(self.add_each(pa.array([text], pa.string()))[0])

    def add_each(self, ids: pa.Array) -> npt.NDArray[np.bool_]:
        """Record every non-empty Id of ``ids`` (texts, in line order); per Id, whether it was
        new: not seen before, nor earlier in ``ids``. Empty Ids are not Ids: never new."""
        return self._fresh(ids, record=True)

    def add_all(self, ids: pa.Array) -> bool:
        """Record Ids given as texts; if any is a duplicate record nothing, return False."""
        if not bool(self._fresh(ids, record=False).all()):
            return False
        self._fresh(ids, record=True)
        return True

    def _fresh(self, ids: pa.Array, *, record: bool) -> npt.NDArray[np.bool_]:
        fresh = np.zeros(len(ids), dtype=bool)
        canonical, values = canonical_ints(ids)
        small = canonical & (values < BITMAP_LIMIT)
        where = np.flatnonzero(small)
        if where.size:
            chosen = values[where]
            if bool(np.all(chosen[1:] > chosen[:-1])):  # Ids usually arrive sorted: no sort
                distinct, first = chosen, np.arange(chosen.size)
            else:
                distinct, first = np.unique(chosen, return_index=True)
            if record:
                self._grow(int(distinct[-1]))
            byte = distinct >> 3
            mask = np.left_shift(1, distinct & 7).astype(np.uint8)
            inside = byte < self._bits.size
            new = np.ones(distinct.size, dtype=bool)
            new[inside] = (self._bits[byte[inside]] & mask[inside]) == 0
            fresh[where[first[new]]] = True
            if record:
                np.bitwise_or.at(self._bits, byte[new], mask[new])
        rest = np.flatnonzero(~small & ~empty_values(ids))
        if rest.size:
            texts: list[str] = ids.take(pa.array(rest)).cast(pa.string()).to_pylist()
            others = self._others if record else set[str | int]()
            for i, text in zip(rest.tolist(), texts, strict=True):
                key: str | int = int(values[i]) if canonical[i] else text
                if key not in others and (record or key not in self._others):
                    others.add(key)
                    fresh[i] = True
        return fresh

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

    def _seen(self, text: str) -> bool:
        return not bool(self._fresh(pa.array([text], pa.string()), record=False)[0])
