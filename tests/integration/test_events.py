"""S3 event -> object refs (`txsummary.aws.events`): pure, no AWS."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from tests.integration.conftest import load_event
from txsummary.aws.events import object_refs
from txsummary.objects import SKIP_NOT_AN_OBJECT, SKIP_TEST_EVENT, ObjectRef, Skipped


def _record(key: str, **obj: Any) -> dict[str, Any]:
    return {
        "eventSource": "aws:s3",
        "s3": {"bucket": {"name": "b"}, "object": {"key": quote_plus(key), **obj}},
    }


@given(keys=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=6))
def test_every_record_gives_its_decoded_key_in_order(keys: list[str]) -> None:
    # Given any keys, URL-encoded the way S3 encodes them, one record each
    event = {"Records": [_record(k) for k in keys]}
    # When parsed, Then each record gives one ref, in order, with the key as uploaded
    refs = list(object_refs(event))
    assert all(isinstance(r, ObjectRef) for r in refs)
    assert [r.key for r in refs if isinstance(r, ObjectRef)] == keys


def test_version_etag_and_size_are_read_when_well_typed() -> None:
    [ref] = object_refs({"Records": [_record("a.csv", versionId="v1", eTag="e", size=7)]})
    assert ref == ObjectRef("b", "a.csv", "v1", "e", 7)
    [ref] = object_refs({"Records": [_record("a.csv", versionId="", size=True)]})
    assert ref == ObjectRef("b", "a.csv")


def test_the_malformed_sample_gives_a_skip_then_the_good_object() -> None:
    skipped, ref = object_refs(load_event("s3_malformed_record.json"))
    assert skipped == Skipped(None, SKIP_NOT_AN_OBJECT)
    assert isinstance(ref, ObjectRef)
    assert ref.key == "good.csv"


def test_the_test_event_and_an_empty_event_are_skipped() -> None:
    assert list(object_refs(load_event("s3_test_event.json"))) == [Skipped(None, SKIP_TEST_EVENT)]
    assert list(object_refs({})) == [Skipped(None, SKIP_NOT_AN_OBJECT)]
    assert list(object_refs({"Records": "oops"})) == [Skipped(None, SKIP_NOT_AN_OBJECT)]
