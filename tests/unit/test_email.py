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

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.conftest import rejection, summarize_bytes
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
    text = " ".join(" ".join(html_of(html).text).split())
    # Then it carries the challenge's figures and a row per month
    for figure in ("39.74", "-15.38", "35.25", "July", "August", "4"):
        assert figure in text
    # And a positive balance is green and a negative one red
    assert re.search(r'color:#047857;">50.20<', html)
    assert re.search(r'color:#b91c1c;">-10.46<', html)


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
    # And the HTML names the file (escaped), the count and each error
    html = html_of_message(message)
    text = " ".join(html_of(html).text)
    assert "&lt;b&gt;bad.csv" in html and "<b>" not in html
    assert "2 errors" in text
    for e in error.errors:
        assert str(e.line) in text
    assert message["Subject"] == "Rejected: <b>bad.csv (2 errors)"


def test_a_rejection_with_more_errors_than_shown_says_how_many_more() -> None:
    # Given a rejection that lists 2 of 30 errors
    error = InvalidFileError("s3://b/k.csv", (LineError(2, "bad"), LineError(0, "whole")), 30)
    html = email.render_rejection(error, bucket="b", key="k.csv").html
    # Then the HTML says so, and a file-level error has no line number
    assert "and 28 more." in html
    assert ">file<" in html


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
    assert months[-1].name not in rendered.html
    assert "and 5 more months" in rendered.html
    assert months[-1].name in rendered.text
