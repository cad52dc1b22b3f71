"""Byte streams to whole-record chunks: gzip on the fly, BOMs, quote-aware cuts, line numbers.

Memory stays at about one block plus one chunk whatever the file's size.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

# The longest record (a line, or several joined by a quoted field) a file may hold.
MAX_RECORD_BYTES = 1 << 20
# The most a gzip stream may expand to.
MAX_DECOMPRESSED_BYTES = 4 << 30
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_FOREIGN_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


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


def raw_blocks(
    stream: BinaryIO,
    block_size: int,
    progress: Callable[[int], None] | None = None,
    *,
    max_decompressed_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> Iterator[bytes]:
    """Blocks of the stream's bytes, gunzipped when the stream starts with the gzip magic."""

    def read() -> Iterator[bytes]:
        while block := stream.read(block_size):
            if progress is not None:
                progress(len(block))
            yield block

    blocks = read()
    first = next(blocks, b"")
    if not first:
        return
    if first.startswith(GZIP_MAGIC):
        yield from _gunzip(_prepend(first, blocks), block_size)
    else:
        yield first
        yield from blocks


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _gunzip(blocks: Iterator[bytes], block_size: int) -> Iterator[bytes]:
    """Decompress gzip members one after another; output per call is capped at block_size."""
    decomp = zlib.decompressobj(wbits=31)
    try:
        for block in blocks:
            data = block
            while data:
                if decomp.eof:  # the next member of a multi-member file starts here
                    decomp = zlib.decompressobj(wbits=31)
                out = decomp.decompress(data, block_size)
                if out:
                    yield out
                data = decomp.unused_data if decomp.eof else decomp.unconsumed_tail
            # Drain output held back by the cap even though all input was consumed.
            while not decomp.eof and (out := decomp.decompress(b"", block_size)):
                yield out
    except zlib.error as exc:
        raise StreamError(f"not a valid gzip stream ({exc})") from exc
    if not decomp.eof:
        raise StreamError("gzip stream is truncated")


def record_chunks(
    blocks: Iterator[bytes], *, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Chunk]:
    """Cut the byte stream into chunks of whole CSV records, with their first line numbers.

    A newline inside a quoted field is not a record boundary. If no safe boundary turns up
    within ``max_record_bytes`` bytes (an unbalanced quote), cut at the last newline anyway, so the
    bad line is reported where it is and memory stays bounded.
    """
    pending = b""
    line = 1
    for block in _without_bom(blocks):
        pending = pending + block if pending else block
        cut = _record_boundary(pending)
        if cut == 0 and len(pending) > max_record_bytes:
            cut = pending.rfind(b"\n") + 1
        if cut:
            yield Chunk(pending[:cut], line)
            line += pending.count(b"\n", 0, cut)
            pending = pending[cut:]
    if pending:
        yield Chunk(pending, line)


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
            raise StreamError(f"file is {name} encoded; it must be UTF-8")
    if head := head.removeprefix(UTF8_BOM):
        yield head
    yield from blocks


def _record_boundary(data: bytes) -> int:
    """Offset just after the last newline that is outside quotes (0 if none)."""
    end = data.rfind(b"\n")
    if end < 0:
        return 0
    if data.find(b'"', 0, end) < 0:
        return end + 1
    quotes = data.count(b'"', 0, end)
    # CSV escapes a quote by doubling it, so an even count before a newline means "outside".
    while quotes % 2:
        previous = data.rfind(b"\n", 0, end)
        if previous < 0:
            return 0
        quotes -= data.count(b'"', previous, end)
        end = previous
    return end + 1
