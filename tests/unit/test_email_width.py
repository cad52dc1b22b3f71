"""The e-mail as headless Chromium lays it out on a 375 px phone: no sideways scrolling, no
shrinking, and table text no smaller than 12 px (skipped where chromium is not installed);
and the preview that writes it out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.conftest import rejection, summarize_bytes
from txsummary.core import email
from txsummary.core.model import MonthSummary, Summary, Totals
from txsummary_local import browser, preview

PHONE_PX = 375
DESKTOP_PX = 800
MIN_FONT_PX = 12
SAMPLE = b"Id,Date,Transaction\n0,7/15,+60.5\n1,7/28,-10.3\n2,8/2,-20.46\n3,8/13,+10\n"
LONG_KEY = "exports/acme_corp-statement_2024-07-01_to_2026-06-30_account-000123456789-final.csv"

needs_chromium = pytest.mark.skipif(browser.available() is None, reason="chromium is not installed")


def big_summary() -> Summary:
    """24 months with sums in the hundreds of millions and counts in the millions."""
    months = tuple(
        MonthSummary(
            2024 + (6 + i) // 12,
            (6 + i) % 12 + 1,
            Totals(
                2_345_678, -40_066_394_376 + i, 1_000_000, 9_999_999_999, 1_345_678, -50_066_394_375
            ),
        )
        for i in range(24)
    )
    return Summary(sum((m.totals for m in months), Totals()), months)


def repeated_rejection() -> email.Rendered:
    bad = "\n".join(f"{n},7/16,abc" for n in range(1, 25))
    error = rejection(f"Id,Date,Transaction\n0,7/15,+1\n{bad}\n".encode())
    return email.render_rejection(error, bucket="txsummary-uploads", key=LONG_KEY)


CASES = {
    "sample": lambda: email.render_summary(
        summarize_bytes(SAMPLE), bucket="txsummary-uploads", key="transactions.csv"
    ),
    "big, long name": lambda: email.render_summary(
        big_summary(), bucket="txsummary-uploads", key=LONG_KEY, version_id="3HL4kqtJlcpXroDTDmJ"
    ),
    "rejection": repeated_rejection,
}


@pytest.fixture(scope="module")
def tab() -> Iterator[browser.Page]:
    with browser.page() as page:
        yield page


def open_html(tab: browser.Page, tmp_path: Path, html: str, width: int) -> browser.Layout:
    path = tmp_path / "email.html"
    path.write_text(html, encoding="utf-8")
    return tab.open(path.resolve().as_uri(), width=width, height=800, mobile=width < 500)


@needs_chromium
@pytest.mark.parametrize("case", list(CASES))
def test_the_email_fits_a_phone_without_shrinking(
    tab: browser.Page, tmp_path: Path, case: str
) -> None:
    # Given the e-mail as a browser shows it
    html = email.browser_html(CASES[case]().html)
    # When it is laid out at a 375 px phone's width
    layout = open_html(tab, tmp_path, html, PHONE_PX)
    # Then the document is no wider than the phone, and table text stays readable
    assert layout.width <= PHONE_PX
    assert layout.min_table_font_px >= MIN_FONT_PX
    # And on a desktop it keeps its 600 px column, no wider than the window
    assert open_html(tab, tmp_path, html, DESKTOP_PX).width <= DESKTOP_PX


@needs_chromium
def test_the_measure_sees_a_page_wider_than_the_phone(tab: browser.Page, tmp_path: Path) -> None:
    # Given the old layout's fixed 600 px table, with small text: the check must catch it
    html = (
        '<!DOCTYPE html><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<table width="600" style="width:600px;font-size:9px"><tr><td>x</td></tr></table>'
    )
    layout = open_html(tab, tmp_path, html, PHONE_PX)
    assert layout.width > PHONE_PX
    assert layout.min_table_font_px < MIN_FONT_PX


@pytest.mark.parametrize(
    ("data", "subject"),
    [(SAMPLE, "Summary of in.csv: balance 39.74"), (b"Id,Date\n", "Rejected: in.csv (1 error)")],
)
def test_preview_writes_the_html_the_eml_and_the_screenshots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, subject: str
) -> None:
    # Given a summarized and a rejected file
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    # When previewed
    assert preview.main([str(source), "--out", str(tmp_path / "out")]) == 0
    # Then the HTML shows the logo inline as a data: URI, and the .eml is the message as sent
    html = (tmp_path / "out" / "in.csv.html").read_text(encoding="utf-8")
    assert "cid:" not in html and "data:image/png;base64," in html
    eml = (tmp_path / "out" / "in.csv.eml").read_bytes()
    assert f"Subject: {subject}".encode() in eml and b"cid:" + email.LOGO_CID.encode() in eml
    assert f"subject: {subject}" in capsys.readouterr().out
    # And with chromium, a phone and a desktop PNG
    if browser.available() is not None:
        for view in ("phone", "desktop"):
            png = (tmp_path / "out" / f"in.csv-{view}.png").read_bytes()
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
