"""Preview the summary e-mail of a local CSV file (a development tool, not in the image).

    python -m txsummary_local.preview transactions.csv [--out out/]

writes ``out/<file>.html`` (the logo's ``cid:`` swapped for a ``data:`` URI, so a browser shows
it), ``out/<file>.eml`` (the MIME message as sent) and, when ``chromium`` is on PATH, a PNG
screenshot taken with headless Chromium. A rejected file previews its rejection e-mail.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from txsummary.core import email
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import summarize_stream

CHROMIUM = "chromium"
DEFAULT_BUCKET = "txsummary-uploads"
SCREENSHOT_TIMEOUT_S = 60
BASE_HEIGHT = 760  # the page without table rows, and a margin
ROW_HEIGHT = 35


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m txsummary_local.preview", description=__doc__)
    parser.add_argument("file", type=Path, help="a transactions CSV (or .csv.gz)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output directory")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket name to show")
    parser.add_argument("--key", help="object key to show (default: the file name)")
    parser.add_argument("--to", default="holder@example.com", help="recipient to show")
    parser.add_argument("--width", type=int, default=760, help="screenshot width in pixels")
    parser.add_argument(
        "--height", type=int, help="screenshot height in pixels (default: fits the table)"
    )
    args = parser.parse_args(argv)

    key = args.key or args.file.name
    with args.file.open("rb") as stream:
        try:
            summary = summarize_stream(stream, str(args.file))
            rendered = email.render_summary(summary, bucket=args.bucket, key=key)
            rows = min(len(summary.months), email.MAX_HTML_MONTHS)
        except InvalidFileError as exc:
            rendered = email.render_rejection(exc, bucket=args.bucket, key=key)
            rows = len(exc.errors) * 2
    message = email.build_message(rendered, sender="txsummary@example.com", recipients=[args.to])

    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.file.name
    html_path = args.out / f"{stem}.html"
    html_path.write_text(email.browser_html(rendered.html), encoding="utf-8")
    eml_path = args.out / f"{stem}.eml"
    eml_path.write_bytes(message.as_bytes())
    print(f"subject: {rendered.subject}")
    print(f"wrote {html_path} and {eml_path}")

    browser = shutil.which(CHROMIUM)
    if browser is None:
        print("chromium is not on PATH: no screenshot (apt-get install chromium)")
        return 0
    png_path = args.out / f"{stem}.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            f"--screenshot={png_path.resolve()}",
            f"--window-size={args.width},{args.height or BASE_HEIGHT + ROW_HEIGHT * rows}",
            html_path.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=SCREENSHOT_TIMEOUT_S,
    )
    print(f"wrote {png_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
