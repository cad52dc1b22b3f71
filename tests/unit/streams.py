"""Hostile byte streams generated while they are read (never held whole), and a probe that
runs code in a fresh process and reports its own peak RSS."""

from __future__ import annotations

import io
import itertools
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20


class GeneratedStream(io.RawIOBase):
    """A readable binary stream over an iterator of byte pieces; counts what was read."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)
        self._pending = memoryview(b"")
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = memoryview(piece)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        return size


class SplitStream(io.RawIOBase):
    """Returns the given pieces one per read, whatever size is asked for (as a socket may)."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self._pieces = iter(pieces)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return next(self._pieces, b"")


def repeated(piece: bytes, total: int) -> Iterator[bytes]:
    """``total`` bytes of ``piece`` repeated (the last copy cut)."""
    while total > 0:
        yield piece[:total]
        total -= len(piece)


def gzip_bomb(byte: bytes, size: int, segment: int = MIB) -> Iterator[bytes]:
    """One valid gzip member of ``size`` copies of ``byte`` (a multiple of ``segment``),
    compressed as it is read: after a full flush deflate starts afresh, so every segment
    compresses to the same bytes. About 1 KB of it per MiB of output."""
    plain = byte * segment
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    once = deflate.compress(plain) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(plain) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert once == again, "segments must compress alike"
    # Computed now, not as the stream is read, so that a reader's timing leaves it out.
    crc = repeated_crc32(zlib.crc32(plain), segment, size // segment)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # magic, deflate, no flags, mtime 0
    trailer = deflate.flush(zlib.Z_FINISH) + struct.pack("<II", crc, size & 0xFFFFFFFF)
    return itertools.chain([header], itertools.repeat(once, size // segment), [trailer])


def repeated_crc32(crc: int, length: int, times: int) -> int:
    """CRC-32 of ``times`` copies of a ``length``-byte text whose CRC-32 is ``crc``, by doubling
    with crc32_combine (so a 10 GiB bomb's trailer costs microseconds, not seconds)."""
    result, result_length = 0, 0
    while times:
        if times & 1:
            result = crc32_combine(result, crc, length)
            result_length += length
        crc = crc32_combine(crc, crc, length)
        length *= 2
        times >>= 1
    return result


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of A + B from crc(A), crc(B) and len(B): zlib's crc32_combine, which Python's
    zlib module does not expose. Appending a zero bit is a linear map over GF(2)."""

    def times(matrix: list[int], vector: int) -> int:
        total, row = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[row]
            vector >>= 1
            row += 1
        return total

    def square(matrix: list[int]) -> list[int]:
        return [times(matrix, matrix[n]) for n in range(32)]

    if length2 == 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    even = square(odd)  # two zero bits
    odd = square(even)  # four zero bits
    while length2:
        even = square(odd)  # the first pass applies one zero byte
        if length2 & 1:
            crc1 = times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = square(even)
        if length2 & 1:
            crc1 = times(odd, crc1)
        length2 >>= 1
    return crc1 ^ crc2


# Appended to a probe: at exit, write the process's VmHWM (peak resident set, KiB) to a file.
# Not ru_maxrss (getrusage or os.wait4): Linux carries the parent's peak over fork/vfork and exec
# into the child's ru_maxrss, so a probe started from a large pytest process would report the
# parent's size (seen: 439 MB for a probe whose own peak was 90 MB). VmHWM is the new image's.
_PEAK_HOOK = """
import atexit as _atexit, os as _os
def _record_peak():
    with open("/proc/self/status") as status:
        kib = next(line for line in status if line.startswith("VmHWM:")).split()[1]
    with open(_os.environ["TXSUMMARY_PEAK_FILE"], "w") as out:
        out.write(kib)
_atexit.register(_record_peak)
"""


def measure(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter from the repository root; it prints one JSON object,
    returned with ``peak_rss``: the child's own peak resident set in bytes (Linux VmHWM)."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_HOOK + code],
            cwd=REPO,
            capture_output=True,
            check=False,
            env={**os.environ, "TXSUMMARY_PEAK_FILE": str(peak_file)},
        )
        assert done.returncode == 0, done.stderr.decode()
        peak = int(peak_file.read_text()) * 1024
    result: dict[str, object] = json.loads(done.stdout)
    result["peak_rss"] = peak
    return result
