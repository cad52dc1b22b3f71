"""Each side effect once per object version: the lake object, the record, the e-mail, the report.

The ports (:class:`Store`, :class:`Mail`, :class:`Lake`) and their types live here; the real
adapters are in ``txsummary.aws`` and in-memory fakes in the unit tests. Nothing here imports
boto3, botocore or an adapter.

Every delivery attempt carries its own token (:func:`new_token`). Every conditional write names
it, so a write that fails its condition because this delivery's own earlier attempt took effect
(a lost response, botocore's retry re-sending it) is told apart from another delivery's write.
The order makes every step safe to repeat:

1. the lake object is committed, under a key fixed by the object version (writing it again
   overwrites it), so once a record exists the lake is written; its key goes into the record;
2. the record is put if absent; a put that finds another delivery's record carries on with it;
3. an owed e-mail is claimed (pending -> sending, leased for :data:`EMAIL_LEASE_SECONDS`, taken
   over when the lease ran out), sent, and marked sent (retried with backoff, since SES accepted
   it) or failed (SES refused it for good, :class:`MailRefused`);
4. once nothing is owed, the delivery that sets ``reported_by`` first is the one that logs and
   counts the version; every other delivery is a duplicate.

A delivery that finds the e-mail claimed by another live delivery leaves the version to it (a
duplicate): if that delivery dies, its own retry comes after the lease and completes it.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol, TypeVar

from txsummary.core.errors import InvalidFileError
from txsummary.core.model import Summary
from txsummary.objects import (
    EMAIL_FAILED,
    EMAIL_NO_RECIPIENT,
    EMAIL_SENT,
    ObjectRef,
    Rejected,
    Summarized,
)

Result = Summary | InvalidFileError

# How long a claim on the e-mail holds: longer than the SES client's whole call (its timeouts
# and attempts, aws/mail.py) plus marking it sent; shorter than the minute before Lambda's first
# retry, so the retry of a delivery that died mid-send may take the claim over.
EMAIL_LEASE_SECONDS = 50
# After SES accepted a message, recording it is retried this often (with backoff) before
# giving up: a failure here is the one way a second e-mail can follow.
MARK_ATTEMPTS = 4
MARK_BACKOFF_SECONDS = 0.25

_T = TypeVar("_T")


class Kind(StrEnum):
    """What a record says of its version: the outcome's own kind."""

    SUMMARIZED = Summarized.kind
    REJECTED = Rejected.kind

    @classmethod
    def of(cls, result: Result) -> Kind:
        return cls.REJECTED if isinstance(result, InvalidFileError) else cls.SUMMARIZED


class EmailStatus(StrEnum):
    """The e-mail's state in a record (absent when no e-mail is owed)."""

    PENDING = "pending"  # to send: not sent yet, or the last attempt failed and gave it back
    SENDING = "sending"  # claimed by one delivery until email_claimed_until
    SENT = "sent"
    FAILED = "failed"  # SES refused it for good; only `txsummary resend` sends it again


@dataclass(frozen=True, slots=True)
class Record:
    """A version's record as stored."""

    result: Result  # rebuilt from the stored totals (or errors), exactly
    token: str  # the delivery that created it
    lake_key: str | None = None
    email_status: EmailStatus | None = None
    email_to: tuple[str, ...] = ()
    email_token: str | None = None  # the delivery holding (or last holding) the claim
    email_claimed_until: int = 0
    email_message_id: str | None = None
    email_error: str | None = None
    reported_by: str | None = None  # the delivery that logged and counted the version

    @property
    def outcome(self) -> Kind:
        return Kind.of(self.result)


class MailRefused(Exception):
    """SES refused the message for a reason no retry fixes (raised by the Mail adapter)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Store(Protocol):
    """The record of each version. A conditional write returns None when it took effect (now,
    or by this token's earlier attempt); otherwise the record as it stands."""

    def get(self, ref: ObjectRef) -> Record | None: ...
    def put(self, ref: ObjectRef, record: Record, *, processed_at: datetime) -> Record | None: ...
    def claim_email(
        self, ref: ObjectRef, *, token: str, now: int, lease_seconds: int, reopen: bool = False
    ) -> Record | None: ...
    def release_email(self, ref: ObjectRef, *, token: str) -> None: ...
    def mark_email_sent(
        self, ref: ObjectRef, *, token: str, message_id: str, recipients: Sequence[str]
    ) -> Record | None: ...
    def mark_email_failed(self, ref: ObjectRef, *, token: str, reason: str) -> Record | None: ...
    def mark_reported(self, ref: ObjectRef, *, token: str) -> bool: ...


class Lake(Protocol):
    """The summarizer's ``on_rows`` consumer; ``commit`` may be called again after a lost
    response and returns the same key."""

    def commit(self) -> str: ...
    def discard(self) -> None: ...


class Mail(Protocol):
    def recipients(self, metadata: Mapping[str, str]) -> tuple[str, ...]: ...
    def message(
        self, ref: ObjectRef, result: Result, recipients: tuple[str, ...]
    ) -> EmailMessage: ...
    def send(self, message: EmailMessage, recipients: tuple[str, ...]) -> str:
        """SES's message id; :class:`MailRefused` when refused for good; other errors raise."""
        ...


def new_token(request_id: str | None = None) -> str:
    """A token for one delivery attempt: Lambda's request id (the same across a botocore retry,
    new for Lambda's) and a random suffix (a request id is not unique across redeliveries)."""
    return f"{request_id or 'local'}/{secrets.token_hex(6)}"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery attempt: its token and the ports it writes through."""

    token: str
    store: Store
    mail: Mail | None = None  # None: e-mail off
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True, slots=True)
class Applied:
    """What a delivery did to a version: ``report`` when this delivery completed it (it logs
    and counts the version), else it is a duplicate of the one that did."""

    report: bool
    result: Result
    lake_key: str | None = None
    email: str | None = None  # the log record's `email` (objects.EMAIL_*); None: e-mail off
    email_error: str | None = None

    @property
    def outcome(self) -> Kind:
        return Kind.of(self.result)


def replay(ref: ObjectRef, d: Delivery) -> Applied | None:
    """Before reading the object: None when it has no record yet (process it and call
    :func:`apply`); otherwise finish what the record still owes, from the record."""
    record = d.store.get(ref)
    return None if record is None else _finish(ref, record, d)


def apply(
    ref: ObjectRef,
    result: Result,
    d: Delivery,
    *,
    lake: Lake | None = None,
    now: datetime | None = None,
) -> Applied:
    """Publish what summarizing ``ref`` gave: a Summary or the InvalidFileError it raised.
    ``lake`` consumed the rows (committed for a summary, discarded for a rejection). Adapter
    errors propagate, so that Lambda retries."""
    lake_key: str | None = None
    if lake is not None:
        if isinstance(result, InvalidFileError):
            lake.discard()
        else:
            lake_key = lake.commit()
    recipients = d.mail.recipients(ref.metadata) if d.mail is not None else ()
    mine = Record(
        result,
        d.token,
        lake_key=lake_key,
        email_status=EmailStatus.PENDING if recipients else None,
        email_to=recipients,
    )
    theirs = d.store.put(ref, mine, processed_at=now or datetime.now(UTC))
    return _finish(ref, mine if theirs is None else theirs, d)


def resend(ref: ObjectRef, d: Delivery) -> Applied | None:
    """Send a failed or pending e-mail again, once, through the same claim and marks. None
    when the version has no record; otherwise what its e-mail is now."""
    if d.mail is None:
        raise ValueError("e-mail is off: nothing can be resent")
    record = d.store.get(ref)
    if record is None:
        return None
    if record.email_status in (EmailStatus.PENDING, EmailStatus.FAILED) or _expired(record, d):
        email, error = _send(ref, record, d, reopen=True)
    else:
        email, error = _email_of(record, d)
    if email is _HELD:  # another delivery is sending it right now
        email = EmailStatus.SENDING.value
    return Applied(False, record.result, record.lake_key, email, error)


def _finish(ref: ObjectRef, record: Record, d: Delivery) -> Applied:
    """The record exists: send the e-mail it still owes, then claim the report."""
    if record.reported_by not in (None, d.token):
        return Applied(False, record.result, record.lake_key)
    email, error = _email(ref, record, d)
    if email is _HELD:
        return Applied(False, record.result, record.lake_key)
    # Retried here: once it took effect, no other delivery may report the version.
    reported = _retrying(d, lambda: d.store.mark_reported(ref, token=d.token))
    return Applied(reported, record.result, record.lake_key, email, error)


_HELD = "held"  # another live delivery holds the e-mail's claim


def _email(ref: ObjectRef, record: Record, d: Delivery) -> tuple[str | None, str | None]:
    """The e-mail's final status for the log (sending it when owed), or _HELD."""
    status = record.email_status
    if d.mail is None or status is None or status in (EmailStatus.SENT, EmailStatus.FAILED):
        return _email_of(record, d)
    if status is EmailStatus.SENDING and record.email_token != d.token and not _expired(record, d):
        return _HELD, None
    return _send(ref, record, d)


def _email_of(record: Record, d: Delivery) -> tuple[str | None, str | None]:
    if d.mail is None:
        return None, None
    match record.email_status:
        case None:
            return EMAIL_NO_RECIPIENT, None
        case EmailStatus.SENT:
            return EMAIL_SENT, None
        case EmailStatus.FAILED:
            return EMAIL_FAILED, record.email_error
        case EmailStatus.SENDING if record.email_token != d.token and not _expired(record, d):
            return _HELD, None
    return record.email_status.value, None


def _expired(record: Record, d: Delivery) -> bool:
    return record.email_status is EmailStatus.SENDING and record.email_claimed_until < d.clock()


def _send(
    ref: ObjectRef, record: Record, d: Delivery, *, reopen: bool = False
) -> tuple[str | None, str | None]:
    """Claim, send, mark. When the claim fails, the e-mail moved on meanwhile: its status."""
    assert d.mail is not None
    store, mail = d.store, d.mail
    recipients = record.email_to or mail.recipients(ref.metadata)
    if not recipients:
        return EMAIL_NO_RECIPIENT, None
    now = int(d.clock())
    theirs = store.claim_email(
        ref, token=d.token, now=now, lease_seconds=EMAIL_LEASE_SECONDS, reopen=reopen
    )
    if theirs is not None:
        return _email_of(theirs, d)
    try:
        message_id = mail.send(mail.message(ref, record.result, recipients), recipients)
    except MailRefused as exc:
        reason = exc.reason
        _retrying(d, lambda: store.mark_email_failed(ref, token=d.token, reason=reason))
        return EMAIL_FAILED, reason
    except Exception:
        _release(ref, d)
        raise
    _retrying(
        d,
        lambda: store.mark_email_sent(
            ref, token=d.token, message_id=message_id, recipients=recipients
        ),
    )
    return EMAIL_SENT, None


def _release(ref: ObjectRef, d: Delivery) -> None:
    """Give the claim back after a failed send, so the retry may send at once. Best effort: the
    send's own error is the one to raise, and an unreleased claim only waits for its lease."""
    with contextlib.suppress(Exception):  # the lease frees it anyway
        d.store.release_email(ref, token=d.token)


def _retrying(d: Delivery, write: Callable[[], _T]) -> _T:
    """``write`` (idempotent under this token) with bounded retries and backoff, for the writes
    that follow an effect no retry can undo: SES has sent the message, so giving up early would
    let a retry send it again; a report claim that took effect but raised leaves the version
    reported by nobody."""
    for attempt in range(MARK_ATTEMPTS - 1):
        try:
            return write()
        except Exception:  # retried; the last attempt raises
            d.sleep(MARK_BACKOFF_SECONDS * 2**attempt)
    return write()
