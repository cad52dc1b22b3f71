"""The header: the file's first non-blank record, read by the same strict parser as the rows."""

from __future__ import annotations

from txsummary.core import hints
from txsummary.core.records import records
from txsummary.core.rules import Layout, RuleError, resolve_header


class HeaderError(ValueError):
    """The header is unusable; without it no row can be checked, so the file stops here."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def take_header(data: bytes, line: int) -> tuple[Layout | None, bytes, int]:
    """The layout, the data after the header and its first line. (None, b"", next line) when
    ``data`` holds only blank lines, so the header is still to come."""
    text = data.decode("utf-8", "surrogateescape")
    for record in records(text):
        at = line + record.lf
        raw = text[record.start : record.end].encode("utf-8", "surrogateescape")
        fields = record.fields
        if fields is not None and len(fields) <= 1 and not "".join(fields).strip():
            continue
        _check_text(raw, at)
        if fields is None:
            reason = f"header: {record.error}"
            if sep := hints.separator(text[record.start : record.end]):
                reason += f": the file seems {sep}-separated; {hints.SAVE_AS_COMMAS}"
            raise HeaderError(at, reason)
        try:
            layout = resolve_header(fields)
        except RuleError as exc:
            raise HeaderError(at, str(exc)) from None
        used = len(text[: record.end].encode("utf-8", "surrogateescape"))
        return layout, data[used:], at + raw.count(b"\n")
    return None, b"", line + data.count(b"\n")


def _check_text(raw: bytes, line: int) -> None:
    if b"\x00" in raw and hints.looks_utf16(raw):
        reason = "file is UTF-16 encoded (with no byte order mark); it must be UTF-8"
        raise HeaderError(line, f"{reason} ({hints.HOW_UTF8})")
    if b"\x00" in raw:
        raise HeaderError(line, "header is binary data (NUL byte), not UTF-8 text")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = (
            f"header is not valid UTF-8 ({exc.reason}), perhaps Windows-1252 or Latin-1; "
            f"save the file as UTF-8 ({hints.HOW_UTF8})"
        )
        raise HeaderError(line, reason) from None
