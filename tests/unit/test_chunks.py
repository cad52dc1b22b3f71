"""Byte streams to record chunks, checked against a byte-at-a-time oracle of CSV records.

Whatever the block sizes, the gzip splits or the input, the chunks hold the same records with
the same line numbers, and a record over the limit is refused at once, naming its first line.
"""

from __future__ import annotations

import gzip
import io
import itertools
import zlib
from collections.abc import Iterable
from unittest.mock import patch

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.unit.conftest import rejection
from tests.unit.streams import MIB, GeneratedStream, SplitStream, gzip_bomb, repeated
from txsummary.core import chunks
from txsummary.core.chunks import (
    MAX_RECORD_BYTES,
    UTF8_BOM,
    Chunk,
    StreamError,
    raw_blocks,
    record_chunks,
    size_text,
)
from txsummary.core.limits import MAX_DECOMPRESSED_BYTES

Records = list[tuple[bytes, int]]


def oracle(data: bytes) -> Records:
    """Records as the contract defines them, one byte at a time: a record ends at an LF after an
    even number of quotes since the start; each with its first physical line (LFs only)."""
    records: Records = []
    start, line, quotes = 0, 1, 0
    for i, byte in enumerate(data):
        if byte == ord('"'):
            quotes += 1
        elif byte == ord("\n") and quotes % 2 == 0:
            records.append((data[start : i + 1], line))
            line += data.count(b"\n", start, i + 1)
            start = i + 1
    if start < len(data):
        records.append((data[start:], line))
    return records


def chunked(
    pieces: Iterable[bytes], max_record_bytes: int = MAX_RECORD_BYTES
) -> tuple[list[Chunk], StreamError | None]:
    chunks: list[Chunk] = []
    try:
        for chunk in record_chunks(iter(pieces), max_record_bytes=max_record_bytes):
            chunks.append(chunk)
    except StreamError as exc:
        return chunks, exc
    return chunks, None


def split(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def check_against_oracle(data: bytes, pieces: list[bytes], limit: int) -> None:
    chunks, error = chunked(pieces, limit)
    records = oracle(data)
    too_long = next((i for i, (text, _) in enumerate(records) if len(text) > limit), None)
    kept = records if too_long is None else records[:too_long]
    # The chunks hold exactly the records before any over-long one, each chunk whole records
    assert b"".join(c.data for c in chunks) == b"".join(text for text, _ in kept)
    starts = {sum(len(text) for text, _ in kept[:i]): line for i, (_, line) in enumerate(kept)}
    offset = 0
    for chunk in chunks:
        assert chunk.data
        assert starts.get(offset) == chunk.first_line, (offset, chunk)
        offset += len(chunk.data)
    # And the over-long record, and only it, is refused, naming its first line
    if too_long is None:
        assert error is None
    else:
        assert error is not None
        assert error.line == records[too_long][1]
        assert f"record is longer than {size_text(limit)}" in str(error)


hostile_bytes = st.lists(
    st.sampled_from([b"a", b",", b'"', b'""', b"\n", b"\r", b"\r\n", b"\n\r", b"1"]), max_size=60
).map(b"".join)


@settings(max_examples=400)
@given(hostile_bytes, st.lists(st.integers(0, 200), max_size=8), st.integers(1, 40))
@example(b'a\n"b\nc\n\nd"\ne\n', [1, 4, 9], 4)
@example(b"ab\ncd\n", [], 3)
def test_chunks_hold_the_oracles_records_whatever_the_splits(
    data: bytes, cuts: list[int], limit: int
) -> None:
    # Given hostile bytes split into blocks anywhere, and a record limit
    # When they are cut into chunks, Then the chunks match the oracle's records
    check_against_oracle(data, split(data, cuts), limit)


@pytest.mark.parametrize("limit", [3, 5, 8, 1000])
def test_every_split_point_and_one_byte_blocks(limit: int) -> None:
    # Given a small file with quoted line breaks, doubled quotes, CRLF and a bare CR
    data = b'Id,Date,"Trans\naction"\r\n1,"7/1",""""\n2,7/2,"a\r\nb"\n\n3,x\r4\n"open\n5,6'
    # When it arrives split at every single byte position, or one byte at a time
    for cut in range(len(data) + 1):
        check_against_oracle(data, [data[:cut], data[cut:]], limit)
    check_against_oracle(data, [data[i : i + 1] for i in range(len(data))], limit)


def test_line_numbers_count_lf_only() -> None:
    # Given CRLF, LF-CR, a CR inside a quoted field and a bare CR
    data = b'a\r\nb\n\rc\n"d\re"\nf\rg\nh\n'
    # When it is chunked one byte at a time
    chunks, error = chunked([data[i : i + 1] for i in range(len(data))])
    # Then every chunk's first line counts LFs only
    assert error is None
    assert [(c.data, c.first_line) for c in chunks] == [
        (b"a\r\n", 1), (b"b\n", 2), (b"\rc\n", 3), (b'"d\re"\n', 4), (b"f\rg\n", 5), (b"h\n", 6),
    ]  # fmt: skip


def test_a_record_exactly_at_the_limit_is_kept() -> None:
    # Given a header and a line of exactly MAX_RECORD_BYTES, counting its LF
    line = b"x" * (MAX_RECORD_BYTES - 1) + b"\n"
    data = b"Id,Date,Transaction\n" + line + b"1,7/1,+1\n"
    # When chunked in blocks of various sizes
    for block in (1000, 65536, MAX_RECORD_BYTES, 4 * MIB):
        chunks, error = chunked(split(data, range(0, len(data), block)))
        # Then nothing is refused
        assert error is None
        assert b"".join(c.data for c in chunks) == data


def test_a_record_one_byte_over_the_limit_is_refused_naming_its_line() -> None:
    # Given six short lines, then a line one byte over the limit, then more
    long_line = b"x" * MAX_RECORD_BYTES + b"\n"
    data = b"Id,Date,Transaction\n" + b"1,7/1,+1\n" * 5 + long_line + b"7,7/2,+1\n"
    for block in (1000, 65536, MAX_RECORD_BYTES, 4 * MIB):
        # When chunked
        chunks, error = chunked(split(data, range(0, len(data), block)))
        # Then the six lines before it are yielded, and line 7 is named
        assert b"".join(c.data for c in chunks) == data[: data.index(b"x")]
        assert error is not None
        assert error.line == 7
        assert str(error) == (
            "record is longer than 1 MiB (1,048,576 bytes); a line this long, or a quoted "
            "field opened here and never closed"
        )


def test_a_quote_opened_and_never_closed_names_the_line_it_opened() -> None:
    # Given a quote opened on line 7 and 2 MiB of valid-looking rows after it
    rows = b"".join(b"%d,7/1,+1\n" % i for i in range(200_000))
    data = b"Id,Date,Transaction\n" + b"1,7/1,+1\n" * 5 + b'7,7/1,"+1\n' + rows
    # When chunked
    _, error = chunked(split(data, range(0, len(data), 1 << 16)))
    # Then line 7 is named
    assert error is not None
    assert error.line == 7
    assert "quoted field opened here and never closed" in str(error)


def test_cr_only_line_endings_are_named_as_such() -> None:
    # Given a classic Mac file: CR line endings only, over the record limit
    data = b"Id,Date,Transaction\r" + b"1,7/1,+1\r" * 200_000
    # When chunked
    _, error = chunked([data])
    # Then the cause is named, on line 1
    assert error is not None
    assert error.line == 1
    assert "CR-only line endings (classic Mac)" in str(error)
    assert "save it with LF or CRLF" in str(error)


def test_reading_stops_soon_after_the_limit_on_a_line_with_no_end() -> None:
    # Given 200 MB with no line break, generated as it is read
    stream = GeneratedStream(repeated(b"0" * MIB, 200 * MIB))
    # When summarized
    error = rejection_of(io.BufferedReader(stream))
    # Then it is refused on line 1 after reading about one block, not the whole stream
    assert "line 1: record is longer than 1 MiB" in error
    assert stream.consumed <= 4 * MIB + 64 * 1024


def rejection_of(stream: io.BufferedIOBase) -> str:
    from txsummary.core.errors import InvalidFileError
    from txsummary.core.summarize import summarize_stream

    with pytest.raises(InvalidFileError) as caught:
        summarize_stream(stream, "hostile.csv", chunk_size=4 * MIB)  # type: ignore[arg-type]
    return caught.value.describe()


def test_summarize_reports_an_over_long_record_as_invalid_data() -> None:
    # Given a file whose third line is over the limit, after a bad row
    data = b"Id,Date,Transaction\n1,7/1,abc\n" + b"9" * (MAX_RECORD_BYTES + 1) + b"\n"
    # When summarized (a StreamError inside), Then it is an InvalidFileError with both lines
    error = rejection(data)
    assert [e.line for e in error.errors] == [2, 3]
    assert "record is longer than 1 MiB" in error.errors[1].reason


def test_utf8_bom_is_dropped_however_it_is_split() -> None:
    data = UTF8_BOM + b'"Id",Date\n1,2\n'
    for cut in range(len(data) + 1):
        chunks, error = chunked([data[:cut], data[cut:]])
        assert error is None
        assert b"".join(c.data for c in chunks) == data.removeprefix(UTF8_BOM)
        assert chunks[0].first_line == 1


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00"])
def test_utf16_and_utf32_are_refused(bom: bytes) -> None:
    _, error = chunked([bom[:1], bom[1:] + "Id".encode("utf-16-le")])
    assert error is not None
    assert error.line == 0
    assert "it must be UTF-8" in str(error)


# gzip


def inflated(
    pieces: list[bytes], block_size: int, limit: int = MAX_DECOMPRESSED_BYTES
) -> tuple[bytes, str | None]:
    blocks: list[bytes] = []
    stream = SplitStream(pieces)
    try:
        for block in raw_blocks(stream, block_size, max_decompressed_bytes=limit):  # type: ignore[arg-type]
            blocks.append(block)
    except StreamError as exc:
        assert exc.line == 0
        return b"".join(blocks), str(exc)
    return b"".join(blocks), None


@settings(max_examples=100)
@given(
    st.binary(max_size=3000),
    st.lists(st.integers(0, 10_000), max_size=10),
    st.integers(1, 5000),
)
def test_gzip_is_inflated_whatever_the_splits(plain: bytes, cuts: list[int], block: int) -> None:
    # Given two gzip members, split anywhere
    packed = gzip.compress(plain) + gzip.compress(plain[::-1])
    # When inflated, Then the output is the plain bytes
    assert inflated(split(packed, cuts), block) == (plain + plain[::-1], None)


def corrupt_and_truncated() -> list[bytes]:
    plain = b"".join(b"%d,7/1,+1\n" % i for i in range(60_000))
    packed = gzip.compress(plain)
    corrupt = bytearray(packed)
    corrupt[len(packed) // 2] ^= 0xFF
    return [packed[: len(packed) * 2 // 3], bytes(corrupt), packed + b"garbage"]


@pytest.mark.parametrize("packed", corrupt_and_truncated())
@given(cuts=st.lists(st.integers(0, 1 << 20), max_size=6), block=st.integers(100, 1 << 20))
@settings(max_examples=25, deadline=None)
def test_bad_gzip_inflates_the_same_prefix_whatever_the_splits(
    packed: bytes, cuts: list[int], block: int
) -> None:
    # Given a truncated or corrupt gzip file, read in different blocks
    # When inflated, Then the same bytes come before the same error
    assert inflated(split(packed, cuts), block) == inflated([packed], 1 << 20)
    assert inflated([packed], 1 << 20)[1] is not None


def test_the_decompressed_size_is_capped() -> None:
    # Given 2000 bytes gzipped, and a limit of 1000 bytes
    packed = gzip.compress(bytes(range(256)) * 8)
    # When inflated, Then exactly 1000 bytes come out, then an error naming the limit
    out, error = inflated([packed], 300, limit=1000)
    assert out == (bytes(range(256)) * 8)[:1000]
    assert error == (
        "gzip data expands to more than 1,000 bytes, the most a file may hold once decompressed"
    )
    # And a file exactly at the limit is whole
    assert inflated([gzip.compress(b"x" * 1000)], 300, limit=1000) == (b"x" * 1000, None)


def test_the_default_cap_is_4_gib() -> None:
    assert MAX_DECOMPRESSED_BYTES == 4 << 30
    assert size_text(MAX_DECOMPRESSED_BYTES) == "4 GiB (4,294,967,296 bytes)"


def test_inflated_blocks_stay_small_on_a_bomb() -> None:
    # Given a gzip bomb of 64 MiB of NUL bytes, read in 1 MiB blocks
    blocks = raw_blocks(GeneratedStream(gzip_bomb(b"\0", 64 * MIB)), MIB)  # type: ignore[arg-type]
    # When inflated, Then no block is over the block size
    sizes = [len(b) for b in blocks]
    assert sum(sizes) == 64 * MIB
    assert max(sizes) <= MIB


def test_the_bomb_helper_is_valid_gzip() -> None:
    assert gzip.decompress(b"".join(gzip_bomb(b"0", 3 * MIB))) == b"0" * (3 * MIB)
    assert zlib.decompress(b"".join(gzip_bomb(b"\0", 2 * MIB)), wbits=31) == bytes(2 * MIB)


@pytest.mark.parametrize("walk", [0, 1, 2])
@settings(max_examples=150)
@given(data=hostile_bytes, cuts=st.lists(st.integers(0, 200), max_size=8), limit=st.integers(1, 40))
def test_the_vectorized_scan_agrees_with_the_oracle(
    walk: int, data: bytes, cuts: list[int], limit: int
) -> None:
    # Given the line-by-line walk cut short, so the vectorized scan does the work
    with patch.object(chunks, "_WALK", walk):
        # When chunked, Then the oracle's records come out all the same
        check_against_oracle(data, split(data, cuts), limit)


def test_many_line_breaks_inside_one_quoted_field() -> None:
    # Given a valid record whose quoted field holds 300,000 line breaks, between plain rows
    field = b'"' + b"\n" * 300_000 + b'"'
    data = b"Id,Date,Transaction\n1,7/1,+1\n2,7/1," + field + b"\n3,7/1,+1\n"
    # When chunked in small blocks
    pieces = split(data, range(0, len(data), 4096))
    # Then it is one record, on line 3, and the next row is on line 300,004
    check_against_oracle(data, pieces, MAX_RECORD_BYTES)
    assert [line for _, line in oracle(data)] == [1, 2, 3, 300_004]


def test_binary_data_is_named_as_such() -> None:
    # Given 2 MiB of NUL bytes, When chunked, Then line 1 is refused as binary data
    _, error = chunked([bytes(2 * MIB)])
    assert error is not None
    assert error.line == 1
    assert str(error) == (
        "record is longer than 1 MiB (1,048,576 bytes), with NUL bytes: "
        "binary data, not a UTF-8 CSV"
    )


def verdict(data: bytes, chunk_size: int, limit: int) -> str:
    from txsummary.core.errors import InvalidFileError
    from txsummary.core.summarize import summarize_stream

    try:
        summary = summarize_stream(
            io.BytesIO(data), "f.csv", chunk_size=chunk_size, max_record_bytes=limit
        )
    except InvalidFileError as exc:
        return exc.describe()
    return repr(summary)


row_texts = st.one_of(
    st.integers(0, 10**6).map(lambda i: f"{i},7/{i % 28 + 1},+{i % 997}.5\n"),
    st.integers(0, 10**6).map(lambda i: f"{i},7/1,bad{i}\n"),  # a data error on its line
    st.integers(40, 90).map(lambda n: "9" * n + "\n"),  # over the 40-byte limit when n > 39
    st.sampled_from(["\n", "\r\n"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(row_texts, max_size=25),
    st.booleans(),
    st.lists(st.integers(1, 600), min_size=2, max_size=3),
)
def test_the_verdict_does_not_depend_on_the_block_size(
    rows: list[str], packed: bool, sizes: list[int]
) -> None:
    # Given rows, data errors and over-long lines (a 40-byte limit), maybe gzipped
    data = ("Id,Date,Transaction\n" + "".join(rows)).encode()
    if packed:
        data = gzip.compress(data)
    # When summarized with different block sizes, Then the verdict and every line are the same
    verdicts = {verdict(data, size, 40) for size in sizes}
    assert len(verdicts) == 1, verdicts
