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

from txsummary.core.errors import InvalidFileError
from txsummary.core.model import Summary, Totals
from txsummary.core.money import format_cents
from txsummary.core.render import render_text

if TYPE_CHECKING:
    import jinja2

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
# The HTML's month table stops here (a file may span decades); the text part has them all.
MAX_HTML_MONTHS = 240
SUBJECT_NAME_CHARS = 80  # a longer file name is cut in the subject (the body has it whole)

_POSITIVE = "#047857"
_NEGATIVE = "#b91c1c"
_ZERO = "#374151"
_NONE = "n/a"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One e-mail's content: the subject, the plain text (the log text) and the HTML."""

    subject: str
    text: str
    html: str


def render_summary(
    summary: Summary, *, bucket: str, key: str, version_id: str | None = None
) -> Rendered:
    """The e-mail for a summarized file: the five figures, then the month table."""
    t = summary.totals
    name = _display_name(key)
    context = {
        "title": f"Summary of {name}",
        "preheader": (
            f"Total balance {format_cents(t.balance)} from {t.transactions:,} transactions"
        ),
        "name": name,
        "source": f"s3://{bucket}/{key}",
        "version_id": version_id,
        "balance": format_cents(t.balance),
        "balance_colour": _colour(t.balance),
        "figures": [
            ("Transactions", f"{t.transactions:,}"),
            ("Months", f"{len(summary.months):,}"),
            ("Average credit", _money(t.average_credit)),
            ("Average debit", _money(t.average_debit)),
        ],
        "months": [_month_row(m.name, m.totals) for m in summary.months[:MAX_HTML_MONTHS]],
        "more_months": (
            f"{len(summary.months) - MAX_HTML_MONTHS:,}"
            if len(summary.months) > MAX_HTML_MONTHS
            else ""
        ),
    }
    return Rendered(
        subject=f"Summary of {_subject_name(key)}: balance {format_cents(t.balance)}",
        text=render_text(summary),
        html=_render("summary.html", context),
    )


def render_rejection(
    error: InvalidFileError, *, bucket: str, key: str, version_id: str | None = None
) -> Rendered:
    """The e-mail for a rejected file: its name, the error count and the first errors."""
    name = _display_name(key)
    count = error.error_count
    noun = "error" if count == 1 else "errors"
    context = {
        "title": f"{name} was not summarized",
        "preheader": f"{count:,} {noun} found; fix the file and upload it again",
        "name": name,
        "source": f"s3://{bucket}/{key}",
        "version_id": version_id,
        "error_count": f"{count:,}",
        "noun": noun,
        "errors": [{"line": e.line or None, "reason": e.reason} for e in error.errors],
        "more": f"{count - len(error.errors):,}" if count > len(error.errors) else "",
    }
    return Rendered(
        subject=f"Rejected: {_subject_name(key)} ({count:,} {noun})",
        text=error.describe() + "\n",
        html=_render("rejection.html", context),
    )


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


def _month_row(name: str, totals: Totals) -> dict[str, Any]:
    return {
        "name": name,
        "transactions": f"{totals.transactions:,}",
        "credits": f"{totals.credits:,}",
        "debits": f"{totals.debits:,}",
        "balance": format_cents(totals.balance),
        "balance_colour": _colour(totals.balance),
        "average_debit": _money(totals.average_debit),
        "average_credit": _money(totals.average_credit),
    }


def _money(cents: int | None) -> str:
    return _NONE if cents is None else format_cents(cents)


def _colour(cents: int) -> str:
    if cents > 0:
        return _POSITIVE
    return _NEGATIVE if cents < 0 else _ZERO


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
    return _environment().get_template(template).render(logo_src=f"cid:{LOGO_CID}", **context)


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
