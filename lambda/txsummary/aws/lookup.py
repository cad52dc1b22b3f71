"""Which object versions have a summary record: BatchGetItem, up to 100 versions a round trip.

The reconcile asks this of every due version on every run, so one request per hundred keeps a
run's time for the files that need it. Reads are consistent (a record written a moment ago by
an event's delivery counts) and only the key is fetched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Final

from txsummary.aws.store import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef

    from txsummary.objects import ObjectRef

MAX_KEYS: Final = 100  # BatchGetItem's limit
# UnprocessedKeys come back when the table throttles; retried with a growing pause, then given up.
MAX_ROUNDS: Final = 8
FIRST_PAUSE_SECONDS: Final = 0.05


class LookupIncomplete(RuntimeError):
    """The table kept returning unprocessed keys (throttling) past every retry."""


class RecordLookup:
    def __init__(
        self, client: DynamoDBClient, table: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._client = client
        self._table = table
        self._sleep = sleep

    def have_records(self, refs: Sequence[ObjectRef]) -> list[bool]:
        """For each ref, in order, whether its item exists."""
        keys = [item_key(r) for r in refs]
        wanted = sorted({(k["pk"], k["sk"]) for k in keys})  # BatchGetItem refuses a key twice
        found: set[tuple[str, str]] = set()
        for start in range(0, len(wanted), MAX_KEYS):
            found |= self._found(wanted[start : start + MAX_KEYS])
        return [(k["pk"], k["sk"]) in found for k in keys]

    def _found(self, pending: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        pause = FIRST_PAUSE_SECONDS
        for _ in range(MAX_ROUNDS):
            request: KeysAndAttributesTypeDef = {
                "Keys": [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in pending],
                "ConsistentRead": True,
                "ProjectionExpression": "pk, sk",
            }
            response = self._client.batch_get_item(RequestItems={self._table: request})
            for item in response.get("Responses", {}).get(self._table, []):
                found.add((str(item["pk"]["S"]), str(item["sk"]["S"])))
            unprocessed = response.get("UnprocessedKeys", {}).get(self._table)
            left = unprocessed.get("Keys", []) if unprocessed else []
            if not left:
                return found
            pending = [(str(k["pk"]["S"]), str(k["sk"]["S"])) for k in left]
            self._sleep(pause)
            pause *= 2
        raise LookupIncomplete(
            f"{self._table}: keys still unprocessed after {MAX_ROUNDS} BatchGetItem rounds"
        )
