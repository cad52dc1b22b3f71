"""The summary record: one DynamoDB item per object version, written once (the Store port).

Key: ``pk`` = ``s3://<bucket>/<key>``, ``sk`` = the version id (the ETag when the bucket has no
versions), so a redelivered event finds its item and a new upload of the key gets its own.
Money is integer cents as DynamoDB numbers; boto3's serializer refuses floats, and none are
ever built here. Balances across files are derived from these items.

Every write is conditional and names the delivery's token. A failed condition returns the item
as it stands (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so a write whose response was
lost, or that botocore re-sent, is recognised as this delivery's own by its token, with no
second read. The item holds every month's totals, so a stored summary is rebuilt exactly
(:func:`record_of`) to send an e-mail, or report the file, without re-reading it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.effects import EmailStatus, Kind, Record, Result

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from txsummary.objects import ObjectRef

# An item is at most 400 KB; this many months (about 100 bytes each) stays far below that.
# A file spanning more months (dates over 80+ years) keeps its overall totals exact and the
# first months only, with month_count saying how many there were.
MAX_STORED_MONTHS = 1000

MAX_ATTEMPTS = 5
CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
_CONDITIONAL_FAILED = "ConditionalCheckFailedException"


def dynamodb_client() -> DynamoDBClient:
    """A client with standard retries (throttling and transient errors are retried) and short
    timeouts: its calls run inside the e-mail claim's lease."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    return boto3.client("dynamodb", config=config)


def item_key(ref: ObjectRef) -> dict[str, str]:
    """``{"pk": "s3://bucket/key", "sk": version id or ETag}``."""
    return {"pk": ref.uri, "sk": ref.sort_key}


def processed_at_text(when: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the millisecond: sorts as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class SummaryStore:
    """The summary table. ``client`` is a boto3 DynamoDB client (created after moto in tests)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def get(self, ref: ObjectRef) -> Record | None:
        """The item, read consistently (a retry right after a put must see it), or None."""
        response = self._client.get_item(
            TableName=self.table_name, Key=_serialize(item_key(ref)), ConsistentRead=True
        )
        found = response.get("Item")
        return None if found is None else record_of(_deserialize(found))

    def put(self, ref: ObjectRef, record: Record, *, processed_at: datetime) -> Record | None:
        """Write the item unless it exists. None when this delivery wrote it (now, or by an
        attempt whose response was lost); otherwise the item another delivery wrote."""
        theirs = self._write(
            ref,
            "put",
            Item=_serialize(item_of(ref, record, processed_at)),
            ConditionExpression="attribute_not_exists(pk)",
        )
        if theirs is None or theirs.token == record.token:
            return None
        return theirs

    def claim_email(
        self, ref: ObjectRef, *, token: str, now: int, lease_seconds: int, reopen: bool = False
    ) -> Record | None:
        """Take the right to send the e-mail: pending (or, with ``reopen``, failed) -> sending
        until ``now + lease_seconds``; also a claim whose lease ran out (its delivery died
        mid-send) or that this token already holds. Otherwise the item: do not send."""
        allowed = "email_status IN (:pending, :failed)" if reopen else "email_status = :pending"
        return self._update(
            ref,
            "SET email_status = :sending, email_claimed_until = :until, email_token = :token",
            f"{allowed} OR (email_status = :sending AND "
            "(email_claimed_until < :now OR email_token = :token))",
            {
                ":sending": EmailStatus.SENDING.value,
                ":pending": EmailStatus.PENDING.value,
                **({":failed": EmailStatus.FAILED.value} if reopen else {}),
                ":until": now + lease_seconds,
                ":now": now,
                ":token": token,
            },
        )

    def release_email(self, ref: ObjectRef, *, token: str) -> None:
        """Give this token's claim back after a failed send, so the retry may send at once."""
        self._update(
            ref,
            "SET email_status = :pending REMOVE email_claimed_until",
            "email_status = :sending AND email_token = :token",
            {
                ":pending": EmailStatus.PENDING.value,
                ":sending": EmailStatus.SENDING.value,
                ":token": token,
            },
        )

    def mark_email_sent(
        self, ref: ObjectRef, *, token: str, message_id: str, recipients: Sequence[str]
    ) -> Record | None:
        """Record the sent e-mail (status, SES message id, recipients, time) under this token's
        claim; None also when this token recorded it already."""
        return self._settle(
            ref,
            token,
            EmailStatus.SENT,
            "email_message_id = :id, email_to = :to, email_sent_at = :at",
            {
                ":id": message_id,
                ":to": list(recipients),
                ":at": processed_at_text(datetime.now(UTC)),
            },
        )

    def mark_email_failed(self, ref: ObjectRef, *, token: str, reason: str) -> Record | None:
        """Record that SES refused the e-mail for good, and why."""
        return self._settle(ref, token, EmailStatus.FAILED, "email_error = :why", {":why": reason})

    def mark_reported(self, ref: ObjectRef, *, token: str) -> bool:
        """Claim the version's one report; True when this token holds it."""
        theirs = self._update(
            ref,
            "SET reported_by = :token",
            "attribute_exists(pk) AND (attribute_not_exists(reported_by) OR reported_by = :token)",
            {":token": token},
        )
        return theirs is None

    def _settle(
        self,
        ref: ObjectRef,
        token: str,
        status: EmailStatus,
        assignments: str,
        values: Mapping[str, Any],
    ) -> Record | None:
        theirs = self._update(
            ref,
            f"SET email_status = :status, {assignments} REMOVE email_claimed_until",
            "email_token = :token AND (email_status = :sending OR email_status = :status)",
            {
                ":status": status.value,
                ":sending": EmailStatus.SENDING.value,
                ":token": token,
                **values,
            },
        )
        return theirs

    def _update(
        self, ref: ObjectRef, update: str, condition: str, values: Mapping[str, Any]
    ) -> Record | None:
        return self._write(
            ref,
            "update",
            Key=_serialize(item_key(ref)),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=_serialize(values),
        )

    def _write(self, ref: ObjectRef, kind: str, **request: Any) -> Record | None:
        """One conditional write; None when it took effect, else the item as it stands."""
        call = self._client.put_item if kind == "put" else self._client.update_item
        try:
            call(
                TableName=self.table_name,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **request,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _CONDITIONAL_FAILED:
                raise
            old: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            if old is None:
                raise LookupError(f"{ref.uri} ({ref.sort_key}): the record is gone") from exc
            return record_of(_deserialize(old))
        return None


def item_of(ref: ObjectRef, record: Record, processed_at: datetime) -> dict[str, Any]:
    """The item for a new record."""
    result = record.result
    item: dict[str, Any] = {
        **item_key(ref),
        "bucket": ref.bucket,
        "key": ref.key,
        "outcome": record.outcome.value,
        "processed_at": processed_at_text(processed_at),
        "delivery": record.token,
    }
    optional = (
        ("version_id", ref.version_id),
        ("etag", ref.etag),
        ("size", ref.size),
        ("lake_key", record.lake_key),
        ("email_status", None if record.email_status is None else record.email_status.value),
        ("email_to", list(record.email_to) or None),
    )
    item.update((name, value) for name, value in optional if value is not None)
    item.update(
        rejection_attributes(result)
        if isinstance(result, InvalidFileError)
        else summary_attributes(result)
    )
    return item


def record_of(item: Mapping[str, Any]) -> Record:
    """An item (plain values) as the port's Record."""
    status = item.get("email_status")
    return Record(
        result=result_of(item),
        token=str(item.get("delivery", "")),
        lake_key=_text(item.get("lake_key")),
        email_status=None if status is None else EmailStatus(status),
        email_to=tuple(str(r) for r in item.get("email_to", ())),
        email_token=_text(item.get("email_token")),
        email_claimed_until=int(item.get("email_claimed_until", 0)),
        email_message_id=_text(item.get("email_message_id")),
        email_error=_text(item.get("email_error")),
        reported_by=_text(item.get("reported_by")),
    )


def result_of(item: Mapping[str, Any]) -> Result:
    """The summary, or the rejection, that an item records (as far as it was stored)."""
    if item["outcome"] == Kind.REJECTED:
        errors = tuple(LineError(int(e["line"]), str(e["reason"])) for e in item["errors"])
        return InvalidFileError(str(item["pk"]), errors, int(item["error_count"]))
    totals = _totals(item, balance="total_balance_cents")
    months = tuple(
        MonthSummary(
            None if m.get("year") is None else int(m["year"]),
            int(m["month"]),
            _totals(m, balance="balance_cents"),
        )
        for m in item["months"]
    )
    return Summary(totals, months)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def summary_attributes(summary: Summary) -> dict[str, Any]:
    """A summary's attributes: counts and integer cents; a missing average is left out."""
    return {
        **_totals_attributes(summary.totals, balance="total_balance_cents"),
        "month_count": len(summary.months),
        "months": [_month(m) for m in summary.months[:MAX_STORED_MONTHS]],
    }


def rejection_attributes(error: InvalidFileError) -> dict[str, Any]:
    """A rejection's attributes: how many errors, and the first of them."""
    return {
        "error_count": error.error_count,
        "errors": [
            {"line": e.line, "reason": e.reason} for e in error.errors[:MAX_REPORTED_ERRORS]
        ],
    }


def _month(month: MonthSummary) -> dict[str, Any]:
    entry: dict[str, Any] = {"month": month.month}
    if month.year is not None:
        entry["year"] = month.year
    return entry | _totals_attributes(month.totals, balance="balance_cents")


def _totals_attributes(t: Totals, *, balance: str) -> dict[str, Any]:
    """Totals as attributes (the balance under ``balance``); a missing average is left out."""
    attributes: dict[str, Any] = {
        "transactions": t.transactions,
        "credits": t.credits,
        "debits": t.debits,
        balance: t.balance,
        "credit_total_cents": t.credit_total,
        "debit_total_cents": t.debit_total,
    }
    for name, value in (
        ("average_credit_cents", t.average_credit),
        ("average_debit_cents", t.average_debit),
    ):
        if value is not None:
            attributes[name] = value
    return attributes


def _totals(values: Mapping[str, Any], *, balance: str) -> Totals:
    """The inverse of :func:`_totals_attributes` (averages are derived, not read)."""
    return Totals(
        transactions=int(values["transactions"]),
        balance=int(values[balance]),
        credits=int(values["credits"]),
        credit_total=int(values["credit_total_cents"]),
        debits=int(values["debits"]),
        debit_total=int(values["debit_total_cents"]),
    )


def _serialize(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    serializer = _types()[0]
    return {name: serializer.serialize(value) for name, value in values.items()}


def _deserialize(values: Mapping[str, Any]) -> dict[str, Any]:
    deserializer = _types()[1]
    return {name: _plain(deserializer.deserialize(value)) for name, value in values.items()}


@functools.cache
def _types() -> tuple[TypeSerializer, TypeDeserializer]:
    """boto3's (de)serializers, imported on first use: off the cold start's import path."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # noqa: PLC0415

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; every number stored here is an integer."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
