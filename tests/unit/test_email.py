"""The summary e-mail, built purely: the MIME tree, the text part, the HTML's escaping and the
choice of recipient. No mocks: these are plain functions."""

from __future__ import annotations

import email as stdlib_email
import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.conftest import rejection, summarize_bytes
from tests.unit.test_render import grouped  # the money oracle, defined once
from txsummary.core import email
from txsummary.core.errors import InvalidFileError, LineError
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary.core.render import render_text

SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"
SENDER = "txsummary@example.com"
TO = ("holder@example.com",)
ROOT = Path(__file__).resolve().parents[2]
LAMBDA = ROOT / "lambda"
HOSTILE_KEY = 'in/<script>alert("x")</script>&<img src=x onerror=y>.csv'


def parsed(message: EmailMessage) -> EmailMessage:
    """The message as a recipient's client parses it from the bytes SES sends."""
    data = message.as_bytes()  # the bytes SES is given
    assert data.isascii()
    result = stdlib_email.message_from_bytes(data, policy=policy.default)
    assert isinstance(result, EmailMessage)
    return result


def parts(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_parts())  # type: ignore[arg-type]


def text_of(message: EmailMessage) -> str:
    """The text/plain part, with the wire's CRLF line ends as LF."""
    content: str = parts(message)[0].get_content()
    return content.replace("\r\n", "\n")


def html_of_message(message: EmailMessage) -> str:
    content: str = parts(parts(message)[1])[0].get_content()
    return content


def summary_message(key: str = "statements/july.csv") -> tuple[EmailMessage, str]:
    summary = summarize_bytes(SAMPLE)
    rendered = email.render_summary(summary, bucket="uploads", key=key, version_id="v1")
    message = email.build_message(rendered, sender=SENDER, recipients=TO)
    return parsed(message), render_text(summary)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_of(html: str) -> _Collect:
    collector = _Collect()
    collector.feed(html)
    return collector


def visible_text(html: str) -> str:
    """The HTML's text with whitespace runs as one space, as a reader sees it."""
    return " ".join(" ".join(html_of(html.replace("<wbr>", "")).text).split())


def test_mime_tree_is_text_then_html_with_the_inline_logo() -> None:
    # Given a summarized file's message, as the recipient's client parses it
    message, _ = summary_message()
    # Then it is alternative(text/plain, related(text/html, image/png))
    assert message.get_content_type() == "multipart/alternative"
    text, related = parts(message)
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, logo = parts(related)
    assert html.get_content_type() == "text/html"
    assert logo.get_content_type() == "image/png"
    assert logo.get_content_disposition() == "inline"
    assert logo.get_payload(decode=True) == email.logo_png()
    assert message["From"] == SENDER
    assert message["To"] == TO[0]


def test_the_date_header_is_the_given_time() -> None:
    rendered = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key="k.csv")
    when = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
    message = parsed(email.build_message(rendered, sender=SENDER, recipients=TO, date=when))
    assert message["Date"].datetime == when


def test_the_html_references_the_logo_by_its_content_id_and_nothing_remote() -> None:
    # Given the message
    message, _ = summary_message()
    html_part, logo = parts(parts(message)[1])
    # When the HTML's images are listed
    html = html_part.get_content()
    sources = [attrs.get("src") for tag, attrs in html_of(html).tags if tag == "img"]
    # Then the only image is cid:<the logo part's Content-ID>; there is no <style>, no link
    cid = logo["Content-ID"].strip("<>")
    assert sources == [f"cid:{cid}"]
    assert cid == email.LOGO_CID
    tags = {tag for tag, _ in html_of(html).tags}
    assert not tags & {"style", "link", "script"}
    assert "http://" not in html and "https://" not in html


def test_the_text_part_is_exactly_the_log_text() -> None:
    # Given the message and the log record's text of the same summary
    message, log_text = summary_message()
    # Then the plain part is that text (its line ends are CRLF on the wire, as SMTP wants)
    text = text_of(message)
    assert text == log_text
    assert text.startswith("Total balance is 39.74\n")


def test_the_html_shows_the_figures_and_colours_balances() -> None:
    # Given the sample file's HTML
    message, _ = summary_message()
    html = html_of_message(message)
    text = visible_text(html)
    # Then it carries the challenge's figures, the period, the sums and the counts
    for figure in ("39.74", "-15.38", "35.25", "July", "August", "4 transactions"):
        assert figure in text
    assert "Period: July to August" in text
    assert "-30.76 2 debits" in text and "70.50 2 credits" in text
    # And a positive balance is green and a negative one red
    assert re.search(r'color:#047857;[^"]*"><span[^>]*>Balance</span> 50.20<', html)
    assert re.search(r'color:#b91c1c;[^"]*"><span[^>]*>Balance</span> -10.46<', html)


def test_hostile_keys_are_escaped_in_the_html_and_kept_out_of_headers() -> None:
    # Given an object key with markup, and a newline that could inject a header
    key = HOSTILE_KEY.replace(".csv", "\nBcc: victim@example.com.csv")
    message, _ = summary_message(key)
    html = html_of_message(message)
    # Then no tag from the key reaches the HTML; the text shows it escaped
    tags = html_of(html).tags
    assert not any(tag == "script" for tag, _ in tags)
    assert [attrs.get("src") for tag, attrs in tags if tag == "img"] == [f"cid:{email.LOGO_CID}"]
    assert "&lt;script&gt;" in html
    # And the subject is one line; no Bcc header appeared
    assert "\n" not in message["Subject"]
    assert message["Bcc"] is None


def test_a_non_ascii_subject_is_encoded_and_decodes_back() -> None:
    # Given a key with accents and a non-Latin script
    message = email.build_message(
        email.render_summary(
            summarize_bytes(SAMPLE), bucket="uploads", key="relevés/août-€-日本.csv"
        ),
        sender=SENDER,
        recipients=TO,
    )
    data = message.as_bytes()
    # Then the raw header is ASCII (RFC 2047 encoded words)
    raw_subject = re.search(rb"^Subject: (.*(?:\r\n[ \t].*)*)", data, re.MULTILINE)
    assert raw_subject is not None
    raw_subject.group(1).decode("ascii")
    assert b"=?utf-8?" in raw_subject.group(1).lower()
    # And the client decodes it to the original text
    assert parsed(message)["Subject"] == "Summary of août-€-日本.csv: balance 39.74"


def test_a_rejected_file_mails_its_name_count_and_first_errors() -> None:
    # Given a file with two bad lines
    error = rejection(b"Id,Date,Transaction\n0,7/15,+60.5\n1,13/40,-1\n2,7/16,abc\n")
    rendered = email.render_rejection(error, bucket="uploads", key="in/<b>bad.csv")
    message = parsed(email.build_message(rendered, sender=SENDER, recipients=TO))
    # Then the text part is the rejection's own description
    assert text_of(message) == error.describe() + "\n"
    # And the HTML names the file (escaped), the count and each error with its line
    html = html_of_message(message)
    text = visible_text(html)
    assert "&lt;b&gt;bad" in html and "<b>" not in html
    assert "2 errors" in text
    for e in error.errors:
        assert f"{e.reason} Line {e.line}" in text
    assert message["Subject"] == "Rejected: <b>bad.csv (2 errors)"


def test_a_rejection_with_more_errors_than_shown_says_how_many_more() -> None:
    # Given a rejection that lists 2 of 30 errors
    error = InvalidFileError("s3://b/k.csv", (LineError(2, "bad"), LineError(0, "whole")), 30)
    html = email.render_rejection(error, bucket="b", key="k.csv").html
    # Then the HTML says so, and a file-level error names the whole file, not a line
    assert "and 28 more errors not listed here." in html
    assert ">The whole file<" in html


def test_repeated_reasons_are_grouped_with_their_lines_and_counts() -> None:
    # Given 18 lines with one reason (two runs), then two other reasons
    bad = [f"{n},7/16,abc" for n in (*range(1, 18), 20)]
    data = "\n".join(["Id,Date,Transaction", "0,7/15,+1", *bad[:17], "18,13/40,-1", bad[17]])
    error = rejection(data.encode() + b"\n")
    # When the rejection is rendered
    text = visible_text(email.render_rejection(error, bucket="b", key="k.csv").html)
    # Then the repeated reason shows once, with its count and its lines as ranges
    (repeated,) = {e.reason for e in error.errors if "abc" in e.reason}
    assert text.count(repeated) == 1
    assert f"\u00d718 {repeated} Lines 3\u201319, 21" in text
    assert "\u00d71 Date '13/40'" in text


@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from("abc")), min_size=1, max_size=20))
def test_groups_keep_every_line_once_under_its_reason(errors: list[tuple[int, str]]) -> None:
    # Given any shown errors; oracle: per reason, the sorted set of its lines
    groups = email.group_errors([LineError(line, reason) for line, reason in errors])
    # Then each reason is one group, in order of first appearance, counting its errors
    assert [g["reason"] for g in groups] == list(dict.fromkeys(r for _, r in errors))
    for g in groups:
        lines = [n for n, r in errors if r == g["reason"]]
        assert g["count"] == str(len(lines))
        expanded = set()
        for span in re.findall(r"\d+(?:\u2013\d+)?", g["where"]):
            first, _, last = span.partition("\u2013")
            expanded |= set(range(int(first), int(last or first) + 1))
        assert expanded == {n for n in lines if n}
        assert ("whole file" in g["where"]) == (0 in lines)


def test_browser_html_swaps_the_cid_for_a_data_uri() -> None:
    rendered = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key="k.csv")
    html = email.browser_html(rendered.html)
    assert "cid:" not in html
    assert "data:image/png;base64,iVBORw0KGgo" in html  # the PNG signature, base64


@settings(deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_key_gives_a_one_line_subject_that_round_trips(key: str) -> None:
    # Given any object key (S3 keys may hold any character)
    rendered = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key=key)
    # When the message is serialized and parsed back
    message = parsed(email.build_message(rendered, sender=SENDER, recipients=TO))
    # Then the subject is the rendered one, on one line
    assert message["Subject"] == rendered.subject
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


def test_jinja2_is_imported_only_when_an_email_is_rendered() -> None:
    # Given a fresh interpreter that loads the adapters and the orchestration
    code = (
        "import sys, txsummary.effects, txsummary.aws.mail, txsummary.aws.store, "
        "txsummary.core.email\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 loaded at import'\n"
        "from txsummary.core.email import render_rejection\n"
        "from txsummary.core.errors import InvalidFileError\n"
        "render_rejection(InvalidFileError('s', (), 1), bucket='b', key='k')\n"
        "assert 'jinja2' in sys.modules\n"
    )
    # Then jinja2 is loaded by the first rendering, not before
    subprocess.run(
        [sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(LAMBDA)}
    )


def test_the_templates_and_logo_ship_as_package_data() -> None:
    # Given the package-data globs in pyproject.toml
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["txsummary.core"]
    core = LAMBDA / "txsummary" / "core"
    shipped = {p for pattern in globs for p in core.glob(pattern)}
    # Then every template and the logo are matched
    assert set(core.glob("templates/*")) | {core / "assets" / email.LOGO_FILE} <= shipped


def test_a_file_spanning_decades_lists_the_first_months_in_html_and_all_in_text() -> None:
    # Given a summary with more months than the HTML lists
    months = tuple(
        MonthSummary(2000 + i // 12, 1 + i % 12, Totals(1, 100, 1, 100, 0, 0))
        for i in range(email.MAX_HTML_MONTHS + 5)
    )
    summary = Summary(sum((m.totals for m in months), Totals()), months)
    rendered = email.render_summary(summary, bucket="b", key="k.csv")
    # Then the HTML has the first MAX_HTML_MONTHS rows and says how many more; the text has all
    assert rendered.html.count("December 2000") == 1
    assert f">{months[-1].name}<" not in rendered.html
    assert f"January 2000 to {months[-1].name}" in rendered.html  # the whole file's period
    assert "and 5 more months" in rendered.html
    assert months[-1].name in rendered.text


# --- finance-grade figures, layout and accessibility ----------------------------------------

PHONE_PX = 375


def counted(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def month_totals(debits: int, debit_total: int, credits: int, credit_total: int) -> Totals:
    return Totals(
        debits + credits, debit_total + credit_total, credits, credit_total, debits, debit_total
    )


amounts = st.integers(1, 10**14)
month_totals_st = st.builds(
    month_totals,
    st.integers(1, 10**7),
    amounts.map(lambda v: -v),
    st.integers(1, 10**7),
    amounts,
)


def summary_of(totals: list[Totals]) -> Summary:
    months = tuple(MonthSummary(2024 + i // 12, 1 + i % 12, t) for i, t in enumerate(totals))
    return Summary(sum(totals, Totals()), months)


@settings(deadline=None, max_examples=25)
@given(st.lists(month_totals_st, min_size=1, max_size=8))
def test_every_figure_is_shown_with_thousands_separators(totals: list[Totals]) -> None:
    # Given months with large sums and counts
    summary = summary_of(totals)
    rendered = email.render_summary(summary, bucket="b", key="k.csv")
    text = visible_text(rendered.html)
    t = summary.totals
    # Then the HTML shows the overall sums, counts and averages, grouped (oracle: grouped())
    transactions = counted(t.transactions, "transaction")
    assert f"Total balance {grouped(t.balance)} from {transactions}" in text
    assert f"Debits {grouped(t.debit_total)} {counted(t.debits, 'debit')}" in text
    assert f"Credits {grouped(t.credit_total)} {counted(t.credits, 'credit')}" in text
    assert f"average {grouped(t.average_debit or 0)}" in text
    assert f"average {grouped(t.average_credit or 0)}" in text
    # And each month's balance, debit and credit sums, in that order, then its counts
    for m in summary.months:
        mt = m.totals
        assert (
            f"{m.name} Balance {grouped(mt.balance)} Debits {grouped(mt.debit_total)} "
            f"Credits {grouped(mt.credit_total)} {counted(mt.transactions, 'transaction')}: "
            f"{counted(mt.debits, 'debit')}, average {grouped(mt.average_debit or 0)}; "
            f"{counted(mt.credits, 'credit')}, average {grouped(mt.average_credit or 0)}"
        ) in text
    # And the subject and the text part group money too
    assert rendered.subject.endswith(f"balance {grouped(t.balance)}")
    assert rendered.text.startswith(f"Total balance is {grouped(t.balance)}\n")
    debits = counted(t.debits, "debit")
    assert f"Total debits: {grouped(t.debit_total)} from {debits}" in rendered.text


def test_debits_come_before_credits_in_cards_chart_and_text() -> None:
    # Given the sample's e-mail
    rendered = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key="k.csv")
    text = visible_text(rendered.html)
    # Then each place that shows both puts debits first: the cards, every chart row, the text
    cards = text[text.index("Total balance") : text.index("per month")]
    assert cards.index("Debits -30.76") < cards.index("Credits 70.50")
    assert "July Balance 50.20 Debits -10.30 Credits 60.50" in text
    assert "August Balance -10.46 Debits -20.46 Credits 10.00" in text
    assert rendered.text.index("Total debits") < rendered.text.index("Total credits")
    header = next(line for line in rendered.text.splitlines() if line.strip().startswith("Month"))
    assert header.index("Debits") < header.index("Credits")
    assert header.index("Avg debit") < header.index("Avg credit")


def _fixed_widths(html: str) -> list[tuple[str, int]]:
    """Every fixed pixel width in the HTML: width attributes, and width/min-width in styles."""
    found = []
    for tag, attrs in html_of(html).tags:
        width = attrs.get("width") or ""
        if width.isdigit():
            found.append((tag, int(width)))
        style = attrs.get("style") or ""
        for value in re.findall(r"(?:^|;)\s*(?:min-)?width:\s*(\d+)px", style):
            found.append((tag, int(value)))
    return found


@pytest.mark.parametrize("kind", ["summary", "rejection"])
def test_no_fixed_width_is_wider_than_a_phone(kind: str) -> None:
    # Given both e-mails, for a long name
    key = "exports/acme_corp-statement_2024-07-01_to_2026-06-30_account-000123456789.csv"
    if kind == "summary":
        html = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key=key).html
    else:
        error = InvalidFileError("s", (LineError(2, "bad"),), 1)
        html = email.render_rejection(error, bucket="b", key=key).html
    # Then nothing is fixed wider than a phone; the container is fluid up to its max-width
    widths = _fixed_widths(html)
    assert widths, "the parser found no widths: the test would pass vacuously"
    assert all(px <= PHONE_PX for _, px in widths), widths
    assert "max-width:600px" in html
    assert "viewport" in html and "width=device-width" in html


def test_the_chart_draws_each_month_to_one_scale_in_table_cells() -> None:
    # Given three months whose largest sum is July's credits
    summary = summary_of(
        [month_totals(1, -2500, 1, 10000), month_totals(1, -10, 1, 0), month_totals(0, 0, 1, 5)]
    )
    html = email.render_summary(summary, bucket="b", key="k.csv").html
    # When the chart's bars are read: filled cells carry a percentage width and a colour
    bars = [
        (attrs["bgcolor"], attrs["width"])
        for tag, attrs in html_of(html).tags
        if tag == "td" and attrs.get("bgcolor") and (attrs.get("width") or "").endswith("%")
    ]
    # Then each non-zero sum has a bar, debits red and credits green, scaled to the largest;
    # a tiny sum still shows, and a zero sum has none
    red, green = email.DEBIT_COLOUR, email.CREDIT_COLOUR
    assert bars == [(red, "25%"), (green, "100%"), (red, "1%"), (green, "1%")]
    # And the chart is HTML only: no image but the logo, no script, no SVG or canvas
    tags = [tag for tag, _ in html_of(html).tags]
    assert tags.count("img") == 1 and not {"script", "svg", "canvas"} & set(tags)
    assert "Debits and credits per month" in html


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    # Black on white is 21:1; the old footer grey on white was 2.56:1
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast("#94a3b8", "#ffffff"), 2) == 2.56


@pytest.mark.parametrize("kind", ["summary", "rejection"])
def test_the_footer_and_secondary_text_reach_wcag_aa_contrast(kind: str) -> None:
    # Given the rendered e-mail: the card's background and the footer cell's colour
    summary = summarize_bytes(SAMPLE)
    if kind == "summary":
        html = email.render_summary(summary, bucket="b", key="k.csv").html
    else:
        html = email.render_rejection(rejection(b"Id,Date\n"), bucket="b", key="k.csv").html
    card = re.search(r"max-width:600px;background-color:(#[0-9a-f]{6})", html)
    footer = re.search(r'color:(#[0-9a-f]{6});">\s*Sent by txsummary', html)
    assert card is not None and footer is not None
    # Then the footer, and the muted text on the card and on the light panels, reach 4.5:1
    assert contrast(footer.group(1), card.group(1)) >= 4.5
    for background in (card.group(1), "#f8fafc"):
        assert contrast(email.MUTED, background) >= 4.5
    for colour in (email.DEBIT_COLOUR, email.CREDIT_COLOUR):
        assert contrast(colour, card.group(1)) >= 4.5


def test_a_long_file_name_wraps_at_separators_never_inside_digits() -> None:
    # Given a long name made of words, dates and an account number
    key = "exports/acme_corp-statement_2024-07-01_to_2026-06-30_account-000123456789.csv"
    html = email.render_summary(summarize_bytes(SAMPLE), bucket="b", key=key).html
    # Then the heading and the source may break after / _ - and before the extension's dot
    assert "acme_<wbr>corp-<wbr>statement_<wbr>2024-<wbr>07-<wbr>01_<wbr>to_<wbr>" in html
    assert "account-<wbr>000123456789<wbr>.csv" in html
    assert "s3:/<wbr>/<wbr>b/<wbr>exports/<wbr>acme_" in html
    # And never between two digits; the old break-anywhere rule is gone
    assert not re.search(r"\d<wbr>\d", html)
    assert "break-all" not in html


def test_the_longest_html_stays_under_gmails_clipping_size() -> None:
    # Given the most months the HTML lists, each with the widest realistic figures, a long key
    wide = month_totals(9_999_999, -(10**14) + 1, 9_999_999, 10**14 - 1)
    summary = summary_of([wide] * (email.MAX_HTML_MONTHS + 12))
    key = "exports/" + "acme_corp-statement_2024-07-01_" * 8 + ".csv"
    html = email.render_summary(summary, bucket="b" * 63, key=key, version_id="v" * 32).html
    # Then Gmail shows the whole message rather than clipping it
    assert len(html.encode()) < email.GMAIL_CLIP_BYTES
    assert "and 12 more months" in html
