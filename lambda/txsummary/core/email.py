"""The summary e-mail, built purely: the text, the HTML and the MIME message. No sending here.

The message is ``multipart/alternative``: a ``text/plain`` part that is exactly the log record's
text, then a ``multipart/related`` holding the HTML and the packaged PNG logo, which the HTML
references by ``cid:`` (mail clients block remote images; an inline part always shows).
The HTML comes from jinja2 templates with autoescape on, so an object key such as
``<script>.csv`` is shown, never run. jinja2 is imported on first use only, so a function with
e-mail off never loads it.
"""

from __future__ import annotations

import base64
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.core.render import count, money, period, plural, render_text

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup

LOGO_CID = "logo@txsummary"  # the logo part's Content-ID, without the angle brackets
LOGO_FILE = "logo.png"


class _MimePolicy(policy.EmailPolicy):
    """SMTP's policy (CRLF, 7-bit: non-ASCII text goes quoted-printable or base64, as SES's raw
    send wants) that encodes a non-ASCII subject with email.header.Header. The default folder
    can turn a space between two encoded words into folding whitespace, which decoders drop
    ("a b" arrives as "ab"); Header keeps every space inside the encoded text."""

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "subject" and not str(value).isascii():
            encoded = Header(str(value), "utf-8").encode(
                linesep=self.linesep, maxlinelen=self.max_line_length
            )
            return f"{name}: {encoded}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MIME_POLICY = _MimePolicy(linesep="\r\n", cte_type="7bit")
# The HTML's chart stops here (a file may span decades); the text part has every month. Four
# years keep the HTML under Gmail's clipping size (about 102 KB), which a test checks.
MAX_HTML_MONTHS = 48
GMAIL_CLIP_BYTES = 102 * 1024
SUBJECT_NAME_CHARS = 80  # a longer file name is cut in the subject (the body has it whole)

# Colours: text on the white card; each pair clears WCAG AA (4.5:1), which the tests compute.
PAGE_BG = "#f1f5f9"
CARD_BG = "#ffffff"
MUTED = "#64748b"  # secondary text, 4.76:1 on white
FOOTER_COLOUR = "#475569"  # 7.58:1 on white
_POSITIVE = "#047857"
_NEGATIVE = "#b91c1c"
_ZERO = "#374151"
DEBIT_COLOUR = _NEGATIVE
CREDIT_COLOUR = _POSITIVE
# A name or key may wrap after "/", "_" or "-" and before ".", never inside a run of digits, so
# "2024-07_final.csv" breaks at "-" or "_" on a phone rather than anywhere the browser likes.
_BREAK_AT = re.compile(r"(?<=[/_\-])|(?=\.)")


@dataclass(frozen=True, slots=True)
class Rendered:
    """One e-mail's content: the subject, the plain text (the log text) and the HTML."""

    subject: str
    text: str
    html: str


def render_summary(
    summary: Summary, *, bucket: str, key: str, version_id: str | None = None
) -> Rendered:
    """The e-mail for a summarized file: the balance, the debit and credit sums and counts,
    then each month's debits and credits as bars with their figures (debits first throughout)."""
    t = summary.totals
    name = _display_name(key)
    months = summary.months[:MAX_HTML_MONTHS]
    scale = max((_largest(m.totals) for m in months), default=0)
    covered = period(summary)
    context = {
        "title": f"Summary of {name}",
        "heading": "Summary of",
        "preheader": (
            f"Total balance {money(t.balance)} from {plural(t.transactions, 'transaction')}, "
            f"{covered}"
        ),
        "name": _breakable(name),
        "source": _breakable(f"s3://{bucket}/{key}"),
        "version_id": version_id,
        "period": covered,
        "months_label": plural(len(summary.months), "month"),
        "balance": money(t.balance),
        "balance_colour": _colour(t.balance),
        "transactions_label": plural(t.transactions, "transaction"),
        "cards": [
            _card("Debits", t.debit_total, plural(t.debits, "debit"), t.average_debit),
            _card("Credits", t.credit_total, plural(t.credits, "credit"), t.average_credit),
        ],
        "months": [_month(m, scale) for m in months],
        "more_months": (
            count(len(summary.months) - MAX_HTML_MONTHS)
            if len(summary.months) > MAX_HTML_MONTHS
            else ""
        ),
    }
    return Rendered(
        subject=f"Summary of {_subject_name(key)}: balance {money(t.balance)}",
        text=render_text(summary),
        html=_render("summary.html", context),
    )


def render_rejection(
    error: InvalidFileError, *, bucket: str, key: str, version_id: str | None = None
) -> Rendered:
    """The e-mail for a rejected file: its name, the error count and the first errors, with
    repeated reasons grouped under their lines."""
    name = _display_name(key)
    total = error.error_count
    noun = "error" if total == 1 else "errors"
    more = total - len(error.errors)
    context = {
        "title": f"{name} was not summarized",
        "heading": "Not summarized:",
        "preheader": f"{count(total)} {noun} found; fix the file and upload it again",
        "name": _breakable(name),
        "source": _breakable(f"s3://{bucket}/{key}"),
        "version_id": version_id,
        "error_count": count(total),
        "noun": noun,
        "groups_heading": f"First {count(len(error.errors))} errors" if more > 0 else "Errors",
        "groups": group_errors(error.errors),
        "more": count(more) if more > 0 else "",
        "more_noun": "error" if more == 1 else "errors",
    }
    return Rendered(
        subject=f"Rejected: {_subject_name(key)} ({count(total)} {noun})",
        text=error.describe() + "\n",
        html=_render("rejection.html", context),
    )


def group_errors(errors: Sequence[LineError]) -> list[dict[str, Any]]:
    """One entry per distinct reason, in order of first appearance: the reason, how many lines
    gave it and where (``Lines 2-21, 30``; ``The whole file`` for an error with no line)."""
    lines: dict[str, list[int]] = {}
    for e in errors:
        lines.setdefault(e.reason, []).append(e.line)
    return [
        {"reason": reason, "count": count(len(found)), "where": _where(found)}
        for reason, found in lines.items()
    ]


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    recipients: Sequence[str],
    date: datetime | None = None,
) -> EmailMessage:
    """The MIME tree: alternative(text/plain, related(text/html, image/png logo)). SES adds
    the Message-ID; ``date`` sets the Date header."""
    message = EmailMessage(policy=MIME_POLICY)
    message["Subject"] = rendered.subject  # encoded (RFC 2047) on output when not ASCII
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    if date is not None:
        message["Date"] = format_datetime(date)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    _, html_part = message.iter_parts()
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        logo_png(),
        maintype="image",
        subtype="png",
        cid=f"<{LOGO_CID}>",
        filename=LOGO_FILE,
        disposition="inline",
    )
    return message


def logo_png() -> bytes:
    """The logo that ships in the package (txsummary/core/assets/logo.png)."""
    return _logo()


def browser_html(html: str) -> str:
    """The HTML with the logo's ``cid:`` reference swapped for a ``data:`` URI, for a browser."""
    data = base64.b64encode(logo_png()).decode("ascii")
    return html.replace(f"cid:{LOGO_CID}", f"data:image/png;base64,{data}")


def _card(label: str, total: int, counted: str, average: int | None) -> dict[str, str]:
    return {
        "label": label,
        "total": money(total),
        "colour": _colour(total),
        "count": counted,
        "average": money(average),
    }


def _month(month: MonthSummary, scale: int) -> dict[str, Any]:
    t = month.totals
    return {
        "name": month.name,
        "balance": money(t.balance),
        "balance_colour": _colour(t.balance),
        "bars": [
            _bar("Debits", t.debit_total, DEBIT_COLOUR, scale),
            _bar("Credits", t.credit_total, CREDIT_COLOUR, scale),
        ],
        # No-break spaces keep "average -10.30" and "1 debit" whole when the line wraps.
        "detail": (
            f"{plural(t.transactions, 'transaction')}: "
            f"{_whole(plural(t.debits, 'debit'))}, {_whole(f'average {money(t.average_debit)}')}; "
            f"{_whole(plural(t.credits, 'credit'))}, {_whole(f'average {money(t.average_credit)}')}"
        ),
    }


def _bar(label: str, total: int, colour: str, scale: int) -> dict[str, Any]:
    """A bar's width in whole percent of the largest sum shown; a non-zero sum is never 0 %."""
    percent = 0 if scale == 0 else (abs(total) * 100 + scale // 2) // scale
    if total and not percent:
        percent = 1
    return {"label": label, "total": money(total), "colour": colour, "percent": percent}


def _whole(text: str) -> str:
    return text.replace(" ", "\u00a0")


def _largest(totals: Totals) -> int:
    return max(abs(totals.debit_total), abs(totals.credit_total))


def _where(lines: Sequence[int]) -> str:
    """``Line 7``, ``Lines 2-21, 30``, ``The whole file``: consecutive lines become a range."""
    numbered = sorted({n for n in lines if n})
    spans: list[tuple[int, int]] = []
    for n in numbered:
        if spans and n == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], n)
        else:
            spans.append((n, n))
    shown = ", ".join(f"{a:,}" if a == b else f"{a:,}\u2013{b:,}" for a, b in spans)
    parts = [("Lines " if len(numbered) > 1 else "Line ") + shown] if spans else []
    if 0 in lines:
        parts.append("the whole file" if parts else "The whole file")
    return "; ".join(parts)


def _colour(cents: int) -> str:
    if cents > 0:
        return _POSITIVE
    return _NEGATIVE if cents < 0 else _ZERO


def _breakable(text: str) -> Markup:
    """``text`` escaped, with a ``<wbr>`` at each sensible break (see _BREAK_AT)."""
    from markupsafe import Markup, escape  # noqa: PLC0415 - with jinja2, on first use

    return Markup("<wbr>").join(escape(part) for part in _BREAK_AT.split(text) if part)


def _display_name(key: str) -> str:
    """The file name part of the key, for headings."""
    return key.rstrip("/").rpartition("/")[2] or key


def _subject_name(key: str) -> str:
    """The file name on one line: control and separator characters (a key may hold a newline)
    become spaces, so nothing can be smuggled into the headers; cut to SUBJECT_NAME_CHARS."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch
        for ch in _display_name(key)
    )
    name = " ".join(cleaned.split()) or "(unnamed)"
    if len(name) > SUBJECT_NAME_CHARS:
        name = name[: SUBJECT_NAME_CHARS - 1] + "…"
    return name


def _render(template: str, context: Mapping[str, Any]) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            logo_src=f"cid:{LOGO_CID}",
            page_bg=PAGE_BG,
            card_bg=CARD_BG,
            muted=MUTED,
            footer_colour=FOOTER_COLOUR,
            debit_colour=DEBIT_COLOUR,
            credit_colour=CREDIT_COLOUR,
            **context,
        )
    )


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # noqa: PLC0415 - loaded only when e-mail is on

    return jinja2.Environment(
        loader=jinja2.PackageLoader("txsummary.core", "templates"),
        autoescape=True,  # every template is HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _logo() -> bytes:
    return (resources.files("txsummary.core") / "assets" / LOGO_FILE).read_bytes()
