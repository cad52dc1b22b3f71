"""Byte streams to whole-record chunks: gzip on the fly, BOMs, quote-aware cuts, line numbers.

A record ends at an LF where the count of ``"`` bytes since the start of the data is even (CSV
escapes a quote by doubling it, so an odd count means "inside a quoted field"). Chunks are cut
only there, so what a chunk holds never depends on how the bytes arrived. Every byte is scanned
once; memory stays at about one block, one chunk and one record (at most MAX_RECORD_BYTES),
whatever the input, and a gzip stream is inflated in pieces of bounded size.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from txsummary.core.hints import HOW_UTF8
from txsummary.core.limits import MAX_DECOMPRESSED_BYTES

# The longest record (a line, or several joined by a quoted field), counting its line ending.
MAX_RECORD_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D
# Records are checked window by window; a window is never longer than a record may be, so only
# the records that cross into a window can be too long.
_WINDOW = 1 << 20
# Lines to step over one by one when looking for a record boundary inside quotes; past that, a
# vectorized scan is cheaper (a quoted field holding many line breaks).
_WALK = 32
# Compressed bytes fed to zlib per call, and the most it may return per call. Both are fixed, so
# what was inflated before a corrupt spot (zlib drops the output of the call that fails) does not
# depend on the block size or on how the reads were split.
_GZIP_IN = 64 << 10
_GZIP_OUT = 256 << 10


class StreamError(ValueError):
    """The bytes cannot be read on as a UTF-8 CSV (bad gzip, UTF-16, an over-long record).
    The reason is shown; ``line`` is the physical line it concerns (0: the file as a whole)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.line = line


@dataclass(frozen=True, slots=True)
class Chunk:
    data: bytes  # whole records; ends after a newline, or at the end of the file
    first_line: int  # 1-based physical line number of data[0]


def size_text(size: int) -> str:
    """1 MiB (1,048,576 bytes), 4 GiB (4,294,967,296 bytes), 100 bytes."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


def raw_blocks(
    stream: BinaryIO,
    block_size: int,
    progress: Callable[[int], None] | None = None,
    *,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> Iterator[bytes]:
    """Blocks of the stream's bytes, gunzipped when the stream starts with the gzip magic.

    Gzip output comes in blocks of about ``block_size`` bytes; more than
    ``max_decompressed_bytes`` of it in all is a StreamError (after exactly that many bytes).
    """

    def read() -> Iterator[bytes]:
        while block := stream.read(block_size):
            if progress is not None:
                progress(len(block))
            yield block

    blocks = read()
    first = b""
    for block in blocks:  # a read may return less than the two bytes of the magic
        first += block
        if len(first) >= len(GZIP_MAGIC):
            break
    if not first:
        return
    if first.startswith(GZIP_MAGIC):
        inflated = _gunzip(_prepend(first, blocks), max_decompressed_bytes)
        yield from _rebatch(inflated, block_size)
    else:
        yield first
        yield from blocks


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _rebatch(pieces: Iterator[bytes], block_size: int) -> Iterator[bytes]:
    """Join small pieces into blocks of up to block_size bytes; what is held is yielded before
    an error from ``pieces`` propagates, so no inflated byte is lost to a later error."""
    held: list[bytes] = []
    size = 0
    try:
        for piece in pieces:
            if size + len(piece) > block_size and held:
                yield b"".join(held)
                held, size = [], 0
            held.append(piece)
            size += len(piece)
    except StreamError:
        if held:
            yield b"".join(held)
        raise
    if held:
        yield b"".join(held)


def _gunzip(blocks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    """Inflate gzip members one after another, in pieces of at most _GZIP_OUT bytes."""
    decomp = zlib.decompressobj(wbits=31)
    total = 0
    try:
        for piece in _fixed_pieces(blocks, _GZIP_IN):
            data = piece
            while data:
                if decomp.eof:  # the next member of a multi-member file starts here
                    decomp = zlib.decompressobj(wbits=31)
                total = yield from _emit(decomp.decompress(data, _GZIP_OUT), total, limit)
                data = decomp.unused_data if decomp.eof else decomp.unconsumed_tail
            # Output held back by the cap although all input was consumed.
            while not decomp.eof and (out := decomp.decompress(b"", _GZIP_OUT)):
                total = yield from _emit(out, total, limit)
    except zlib.error as exc:
        raise StreamError(f"not a valid gzip stream ({exc})") from exc
    if not decomp.eof:
        raise StreamError("gzip stream is truncated")


def _fixed_pieces(blocks: Iterator[bytes], size: int) -> Iterator[bytes]:
    """The same bytes in pieces of exactly ``size`` bytes (the last may be shorter)."""
    held = bytearray()
    for block in blocks:
        held += block
        while len(held) >= size:
            yield bytes(held[:size])
            del held[:size]
    if held:
        yield bytes(held)


def _emit(out: bytes, total: int, limit: int) -> Generator[bytes, None, int]:
    """Yield ``out``, cut at the size limit (past it, a StreamError); returns the new total."""
    if total + len(out) > limit:
        if limit > total:
            yield out[: limit - total]
        raise StreamError(
            f"gzip data expands to more than {size_text(limit)}, the most a file may hold "
            "once decompressed"
        )
    if out:
        yield out
    return total + len(out)


def record_chunks(
    blocks: Iterator[bytes], *, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Chunk]:
    """Cut the byte stream into chunks of whole CSV records, with their first line numbers.

    A record longer than ``max_record_bytes`` (counting its line ending) raises StreamError
    naming its first line, once the records before it have been yielded. A file's last record
    may lack its line ending; it is yielded as it is.
    """
    if max_record_bytes < 1:
        raise ValueError("max_record_bytes must be positive")
    scanner = _Scanner(max_record_bytes)
    carry = bytearray()  # the record still open at the end of the last block
    line = 1  # physical line of carry[0]
    for block in _without_bom(blocks):
        try:
            cut = scanner.scan(block, len(carry))
        except _TooLong as exc:
            head = _joined(carry, block, exc.start)
            if head:
                yield Chunk(head, line)
                line += _count(head, _LF)
            end = min(len(carry) + len(block), exc.start + max_record_bytes + 1)
            record = _joined(carry, block, end)[exc.start :]
            raise StreamError(_too_long(record, max_record_bytes), line) from None
        if cut < 0:
            carry += block
            continue
        data = _joined(carry, block, len(carry) + cut)
        yield Chunk(data, line)
        line += _count(data, _LF)
        carry = bytearray(memoryview(block)[cut:])
    if carry:
        yield Chunk(bytes(carry), line)


class _TooLong(Exception):
    """A record starting at ``start`` (an offset into carry + block) is too long."""

    def __init__(self, start: int) -> None:
        super().__init__(start)
        self.start = start


class _Scanner:
    """Finds record boundaries block by block, carrying the quote parity across blocks."""

    def __init__(self, max_record: int) -> None:
        self.max_record = max_record
        self.window = min(_WINDOW, max_record)
        self.quoted = False  # an odd number of quotes so far: inside a quoted field

    def scan(self, block: bytes, carried: int) -> int:
        """Offset in ``block`` just after its last record boundary, or -1 if it has none.

        ``carried`` bytes of the open record came before ``block``. Raises _TooLong (offset
        into carry + block) for the first record known to be longer than the limit.
        """
        start = -carried  # where the open record starts, relative to block
        last = -1
        for lo in range(0, len(block), self.window):
            hi = min(lo + self.window, len(block))
            first, final = self._window(block, lo, hi)
            if first < 0:
                if hi - start > self.max_record:
                    raise _TooLong(start + carried)
                continue
            if first - start > self.max_record:
                raise _TooLong(start + carried)
            start = last = final
        return last

    def _window(self, block: bytes, lo: int, hi: int) -> tuple[int, int]:
        """The offsets just after the first and the last boundary in block[lo:hi] (-1, -1 if
        none). Moves the quote parity on to hi."""
        if block.find(b'"', lo, hi) < 0:
            if self.quoted:
                return -1, -1
            first = block.find(b"\n", lo, hi)
            return (-1, -1) if first < 0 else (first + 1, block.rfind(b"\n", lo, hi) + 1)
        start_quoted = self.quoted
        self.quoted ^= bool(_count(block, _QUOTE, lo, hi) & 1)
        first = _first_boundary(block, lo, hi, start_quoted)
        if first < 0:
            return -1, -1
        return first, _last_boundary(block, first, hi, self.quoted)


def _first_boundary(data: bytes, lo: int, hi: int, quoted: bool) -> int:
    """Offset just after the first LF in data[lo:hi] outside quotes (-1 if none), given
    whether data[lo] is inside a quoted field."""
    pos = lo
    for _ in range(_WALK):
        lf = data.find(b"\n", pos, hi)
        if lf < 0:
            return -1
        quoted ^= bool(data.count(b'"', pos, lf) & 1)
        if not quoted:
            return lf + 1
        pos = lf + 1
    found = _boundaries(data, pos, hi, quoted)
    return int(found[0]) + 1 if len(found) else -1


def _last_boundary(data: bytes, lo: int, hi: int, quoted_at_hi: bool) -> int:
    """Offset just after the last LF in data[lo:hi] outside quotes (lo if none), given
    whether data[hi] is inside a quoted field; data[lo] must be outside quotes."""
    pos, quoted = hi, quoted_at_hi
    for _ in range(_WALK):
        lf = data.rfind(b"\n", lo, pos)
        if lf < 0:
            return lo
        quoted ^= bool(data.count(b'"', lf, pos) & 1)
        if not quoted:
            return lf + 1
        pos = lf
    found = _boundaries(data, lo, pos, False)
    return int(found[-1]) + 1 if len(found) else lo


def _boundaries(data: bytes, lo: int, hi: int, quoted: bool) -> np.ndarray:
    """Offsets of the LFs in data[lo:hi] outside quotes, vectorized."""
    view = np.frombuffer(data, np.uint8, count=hi - lo, offset=lo)
    parity = np.bitwise_xor.accumulate((view == _QUOTE).view(np.uint8))
    outside = parity == (1 if quoted else 0)
    return np.flatnonzero((view == _LF) & outside) + lo


def _count(data: bytes | bytearray, byte: int, lo: int = 0, hi: int | None = None) -> int:
    """How many times ``byte`` occurs in data[lo:hi] (numpy: several times bytes.count's speed)."""
    end = len(data) if hi is None else hi
    if end <= lo:
        return 0
    view = np.frombuffer(data, np.uint8, count=end - lo, offset=lo)
    return int(np.count_nonzero(view == byte))


def _joined(carry: bytearray, block: bytes, end: int) -> bytes:
    """(carry + block)[:end] with one copy (none when nothing is carried)."""
    if not carry:
        return block if end == len(block) else block[:end]
    if end <= len(carry):
        return bytes(carry[:end])
    return b"".join((carry, memoryview(block)[: end - len(carry)]))


def _too_long(seen: bytes, limit: int) -> str:
    """The reason for a record too long, from its first limit + 1 bytes."""
    reason = f"record is longer than {size_text(limit)}"
    if 0 in seen:
        return f"{reason}, with NUL bytes: binary data, not a UTF-8 CSV"
    if _CR in seen and _LF not in seen:
        return (
            f"{reason} with no LF but with CR bytes: the file seems to use CR-only line "
            "endings (classic Mac); save it with LF or CRLF line endings"
        )
    return f"{reason}; a line this long, or a quoted field opened here and never closed"


def _without_bom(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Drop a UTF-8 byte order mark; refuse UTF-16 and UTF-32 ones. A block may be shorter
    than a BOM (gzip output can be), so look at the first four bytes however they arrive."""
    head = b""
    for block in blocks:
        head += block
        if len(head) >= 4:
            break
    for bom, name in _FOREIGN_BOMS.items():
        if head.startswith(bom):
            raise StreamError(f"file is {name} encoded; it must be UTF-8 ({HOW_UTF8})")
    if head := head.removeprefix(UTF8_BOM):
        yield head
    yield from blocks
