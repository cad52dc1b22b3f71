"""The seen-Id registry against a plain set of strings."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from txsummary.core.ids import BITMAP_LIMIT, IdRegistry
from txsummary.core.rules import canonical_ints

_batch = st.one_of(
    st.lists(st.integers(0, 300), max_size=40),  # dense: the packed path
    st.lists(st.integers(0, BITMAP_LIMIT - 1), max_size=5),  # sparse: the scattered path
    st.builds(lambda a, n: list(range(a, a + n)), st.integers(0, 5000), st.integers(0, 100)),
)
_text = st.one_of(st.integers(0, 400).map(str), st.sampled_from(["007", "tx-1", "", "1" * 30]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_batch, _text), max_size=30))
def test_registry_matches_a_set(steps: list[list[int] | str]) -> None:
    registry, seen = IdRegistry(), set[str]()
    for step in steps:
        if isinstance(step, str):
            # An empty Id is no Id: never new, never recorded
            assert registry.add(step) == (step != "" and step not in seen)
            if step:
                seen.add(step)
            continue
        texts = [str(v) for v in step]
        fresh = len(set(texts)) == len(texts) and not seen.intersection(texts)
        # All or nothing: a batch with any duplicate records none of its Ids.
        assert registry.add_ints(np.array(step, dtype=np.int64)) == fresh
        if fresh:
            seen.update(texts)
    for text in {*seen, "0", "5", "299", "tx-1"}:
        assert registry._seen(text) == (text in seen)


_texts = st.lists(
    st.one_of(
        st.integers(0, 50).map(str),
        st.integers(BITMAP_LIMIT - 2, BITMAP_LIMIT + 2).map(str),
        st.sampled_from(["", "007", "tx-1", "1" * 18, "1" * 19, "+1", " 1", "\u0661", "0"]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_texts, max_size=6))
def test_add_each_tells_each_id_whether_it_is_new(batches: list[list[str]]) -> None:
    # Given batches of Ids of every kind (bitmap, large integers, texts, empty)
    registry, seen = IdRegistry(), set[str]()
    for batch in batches:
        # When each batch is recorded row by row in one call
        fresh = registry.add_each(pa.array(batch, pa.string())).tolist()
        # Then each Id is new exactly when a set of the non-empty ones so far lacks it
        expected = []
        for text in batch:
            expected.append(bool(text) and text not in seen)
            if text:
                seen.add(text)
        assert fresh == expected


def test_ten_million_sequential_ids_fit_in_about_a_megabyte() -> None:
    registry = IdRegistry()
    for start in range(0, 10_000_000, 1_000_000):
        assert registry.add_ints(np.arange(start, start + 1_000_000, dtype=np.int64))
    assert registry._bits.nbytes <= 2 * 10_000_000 // 8
    assert not registry.add_ints(np.array([9_999_999], dtype=np.int64))


def _canonical(text: str) -> int | None:
    """The Id rule by Python's own means: ASCII digits, at most 18, no leading zero."""
    if text.isascii() and text.isdigit() and len(text) <= 18 and (text == "0" or text[0] != "0"):
        return int(text)
    return None


_id_texts = st.one_of(
    st.integers(0, 10**19).map(str),
    st.text(alphabet="0123456789+- x\u0661\u00b2", max_size=20),
    st.sampled_from(["", "0", "00", "007", "1" * 18, "1" * 19, "9" * 18]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_id_texts, max_size=20), st.booleans())
def test_canonical_ints_is_the_rule_value_by_value(texts: list[str], binary: bool) -> None:
    # Given Ids as UTF-8 strings or bytes
    array = pa.array([t.encode() for t in texts] if binary else texts)
    # When the rule runs over the whole array
    canonical, values = canonical_ints(array)
    # Then each Id is canonical, with its value, exactly when Python says so
    expected = [_canonical(t) for t in texts]
    assert canonical.tolist() == [e is not None for e in expected]
    assert [int(v) if c else None for c, v in zip(canonical, values, strict=True)] == expected
