"""In-memory fakes of the effects' ports (Store, Mail, Lake), with the real adapters' semantics:
conditional writes that name the delivery's token and return the record when they fail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage

from txsummary.effects import EmailStatus, MailRefused, Record, Result
from txsummary.objects import ObjectRef


@dataclass
class FakeStore:
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    writes: int = 0

    def _key(self, ref: ObjectRef) -> tuple[str, str]:
        return (ref.uri, ref.sort_key)

    def _record(self, ref: ObjectRef) -> Record:
        found = self.records.get(self._key(ref))
        if found is None:
            raise LookupError(f"{ref.uri}: the record is gone")
        return found

    def get(self, ref: ObjectRef) -> Record | None:
        return self.records.get(self._key(ref))

    def put(self, ref: ObjectRef, record: Record, *, processed_at: datetime) -> Record | None:
        self.writes += 1
        theirs = self.records.setdefault(self._key(ref), record)
        return None if theirs.token == record.token else theirs

    def claim_email(
        self, ref: ObjectRef, *, token: str, now: int, lease_seconds: int, reopen: bool = False
    ) -> Record | None:
        r = self._record(ref)
        open_ = {EmailStatus.PENDING} | ({EmailStatus.FAILED} if reopen else set())
        takeover = r.email_status is EmailStatus.SENDING and (
            r.email_claimed_until < now or r.email_token == token
        )
        if r.email_status not in open_ and not takeover:
            return r
        self._set(
            ref,
            email_status=EmailStatus.SENDING,
            email_token=token,
            email_claimed_until=now + lease_seconds,
        )
        return None

    def release_email(self, ref: ObjectRef, *, token: str) -> None:
        r = self._record(ref)
        if r.email_status is EmailStatus.SENDING and r.email_token == token:
            self._set(ref, email_status=EmailStatus.PENDING, email_claimed_until=0)

    def mark_email_sent(
        self, ref: ObjectRef, *, token: str, message_id: str, recipients: Sequence[str]
    ) -> Record | None:
        return self._settle(ref, token, EmailStatus.SENT, email_message_id=message_id)

    def mark_email_failed(self, ref: ObjectRef, *, token: str, reason: str) -> Record | None:
        return self._settle(ref, token, EmailStatus.FAILED, email_error=reason)

    def mark_reported(self, ref: ObjectRef, *, token: str) -> bool:
        r = self._record(ref)
        if r.reported_by not in (None, token):
            return False
        self._set(ref, reported_by=token)
        return True

    def _settle(
        self, ref: ObjectRef, token: str, status: EmailStatus, **values: str
    ) -> Record | None:
        r = self._record(ref)
        if r.email_token != token or r.email_status not in (EmailStatus.SENDING, status):
            return r
        self._set(ref, email_status=status, email_claimed_until=0, **values)
        return None

    def _set(self, ref: ObjectRef, **values: object) -> None:
        self.writes += 1
        self.records[self._key(ref)] = replace(self._record(ref), **values)  # type: ignore[arg-type]


@dataclass
class FakeMail:
    """Sends into ``sent``. ``fail`` and ``refuse`` count the next sends that raise."""

    to: tuple[str, ...] = ("holder@example.com",)
    sent: list[tuple[str, ...]] = field(default_factory=list)
    fail: int = 0
    refuse: int = 0

    def recipients(self, metadata: Mapping[str, str]) -> tuple[str, ...]:
        return self.to

    def message(self, ref: ObjectRef, result: Result, recipients: tuple[str, ...]) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = ref.uri
        return message

    def send(self, message: EmailMessage, recipients: tuple[str, ...]) -> str:
        if self.refuse:
            self.refuse -= 1
            raise MailRefused("MessageRejected: Email address is not verified.")
        if self.fail:
            self.fail -= 1
            raise ConnectionError("SES unreachable")
        self.sent.append(recipients)
        return f"m-{len(self.sent)}"


@dataclass
class FakeLake:
    objects: set[str] = field(default_factory=set)
    key: str = "transactions/upload_date=2026-03-14/t.parquet"
    discarded: int = 0

    def commit(self) -> str:
        self.objects.add(self.key)
        return self.key

    def discard(self) -> None:
        self.discarded += 1
