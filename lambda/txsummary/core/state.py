"""What a file's checks remember between chunks, each part with one job."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError, LineError
from txsummary.core.ids import IdRegistry
from txsummary.core.model import Partial, Summary
from txsummary.core.rules import DateCache, YearForm


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

    def summary(self, source: str) -> Summary:
        if self.errors.count:
            raise self.errors.rejection(source)
        return self.totals.summary()
