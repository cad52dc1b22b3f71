"""Each side effect once per object version: the lake files, the summary record, the e-mail.

Pure orchestration over injected adapters (:class:`Store`, :class:`Lake`, :class:`Mail`; the
real ones are in ``txsummary.aws``), so the rules are tested with moto and with fakes alike.

The order makes a retry safe at every step:
1. the lake object is committed first, under a key fixed by the object version, so writing it
   again overwrites it; once a record exists, the lake is written;
2. the record is put conditionally; the first put wins and says the event is new;
3. the e-mail is claimed (pending -> sending), sent, then marked sent. A failed send gives the
   claim back and raises, so Lambda retries; the retry finds the record, sees the e-mail is not
   sent, and sends only that. Two concurrent deliveries cannot both claim it.

:func:`replay` is the cheap check before reading an object: when the record already exists the
object need not be read again (the e-mail, if still owed, is rebuilt from the record).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol

from txsummary.aws.store import EMAIL_PENDING, EMAIL_SENT, StoredRecord, outcome_of
from txsummary.core.errors import InvalidFileError
from txsummary.core.model import Summary

# How long a claim on the e-mail holds. Longer than a send takes; shorter than the minute
# before Lambda's first retry, so a retry after a crash mid-send may take it over.
EMAIL_LEASE_SECONDS = 50

Result = Summary | InvalidFileError


class Effect(StrEnum):
    NEW = "new"  # this delivery wrote the record (and sent the e-mail, when on)
    DUPLICATE = "duplicate"  # the record existed and nothing was owed: no side effect
    EMAIL_RESENT = "email_resent"  # the record existed; only its owed e-mail was sent


@dataclass(frozen=True, slots=True)
class Applied:
    """What happened to one object version, for the one reporter to log and count."""

    effect: Effect
    outcome: str  # "summarized" or "rejected": what the record says (``previous`` of a Duplicate)
    lake_key: str | None = None  # the lake object committed by this delivery
    email_message_id: str | None = None  # SES's id when this delivery sent the e-mail
    email_to: tuple[str, ...] = ()
    # EMAIL_RESENT: the file's result rebuilt from its record, so the reporter needs no second read.
    result: Result | None = None


class Version(Protocol):
    """One object version (``txsummary.service.ObjectRef`` fits)."""

    @property
    def bucket(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def version_id(self) -> str | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def metadata(self) -> Mapping[str, str]: ...


class Store(Protocol):
    def put(
        self,
        *,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        size: int | None,
        result: Result,
        email_status: str | None = ...,
        email_to: Sequence[str] = ...,
        processed_at: datetime | None = ...,
    ) -> bool: ...
    def get(
        self, bucket: str, key: str, version_id: str | None, etag: str | None
    ) -> StoredRecord | None: ...
    def claim_email(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        *,
        now: int,
        lease_seconds: int,
    ) -> bool: ...
    def release_email(
        self, bucket: str, key: str, version_id: str | None, etag: str | None
    ) -> None: ...
    def mark_email_sent(
        self,
        bucket: str,
        key: str,
        version_id: str | None,
        etag: str | None,
        *,
        message_id: str,
        recipients: tuple[str, ...],
        sent_at: datetime | None = ...,
    ) -> None: ...


class Lake(Protocol):
    def commit(self) -> str: ...
    def discard(self) -> None: ...


class Mail(Protocol):
    def recipients(self, metadata: Mapping[str, str]) -> tuple[str, ...]: ...
    def message(
        self,
        result: Result,
        *,
        bucket: str,
        key: str,
        version_id: str | None,
        recipients: tuple[str, ...],
    ) -> EmailMessage: ...
    def send(self, message: EmailMessage, recipients: tuple[str, ...]) -> str: ...


def apply(
    ref: Version,
    result: Result,
    *,
    store: Store,
    lake: Lake | None = None,
    mail: Mail | None = None,
    now: datetime | None = None,
    clock: Callable[[], float] = time.time,
) -> Applied:
    """Publish what summarizing ``ref`` gave: a Summary or the InvalidFileError it raised.

    ``lake`` is the writer that consumed the rows (committed for a summary, discarded for a
    rejection); ``mail`` is None when e-mail is off. Adapter errors propagate (Lambda retries).
    """
    lake_key: str | None = None
    if lake is not None:
        if isinstance(result, InvalidFileError):
            lake.discard()
        else:
            lake_key = lake.commit()

    recipients = mail.recipients(ref.metadata) if mail is not None else ()
    status = EMAIL_PENDING if recipients else None
    outcome = outcome_of(result)
    created = store.put(
        bucket=ref.bucket,
        key=ref.key,
        version_id=ref.version_id,
        etag=ref.etag,
        size=ref.size,
        result=result,
        email_status=status,
        email_to=recipients,
        processed_at=now or datetime.now(UTC),
    )

    if not created:
        existing = store.get(ref.bucket, ref.key, ref.version_id, ref.etag)
        if existing is None:  # deleted between the put and the get: nothing is owed
            return Applied(Effect.DUPLICATE, outcome)
        return _owed(ref, existing, store=store, mail=mail, clock=clock)

    if mail is None or not recipients:
        return Applied(Effect.NEW, outcome, lake_key=lake_key)
    sent = _send(ref, result, recipients, store=store, mail=mail, clock=clock)
    if sent is None:  # another delivery holds the claim and sends it
        return Applied(Effect.NEW, outcome, lake_key=lake_key)
    return Applied(
        Effect.NEW, outcome, lake_key=lake_key, email_message_id=sent, email_to=recipients
    )


def replay(
    ref: Version,
    *,
    store: Store,
    mail: Mail | None = None,
    clock: Callable[[], float] = time.time,
) -> Applied | None:
    """Before reading the object: None when it has no record yet (process it and call
    :func:`apply`); otherwise the delivery is a duplicate, and only an e-mail still owed is
    sent, rebuilt from the record."""
    existing = store.get(ref.bucket, ref.key, ref.version_id, ref.etag)
    if existing is None:
        return None
    return _owed(ref, existing, store=store, mail=mail, clock=clock)


def _owed(
    ref: Version,
    existing: StoredRecord,
    *,
    store: Store,
    mail: Mail | None,
    clock: Callable[[], float],
) -> Applied:
    """The record exists: send its e-mail if still owed, else it is a plain duplicate."""
    if mail is None or existing.email_status in (None, EMAIL_SENT):
        return Applied(Effect.DUPLICATE, existing.outcome)
    # The recipients stored with the record: a replay may not have read the object's metadata.
    recipients = existing.email_to or mail.recipients(ref.metadata)
    if not recipients:
        return Applied(Effect.DUPLICATE, existing.outcome)
    result = existing.result()
    sent = _send(ref, result, recipients, store=store, mail=mail, clock=clock)
    if sent is None:
        return Applied(Effect.DUPLICATE, existing.outcome)
    return Applied(
        Effect.EMAIL_RESENT,
        existing.outcome,
        email_message_id=sent,
        email_to=recipients,
        result=result,
    )


def _send(
    ref: Version,
    result: Result,
    recipients: tuple[str, ...],
    *,
    store: Store,
    mail: Mail,
    clock: Callable[[], float],
) -> str | None:
    """Claim, send, mark sent. None when the claim is held elsewhere (or it was sent)."""
    where = (ref.bucket, ref.key, ref.version_id, ref.etag)
    if not store.claim_email(*where, now=int(clock()), lease_seconds=EMAIL_LEASE_SECONDS):
        return None
    try:
        message = mail.message(
            result,
            bucket=ref.bucket,
            key=ref.key,
            version_id=ref.version_id,
            recipients=recipients,
        )
        message_id = mail.send(message, recipients)
    except Exception:
        store.release_email(*where)  # the retry may send at once
        raise
    store.mark_email_sent(*where, message_id=message_id, recipients=recipients)
    return message_id
