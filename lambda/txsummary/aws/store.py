"""The summary record: one DynamoDB item per object version, written once.

Key: ``pk`` = ``s3://<bucket>/<key>``, ``sk`` = the version id (the ETag when the bucket has no
versions), so a redelivered event finds its item and a new upload of the key gets its own.
The put is conditional (``attribute_not_exists(pk)``): the first writer wins, later ones learn
the event is a duplicate. Money is integer cents as DynamoDB numbers; boto3's serializer refuses
floats, and none are ever built here. Balances across files are derived from these items.

The item holds every month's totals, so a stored summary can be rebuilt exactly
(:meth:`StoredRecord.result`) to send an e-mail whose first attempt failed, without re-reading
the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

SUMMARIZED = "summarized"
REJECTED = "rejected"

# The e-mail's status in the item (absent when e-mail is off for the object).
EMAIL_PENDING = "pending"  # to send: not sent yet, or the last attempt failed
EMAIL_SENDING = "sending"  # claimed by one invocation until email_claimed_until
EMAIL_SENT = "sent"

# An item is at most 400 KB; this many months (about 100 bytes each) stays far below that.
# A file spanning more months (dates over 80+ years) keeps its overall totals exact and the
# first months only, with month_count saying how many there were.
MAX_STORED_MONTHS = 1000

MAX_ATTEMPTS = 5
_CONDITIONAL_FAILED = "ConditionalCheckFailedException"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def dynamodb_client() -> DynamoDBClient:
    """A client with standard retries (throttling and transient errors are retried)."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    retries = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS})
    return boto3.client("dynamodb", config=retries)


def item_key(bucket: str, key: str, version_id: str | None, etag: str | None) -> dict[str, str]:
    """``{"pk": "s3://bucket/key", "sk": version id or ETag}``. One of the two must be known."""
    sk = version_id or etag
    if not sk:
        raise ValueError(f"s3://{bucket}/{key}: neither a version id nor an ETag to key it by")
    return {"pk": f"s3://{bucket}/{key}", "sk": sk}


def processed_at_text(when: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the millisecond: sorts as text."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """An item as read back, with plain Python values (numbers as int)."""

    item: Mapping[str, Any]

    @property
    def outcome(self) -> str:
        return str(self.item["outcome"])

    @property
    def email_status(self) -> str | None:
        status = self.item.get("email_status")
        return None if status is None else str(status)

    @property
    def email_to(self) -> tuple[str, ...]:
        """The recipients chosen when the item was written (so a retry mails the same people,
        even when it has not read the object's metadata)."""
        return tuple(str(r) for r in self.item.get("email_to", ()))

    @property
    def email_claimed_until(self) -> int:
        return int(self.item.get("email_claimed_until", 0))

    def result(self) -> Summary | InvalidFileError:
        """The summary, or the rejection, that the item records (as far as it was stored)."""
        if self.outcome == REJECTED:
            errors = tuple(LineError(int(e["line"]), str(e["reason"])) for e in self.item["errors"])
            return InvalidFileError(str(self.item["pk"]), errors, int(self.item["error_count"]))
        i = self.item
        totals = _totals(i, balance="total_balance_cents")
        months = tuple(
            MonthSummary(
                None if m.get("year") is None else int(m["year"]),
                int(m["month"]),
                _totals(m, balance="balance_cents"),
            )
            for m in i["months"]
        )
        return Summary(totals, months)


class SummaryStore:
    """The summary table. ``client`` is a boto3 DynamoDB client (created after moto in tests)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def put(
        self,
        *,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        size: int | None,
        result: Summary | InvalidFileError,
        email_status: str | None = None,
        email_to: Sequence[str] = (),
        processed_at: datetime | None = None,
    ) -> bool:
        """Write the item for a summary or a rejection unless it exists; True when this call
        created it."""
        item: dict[str, Any] = {
            **item_key(bucket, key, version_id, etag),
            "bucket": bucket,
            "key": key,
            "outcome": outcome_of(result),
            "processed_at": processed_at_text(processed_at or datetime.now(UTC)),
        }
        optional = (
            ("version_id", version_id),
            ("etag", etag),
            ("size", size),
            ("email_status", email_status),
            ("email_to", list(email_to) or None),
        )
        item.update((name, value) for name, value in optional if value is not None)
        item.update(
            rejection_attributes(result)
            if isinstance(result, InvalidFileError)
            else summary_attributes(result)
        )
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=_serialize(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _code(exc) == _CONDITIONAL_FAILED:
                return False
            raise
        return True

    def get(
        self, bucket: str, key: str, version_id: str | None, etag: str | None
    ) -> StoredRecord | None:
        """The item, read consistently (a retry right after a put must see it), or None."""
        response = self._client.get_item(
            TableName=self.table_name,
            Key=_serialize(item_key(bucket, key, version_id, etag)),
            ConsistentRead=True,
        )
        found = response.get("Item")
        return None if found is None else StoredRecord(_deserialize(found))

    def claim_email(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        *,
        now: int,
        lease_seconds: int,
    ) -> bool:
        """Take the right to send the e-mail: pending -> sending until ``now + lease_seconds``.
        Also taken from a claim whose lease ran out (its invocation died mid-send). False when
        it is sent, or being sent by another invocation: then this one must not send."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=_serialize(item_key(bucket, key, version_id, etag)),
                UpdateExpression="SET email_status = :sending, email_claimed_until = :until",
                ConditionExpression=(
                    "email_status = :pending OR "
                    "(email_status = :sending AND email_claimed_until < :now)"
                ),
                ExpressionAttributeValues=_serialize(
                    {
                        ":sending": EMAIL_SENDING,
                        ":pending": EMAIL_PENDING,
                        ":until": now + lease_seconds,
                        ":now": now,
                    }
                ),
            )
        except ClientError as exc:
            if _code(exc) == _CONDITIONAL_FAILED:
                return False
            raise
        return True

    def release_email(
        self, bucket: str, key: str, version_id: str | None, etag: str | None
    ) -> None:
        """Give a claim back after a failed send, so the retry may send at once."""
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=_serialize(item_key(bucket, key, version_id, etag)),
                UpdateExpression="SET email_status = :pending REMOVE email_claimed_until",
                ConditionExpression="email_status = :sending",
                ExpressionAttributeValues=_serialize(
                    {":pending": EMAIL_PENDING, ":sending": EMAIL_SENDING}
                ),
            )
        except ClientError as exc:
            if _code(exc) != _CONDITIONAL_FAILED:
                raise

    def mark_email_sent(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        *,
        message_id: str,
        recipients: Sequence[str],
        sent_at: datetime | None = None,
    ) -> None:
        """Record the sent e-mail: status, SES message id, recipients and time."""
        self._client.update_item(
            TableName=self.table_name,
            Key=_serialize(item_key(bucket, key, version_id, etag)),
            UpdateExpression=(
                "SET email_status = :sent, email_message_id = :id, email_to = :to, "
                "email_sent_at = :at REMOVE email_claimed_until"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=_serialize(
                {
                    ":sent": EMAIL_SENT,
                    ":id": message_id,
                    ":to": list(recipients),
                    ":at": processed_at_text(sent_at or datetime.now(UTC)),
                }
            ),
        )


def outcome_of(result: Summary | InvalidFileError) -> str:
    """What the item's ``outcome`` says for a result."""
    return REJECTED if isinstance(result, InvalidFileError) else SUMMARIZED


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
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _deserialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in values.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; every number stored here is an integer."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _code(exc: ClientError) -> str | None:
    return exc.response.get("Error", {}).get("Code")
