"""The reconcile: give every uploaded object version a verdict, even when its event never came.

S3 delivers events at least once and Lambda may drop an async event under backlog, so a
schedule sends the function :data:`contract.RECONCILE_EVENT`. :func:`run` lists the object
versions under the trigger's prefix, keeps those with an upload suffix (the service's rule),
old enough that their own event had its chance (``min_age_seconds``) and recent enough to be
worth a look (``lookback_hours``), and processes the ones without a record, until the
invocation's remaining time runs short. What it could not reach is ``left`` for the next run.

Orchestration only, over small ports: the listing, "has a record", "process" and the clock.
No boto3 here; :func:`build_ports` wires the real adapters and service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from txsummary import contract

if TYPE_CHECKING:
    from txsummary.objects import ObjectRef
    from txsummary.service import Deps

# Left over at the end of the invocation besides the slowest file seen: time to log the result
# and for a listing page or a record lookup still in flight.
SAFETY_MARGIN_MS: Final = 10_000
# Versions looked up in the table at once: DynamoDB's BatchGetItem limit, one round trip each.
LOOKUP_BATCH: Final = 100
RECONCILE_KEY: Final = next(iter(contract.RECONCILE_EVENT))  # "txsummary"
RECONCILE_VALUE: Final = contract.RECONCILE_EVENT[RECONCILE_KEY]  # "reconcile"


class ReconcileError(ValueError):
    """The reconcile cannot run: an override that is not a number of seconds or hours, or no
    upload bucket or table to reconcile."""


class ReconcileFailed(RuntimeError):
    """Some versions raised while processed. Raised after the run's record is logged, so the
    invocation counts in the function's Errors (and its alarm), as a failed event does."""


class Logger(Protocol):
    def info(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def warning(self, msg: object, *args: object, **kwargs: Any) -> None: ...
    def exception(self, msg: object, *args: object, **kwargs: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Ports:
    """What :func:`run` talks to. ``versions`` is called once per run and may be lazy (pages)."""

    versions: Callable[[], Iterable[ObjectRef]]
    # For each version of a batch (at most LOOKUP_BATCH), whether it has a record.
    have_records: Callable[[Sequence[ObjectRef]], Sequence[bool]]
    process: Callable[[ObjectRef], None]  # summarize, record and report one version
    logger: Logger


@dataclass(frozen=True, slots=True)
class Window:
    """Which versions are due: older than ``min_age_seconds``, within ``lookback_hours``."""

    min_age_seconds: float = contract.DEFAULT_RECONCILE_MIN_AGE_SECONDS
    lookback_hours: float = contract.DEFAULT_RECONCILE_LOOKBACK_HOURS

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Window:
        return cls(
            min_age_seconds=_override(
                event, "min_age_seconds", contract.DEFAULT_RECONCILE_MIN_AGE_SECONDS
            ),
            lookback_hours=_override(
                event, "lookback_hours", contract.DEFAULT_RECONCILE_LOOKBACK_HOURS
            ),
        )

    def contains(self, uploaded: datetime | None, now: datetime) -> bool:
        if uploaded is None:  # the listing always has it; without it, age is unknown
            return False
        age = now - uploaded
        return (
            timedelta(seconds=self.min_age_seconds) <= age <= timedelta(hours=self.lookback_hours)
        )


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one run did. ``missing`` versions had no record; ``processed`` of them got one
    (``failed`` raised and stay missing); ``left`` were due but not settled in time: missing
    and not processed, or not looked up (some of those may have a record already). With
    ``complete`` False the listing was cut short too, so more may be due than ``left`` says."""

    kind: ClassVar[str] = "reconciled"
    examined: int = 0  # versions with an upload suffix (delete markers are not versions here)
    due: int = 0  # of those, within the window
    missing: int = 0
    processed: int = 0
    failed: int = 0
    left: int = 0
    complete: bool = True

    def fields(self) -> dict[str, Any]:
        return {
            "outcome": self.kind,
            "examined": self.examined,
            "due": self.due,
            "missing": self.missing,
            "processed": self.processed,
            "failed": self.failed,
            "left": self.left,
            "complete": self.complete,
        }


def is_reconcile_event(event: object) -> bool:
    """True for the schedule's event (and a hand-made one with overrides)."""
    return isinstance(event, Mapping) and event.get(RECONCILE_KEY) == RECONCILE_VALUE


def run(
    window: Window,
    ports: Ports,
    *,
    now: datetime,
    remaining_ms: Callable[[], int],
    margin_ms: int = SAFETY_MARGIN_MS,
    clock: Callable[[], float] = time.monotonic,
) -> Reconciled:
    """Process every due version without a record while time allows; return the counts.

    Before each version it keeps back what that version may take plus ``margin_ms``: the
    slowest processing seen so far, or more for a larger object at the slowest rate seen (per
    byte). Once short of time it stops processing and only counts what is left, reading on
    while half the margin remains. A version whose processing raises is logged and left for the
    next run (it still has no record), so one bad object cannot starve the others."""
    sweep = _Sweep(ports, remaining_ms, margin_ms, clock)
    complete = True
    batch: list[ObjectRef] = []
    for ref in ports.versions():
        if not sweep.stopped and remaining_ms() < margin_ms:  # a long listing took the time
            sweep.stop(batch)
            batch = []
        if sweep.stopped and remaining_ms() < margin_ms // 2:
            complete = False  # even counting what is left would cost time it does not have
            break
        if not ref.is_upload:
            continue
        sweep.examined += 1
        if not window.contains(ref.last_modified, now):
            continue
        sweep.due += 1
        if sweep.stopped:
            sweep.left += 1
            continue
        batch.append(ref)
        if len(batch) == LOOKUP_BATCH:
            sweep.settle(batch)
            batch = []
    sweep.settle(batch)
    result = Reconciled(
        sweep.examined,
        sweep.due,
        sweep.missing,
        sweep.processed,
        sweep.failed,
        sweep.left,
        complete,
    )
    quiet = not (result.failed or result.left or not complete)
    (ports.logger.info if quiet else ports.logger.warning)(
        f"reconciled: {result.processed} of {result.missing} missing versions processed, "
        f"{result.left} left",
        extra={**result.fields(), "min_age_seconds": window.min_age_seconds},
    )
    return result


@dataclass(slots=True)
class _Sweep:
    """One run's counts and its estimate of what the next version will take."""

    ports: Ports
    remaining_ms: Callable[[], int]
    margin_ms: int
    clock: Callable[[], float]
    examined: int = 0
    due: int = 0
    missing: int = 0
    processed: int = 0
    failed: int = 0
    left: int = 0
    stopped: bool = False
    slowest_ms: float = 0.0
    ms_per_byte: float = 0.0

    def stop(self, batch: Sequence[ObjectRef]) -> None:
        self.stopped, self.left = True, self.left + len(batch)

    def settle(self, batch: Sequence[ObjectRef]) -> None:
        """Give each due version of ``batch`` without a record its record, while time allows;
        what it cannot reach is left."""
        if not batch:
            return
        if self.stopped or self._short_of_time(None):
            self.stop(batch)
            return
        for ref, recorded in zip(batch, self.ports.have_records(batch), strict=True):
            if recorded:
                continue
            self.missing += 1
            if self.stopped or self._short_of_time(ref):
                self.stopped, self.left = True, self.left + 1
                continue
            self._process(ref)

    def _process(self, ref: ObjectRef) -> None:
        started = self.clock()
        try:
            self.ports.process(ref)
        except Exception:
            self.failed += 1
            self.ports.logger.exception(
                "reconcile: processing failed; the next run tries again", extra=_fields(ref)
            )
        else:
            self.processed += 1
        took_ms = (self.clock() - started) * 1000
        self.slowest_ms = max(self.slowest_ms, took_ms)
        if ref.size:
            self.ms_per_byte = max(self.ms_per_byte, took_ms / ref.size)

    def _short_of_time(self, ref: ObjectRef | None) -> bool:
        size = 0 if ref is None else ref.size or 0
        needed = max(self.slowest_ms, self.ms_per_byte * size) + self.margin_ms
        return self.remaining_ms() < needed


def handle(event: Mapping[str, Any], ports: Ports, context: Any) -> dict[str, Any]:
    """The handler's entry for :func:`is_reconcile_event` events; ``context`` is Lambda's (its
    ``get_remaining_time_in_millis``). Returns the counts as the invocation's result; raises
    :class:`ReconcileFailed` when a version failed (Lambda's retry then tries those again)."""
    window = Window.from_event(event)
    result = run(
        window,
        ports,
        now=datetime.now(UTC),
        remaining_ms=context.get_remaining_time_in_millis,
    )
    if result.failed:
        raise ReconcileFailed(
            f"{result.failed} of {result.missing} missing versions failed; their errors are "
            "logged with their keys, and the next run tries them again"
        )
    return result.fields()


def build_ports(deps: Deps) -> Ports:
    """The real ports: the S3 listing of ``UPLOAD_BUCKET``/``KEY_PREFIX``, the summary table,
    and the service plus its reporter, each version processed as an event would process it."""
    from txsummary import service  # noqa: PLC0415 - the service pulls in botocore
    from txsummary.aws import clients, listing  # noqa: PLC0415
    from txsummary.aws.lookup import RecordLookup  # noqa: PLC0415
    from txsummary.report import report  # noqa: PLC0415

    settings = deps.settings
    bucket, table = settings.upload_bucket, settings.summary_table
    if bucket is None or table is None:
        raise ReconcileError(
            f"the reconcile needs {contract.Env.UPLOAD_BUCKET} and {contract.Env.SUMMARY_TABLE}"
        )

    def process(ref: ObjectRef) -> None:
        report(service.summarize_object(ref, deps), deps.logger, deps.metrics)

    records = RecordLookup(clients.dynamodb(), table)

    return Ports(
        versions=lambda: listing.list_versions(deps.s3, bucket, settings.key_prefix),
        have_records=records.have_records,
        process=process,
        logger=deps.logger,
    )


def _override(event: Mapping[str, Any], name: str, default: float) -> float:
    value = event.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ReconcileError(
            f"reconcile event: {name}={value!r} must be a number of "
            f"{'seconds' if name.endswith('seconds') else 'hours'}, 0 or more"
        )
    return float(value)


def _fields(ref: ObjectRef) -> dict[str, Any]:
    return {"bucket": ref.bucket, "key": ref.key, "version_id": ref.version_id, "etag": ref.etag}
