"""The reconcile's orchestration over in-memory ports: which versions it processes, and how it
stops in time. No AWS: the listing, the records and the processing are fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from txsummary import contract, reconcile
from txsummary.objects import ObjectRef
from txsummary.reconcile import Ports, Reconciled, ReconcileError, Window

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BUCKET = "uploads"
DAY = timedelta(days=1)


def ref(key: str, age: timedelta, version: str = "v1", size: int | None = None) -> ObjectRef:
    return ObjectRef(
        BUCKET, key, version_id=version, etag="e" + version, size=size, last_modified=NOW - age
    )


@dataclass
class FakeLogger:
    records: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.records.append(("INFO", str(msg), kwargs.get("extra", {})))

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.records.append(("WARNING", str(msg), kwargs.get("extra", {})))

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.records.append(("ERROR", str(msg), kwargs.get("extra", {})))


@dataclass
class World:
    """A bucket's versions, the table's records, and an invocation's clock in milliseconds."""

    versions: list[ObjectRef]
    recorded: set[tuple[str, str | None]] = field(default_factory=set)
    budget_ms: float = 900_000
    cost_ms: float = 1_000  # what processing one version takes
    ms_per_byte: float = 0  # and more per byte of its size
    elapsed_ms: float = 0
    processed: list[ObjectRef] = field(default_factory=list)
    checked: list[ObjectRef] = field(default_factory=list)
    lookups: list[int] = field(default_factory=list)  # the size of each batch looked up
    failing: set[str] = field(default_factory=set)
    logger: FakeLogger = field(default_factory=FakeLogger)

    def ports(self) -> Ports:
        return Ports(
            versions=lambda: iter(self.versions),
            have_records=self._have_records,
            process=self._process,
            logger=self.logger,
        )

    def _have_records(self, refs: Sequence[ObjectRef]) -> list[bool]:
        self.lookups.append(len(refs))
        self.checked += refs
        return [(r.key, r.version_id) in self.recorded for r in refs]

    def _process(self, r: ObjectRef) -> None:
        self.elapsed_ms += self.cost_ms + self.ms_per_byte * (r.size or 0)
        if r.key in self.failing:
            raise RuntimeError("S3 is unreachable")
        self.processed.append(r)
        self.recorded.add((r.key, r.version_id))

    def run(self, window: Window | None = None, margin_ms: int = 10_000) -> Reconciled:
        return reconcile.run(
            window or Window(),
            self.ports(),
            now=NOW,
            remaining_ms=lambda: int(self.budget_ms - self.elapsed_ms),
            margin_ms=margin_ms,
            clock=lambda: self.elapsed_ms / 1000,
        )


def test_only_upload_suffixes_are_touched_case_insensitively() -> None:
    # Given due versions with and without an upload suffix
    keys = ["a.csv", "b.CSV", "c.csv.gz", "d.Csv.GZ", "e.txt", "f.csv.bak", "g.gz", "csv"]
    world = World([ref(k, DAY) for k in keys])
    # When reconciled
    result = world.run()
    # Then only the upload keys were looked up and processed; the others never touched
    assert [r.key for r in world.processed] == ["a.csv", "b.CSV", "c.csv.gz", "d.Csv.GZ"]
    assert [r.key for r in world.checked] == ["a.csv", "b.CSV", "c.csv.gz", "d.Csv.GZ"]
    assert result == Reconciled(examined=4, due=4, missing=4, processed=4)


def test_the_window_keeps_old_enough_and_recent_enough_versions() -> None:
    # Given versions younger than the minimum age, inside the window, and older than it
    window = Window(min_age_seconds=900, lookback_hours=24)
    world = World(
        [
            ref("young.csv", timedelta(seconds=899)),
            ref("edge-young.csv", timedelta(seconds=900)),
            ref("middle.csv", timedelta(hours=5)),
            ref("edge-old.csv", timedelta(hours=24)),
            ref("old.csv", timedelta(hours=24, seconds=1)),
        ]
    )
    # When reconciled
    result = world.run(window)
    # Then only the versions inside the window (bounds included) are processed
    assert [r.key for r in world.processed] == ["edge-young.csv", "middle.csv", "edge-old.csv"]
    assert (result.examined, result.due, result.processed) == (5, 3, 3)


def test_versions_that_have_a_record_are_not_processed_again() -> None:
    # Given two versions of a key, one of them recorded, and a recorded other key
    world = World([ref("k.csv", DAY, "v2"), ref("k.csv", DAY, "v1"), ref("x.csv", DAY)])
    world.recorded = {("k.csv", "v1"), ("x.csv", "v1")}
    # When reconciled twice
    first = world.run()
    second = world.run()
    # Then the first run processes the one missing version, the second nothing
    assert [(r.key, r.version_id) for r in world.processed] == [("k.csv", "v2")]
    assert (first.missing, first.processed, first.left) == (1, 1, 0)
    assert (second.missing, second.processed, second.due) == (0, 0, 3)


def test_a_short_budget_stops_early_and_leaves_the_rest_for_the_next_run() -> None:
    # Given ten missing versions, each taking 5 s, and 40 s left in the invocation
    world = World([ref(f"f{i}.csv", DAY) for i in range(10)], budget_ms=40_000, cost_ms=5_000)
    # When reconciled with a 10 s margin
    result = world.run(margin_ms=10_000)
    # Then it starts a file only while the slowest one plus the margin fit (40 - 5n >= 15 for
    # n = 0..5): six files, and 10 s are left when it stops
    assert result.processed == 6
    assert world.budget_ms - world.elapsed_ms == 10_000
    # And, with half the margin still there, it read the listing to its end to count the rest
    assert (result.left, result.complete) == (4, True)
    # And the next run (a fresh invocation) picks up where this one stopped, and finishes
    world.elapsed_ms = 0
    again = world.run(margin_ms=10_000)
    assert (again.processed, again.left, again.complete) == (4, 0, True)
    assert len({r.key for r in world.processed}) == 10


def test_a_large_object_is_not_started_when_its_size_says_it_will_not_fit() -> None:
    # Given small files, then one a hundred times larger, at 1 ms per kB, and 60 s left
    small, large = 1_000_000, 100_000_000
    versions = [ref(f"s{i}.csv", DAY, size=small) for i in range(3)]
    versions.append(ref("large.csv", DAY, size=large))
    world = World(versions, budget_ms=60_000, cost_ms=0, ms_per_byte=0.001)
    # When reconciled
    result = world.run(margin_ms=10_000)
    # Then the small ones are processed and the large one left for a run with the time for it
    assert [r.key for r in world.processed] == ["s0.csv", "s1.csv", "s2.csv"]
    assert (result.left, result.complete) == (1, True)
    # And a fresh invocation with enough time processes it
    world.elapsed_ms, world.budget_ms = 0, 900_000
    assert world.run(margin_ms=10_000).processed == 1


def test_no_time_at_all_processes_nothing() -> None:
    # Given less time left than half the margin
    world = World([ref("a.csv", DAY), ref("b.csv", DAY)], budget_ms=4_000)
    # When reconciled / Then nothing is looked up, processed or even counted, and it says so
    result = world.run(margin_ms=10_000)
    assert (result.processed, result.left, result.complete) == (0, 0, False)
    assert world.checked == []
    # And with a little more (under the margin, over its half), the versions are counted as left
    world = World([ref("a.csv", DAY), ref("b.csv", DAY)], budget_ms=7_000)
    result = world.run(margin_ms=10_000)
    assert (result.processed, result.left, result.complete) == (0, 2, True)
    assert world.checked == []


def test_once_stopped_it_reads_the_listing_on_only_while_half_the_margin_remains() -> None:
    # Given more versions than one lookup takes, each taking 5 s, and 20 s left
    world = World([ref(f"f{i:03}.csv", DAY) for i in range(150)], budget_ms=20_000, cost_ms=5_000)
    # When reconciled with a 10 s margin: two processed (20 -> 10 s left), then stopped
    # with 10 s >= 5 s: it counts the rest of the listing
    result = world.run(margin_ms=10_000)
    assert (result.processed, result.left, result.complete) == (2, 148, True)
    # And with under half the margin left when it stops (20 -> 4 s), it does not read on: the
    # first lookup's other 99 are left, the last 50 not even listed
    world = World([ref(f"f{i:03}.csv", DAY) for i in range(150)], budget_ms=20_000, cost_ms=16_000)
    result = world.run(margin_ms=10_000)
    assert (result.processed, result.left, result.complete) == (1, 99, False)
    assert result.examined == 100


def test_a_long_listing_that_uses_up_the_time_stops_the_run() -> None:
    # Given a listing whose every version costs 100 ms to list, mostly too old to be due
    versions = [ref(f"old{i:04}.csv", 30 * DAY) for i in range(1000)] + [ref("new.csv", DAY)]

    class SlowListing(World):
        def ports(self) -> Ports:
            def listed() -> Iterator[ObjectRef]:
                for r in self.versions:
                    self.elapsed_ms += 100
                    yield r

            return replace(super().ports(), versions=listed)

    world = SlowListing(versions, budget_ms=60_000)
    # When reconciled / Then it stops listing before the time is gone, and says so
    result = world.run(margin_ms=10_000)
    assert result.complete is False
    assert world.budget_ms - world.elapsed_ms >= 5_000 - 100
    assert world.processed == []


def test_lookups_go_in_batches_of_at_most_a_hundred() -> None:
    # Given 250 due versions, of which a third have records
    world = World([ref(f"f{i:03}.csv", DAY) for i in range(250)], cost_ms=0)
    world.recorded = {(f"f{i:03}.csv", "v1") for i in range(0, 250, 3)}
    # When reconciled / Then three lookups (100, 100, 50) and the rest processed
    result = world.run()
    assert world.lookups == [100, 100, 50]
    assert (result.missing, result.processed) == (166, 166)


def test_a_failing_version_is_logged_and_the_others_still_processed() -> None:
    # Given three missing versions, the middle one failing to process
    world = World([ref("a.csv", DAY), ref("b.csv", DAY), ref("c.csv", DAY)], failing={"b.csv"})
    # When reconciled
    result = world.run()
    # Then a and c are processed, b is counted as failed and logged with its key
    assert [r.key for r in world.processed] == ["a.csv", "c.csv"]
    assert (result.missing, result.processed, result.failed) == (3, 2, 1)
    errors = [r for r in world.logger.records if r[0] == "ERROR"]
    assert len(errors) == 1
    assert errors[0][2]["key"] == "b.csv"


def test_one_reconciled_record_with_the_counts() -> None:
    # Given one missing and one recorded version
    world = World([ref("a.csv", DAY), ref("b.csv", DAY)], recorded={("b.csv", "v1")})
    # When reconciled
    world.run()
    # Then exactly one record is logged, with outcome reconciled and every count
    (record,) = world.logger.records
    level, _, fields = record
    assert level == "INFO"
    assert fields["outcome"] == "reconciled"
    assert {k: fields[k] for k in ("examined", "missing", "processed", "left")} == {
        "examined": 2,
        "missing": 1,
        "processed": 1,
        "left": 0,
    }


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.csv", "b.CSV.gz", "c.txt", "d.csv"]),
            st.integers(min_value=0, max_value=10 * 24 * 3600),  # age in seconds
            st.booleans(),  # has a record already
        ),
        max_size=30,
    ),
    st.integers(min_value=0, max_value=60),  # budget in seconds
)
def test_processes_exactly_the_due_missing_versions_in_order_until_time_runs_out(
    versions: list[tuple[str, int, bool]], budget_s: int
) -> None:
    # Given any listing, any records and any time budget
    refs = [ref(k, timedelta(seconds=age), f"v{i}") for i, (k, age, _) in enumerate(versions)]
    recorded = {(r.key, r.version_id) for r, (_, _, rec) in zip(refs, versions, strict=True) if rec}
    world = World(refs, recorded=set(recorded), budget_ms=budget_s * 1000, cost_ms=2_000)
    window = Window()
    # When reconciled
    result = world.run(window, margin_ms=3_000)
    # Then what it processed is a prefix of the oracle's list: due, uploads, without a record
    oracle = [
        r
        for r in refs
        if r.key.lower().endswith(contract.UPLOAD_SUFFIXES)
        and timedelta(seconds=900) <= NOW - r.last_modified  # type: ignore[operator]
        and NOW - r.last_modified <= timedelta(hours=168)  # type: ignore[operator]
        and (r.key, r.version_id) not in recorded
    ]
    assert world.processed == oracle[: len(world.processed)]
    # And it either did everything, or stopped with the time nearly spent and counted the rest
    if result.left == 0 and result.complete:
        assert world.processed == oracle
    else:
        assert result.left >= 1 or not result.complete
        assert world.budget_ms - world.elapsed_ms < (2_000 if world.processed else 0) + 3_000
    if result.complete:
        assert result.processed + result.left >= len(oracle)
    # And it never ran past the invocation's end
    assert world.elapsed_ms <= world.budget_ms


def test_the_event_may_override_the_window() -> None:
    # Given the schedule's event, and one with overrides
    assert reconcile.is_reconcile_event(contract.RECONCILE_EVENT)
    assert Window.from_event(contract.RECONCILE_EVENT) == Window(
        contract.DEFAULT_RECONCILE_MIN_AGE_SECONDS, contract.DEFAULT_RECONCILE_LOOKBACK_HOURS
    )
    event = {**contract.RECONCILE_EVENT, "min_age_seconds": 0, "lookback_hours": 1.5}
    # Then the overrides are used
    assert Window.from_event(event) == Window(0, 1.5)
    # And S3 events are not reconcile events
    assert not reconcile.is_reconcile_event({"Records": []})
    assert not reconcile.is_reconcile_event({"txsummary": "other"})


@pytest.mark.parametrize("bad", [-1, "900", True, None, [1]])
def test_a_bad_override_is_refused_with_its_name(bad: object) -> None:
    event = {**contract.RECONCILE_EVENT, "min_age_seconds": bad}
    if bad is None:  # absent or null means the default
        assert (
            Window.from_event(event).min_age_seconds == contract.DEFAULT_RECONCILE_MIN_AGE_SECONDS
        )
        return
    with pytest.raises(ReconcileError, match="min_age_seconds"):
        Window.from_event(event)


def test_handle_raises_after_the_run_when_a_version_failed() -> None:
    # Given a version whose processing fails, and plenty of time
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 600_000

    world = World([ref("a.csv", DAY), ref("b.csv", DAY)], failing={"a.csv"})
    # When handled / Then the other is processed, the run is logged, and the invocation fails
    with pytest.raises(reconcile.ReconcileFailed, match="1 of 2 missing versions failed"):
        reconcile.handle(contract.RECONCILE_EVENT, world.ports(), Context())
    assert [r.key for r in world.processed] == ["b.csv"]
    assert world.logger.records[-1][2]["outcome"] == "reconciled"


def test_handle_reads_the_remaining_time_from_the_context() -> None:
    # Given a context with little time left
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1_000

    world = World([ref("a.csv", DAY)])
    # When handled / Then nothing is processed and the counts are the result
    result = reconcile.handle(contract.RECONCILE_EVENT, world.ports(), Context())
    assert result["outcome"] == "reconciled"
    assert (result["processed"], result["left"], result["complete"]) == (0, 0, False)
