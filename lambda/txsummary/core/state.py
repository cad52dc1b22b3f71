"""What a file's checks remember between chunks, each part with one job."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.ids import IdRegistry
from txsummary.core.model import Partial, Summary
from txsummary.core.rules import DateCache, YearForm

if TYPE_CHECKING:
    from txsummary.core.fastpath import Prepared


class ErrorList:
    """How many errors there were, and the MAX_REPORTED_ERRORS with the lowest line numbers,
    whatever order they were found in (encoding checks run before a chunk's row checks)."""

    def __init__(self) -> None:
        self._lowest: list[tuple[int, int, str]] = []  # a max-heap on (line, order found)
        self.count = 0

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        heapq.heappush(self._lowest, (-line, -self.count, reason))
        if len(self._lowest) > MAX_REPORTED_ERRORS:
            heapq.heappop(self._lowest)

    def add_count(self, count: int) -> None:
        """Count errors that cannot be among the first reported (see would_keep)."""
        self.count += count

    @property
    def full(self) -> bool:
        """Whether MAX_REPORTED_ERRORS are named, so later lines need only be counted."""
        return len(self._lowest) >= MAX_REPORTED_ERRORS

    def would_keep(self, line: int) -> bool:
        """Whether an error on this line would be among the first reported."""
        return not self.full or line < -self._lowest[0][0]

    @property
    def first(self) -> list[LineError]:
        return [LineError(-line, reason) for line, _, reason in sorted(self._lowest, reverse=True)]

    def rejection(self, source: str) -> InvalidFileError:
        return InvalidFileError(source, tuple(self.first), self.count)


@dataclass(slots=True)
class FileChecks:
    """The rules' memory: errors so far, Ids seen, the file's year form, parsed dates, and the
    totals of the rows accepted so far."""

    errors: ErrorList = field(default_factory=ErrorList)
    ids: IdRegistry = field(default_factory=IdRegistry)
    year_form: YearForm = field(default_factory=YearForm)
    dates: DateCache = field(default_factory=dict)
    totals: Partial = field(default_factory=Partial)

    def commit(self, prepared: Prepared) -> bool:
        """Check what depends on earlier chunks (year form, Ids), then merge a fast-path chunk.
        All or nothing: Ids are recorded last, and only when none is a duplicate."""
        if prepared.has_year is not None and not self.year_form.agrees(prepared.has_year):
            return False
        if prepared.int_ids is not None:
            if not self.ids.add_ints(prepared.int_ids):
                return False
        elif prepared.text_ids is not None and not self.ids.add_all(prepared.text_ids):
            return False
        if prepared.has_year is not None:
            self.year_form.fix(prepared.has_year)
        self.totals.merge(prepared.partial)
        return True

    def summary(self, source: str) -> Summary:
        if self.errors.count:
            raise self.errors.rejection(source)
        return self.totals.summary()
