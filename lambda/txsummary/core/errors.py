"""The one exceptions module.

An :class:`InvalidFileError` is the data's fault: it is reported and never retried.
Everything else (S3, network, bugs) propagates so that Lambda retries it.
"""

from __future__ import annotations

from dataclasses import dataclass

from txsummary.core.hints import plural

MAX_REPORTED_ERRORS = 20
# A value quoted in a reason is cut to this many characters, so a rejection stays readable and a
# log record stays far below CloudWatch's 256 KB event limit however long the offending field.
MAX_SHOWN_CHARS = 40
# A whole reason is cut to this many characters, should one ever quote a value without shown():
# with at most MAX_REPORTED_ERRORS of them, a rejection stays under about 25 KB whatever the data.
MAX_REASON_CHARS = 1000


def shown(text: str, empty: str = "empty") -> str:
    """How a reason quotes an offending value: repr'd, cut to MAX_SHOWN_CHARS with an ellipsis."""
    if not text:
        return empty
    if len(text) <= MAX_SHOWN_CHARS:
        return repr(text)
    return f"{text[:MAX_SHOWN_CHARS]!r}… ({len(text):,} characters)"


@dataclass(frozen=True, slots=True)
class LineError:
    """One offending line: its 1-based physical line number in the file, and why."""

    line: int
    reason: str

    def __post_init__(self) -> None:
        if len(self.reason) > MAX_REASON_CHARS:
            cut = f"{self.reason[:MAX_REASON_CHARS]}… ({len(self.reason):,} characters)"
            object.__setattr__(self, "reason", cut)  # frozen: set once, here

    def to_dict(self) -> dict[str, int | str]:
        return {"line": self.line, "reason": self.reason}


class TxSummaryError(Exception):
    """Base class of this package's own errors."""


class InvalidFileError(TxSummaryError):
    """The file's content breaks the input rules. Carries the first errors and the total count."""

    def __init__(self, source: str, errors: tuple[LineError, ...], error_count: int) -> None:
        self.source = source
        self.errors = tuple(errors[:MAX_REPORTED_ERRORS])
        self.error_count = max(error_count, len(errors))
        super().__init__(self.describe())

    def describe(self, max_errors: int = MAX_REPORTED_ERRORS) -> str:
        """The rejection as text: the file, the count, then the first ``max_errors`` lines."""
        listed = self.errors[: max(max_errors, 0)]
        head = f"{self.source}: invalid file, {plural(self.error_count, 'error')}"
        if listed and self.error_count > len(listed):
            head += f" (first {len(listed)} shown)"
        lines = [head]
        lines.extend(f"  line {e.line}: {e.reason}" if e.line else f"  {e.reason}" for e in listed)
        return "\n".join(lines)
