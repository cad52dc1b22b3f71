"""Preview the e-mail a local CSV file would send (a development tool, not in the image).

    python -m txsummary_local.preview transactions.csv [--out out/]

writes ``out/<file>.html`` (the e-mail as a browser shows it: the logo's ``cid:`` swapped for
a ``data:`` URI), ``out/<file>.eml`` (the MIME message as sent) and, when ``chromium`` is
installed, ``out/<file>-phone.png`` (375 CSS px, scale 2) and ``out/<file>-desktop.png``
(800 px), each the whole page. A rejected file previews its rejection e-mail.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from txsummary.core import email
from txsummary.core.errors import InvalidFileError
from txsummary.core.summarize import summarize_stream
from txsummary_local import browser

DEFAULT_BUCKET = "txsummary-uploads"
PHONE_WIDTH = 375
DESKTOP_WIDTH = 800
VIEWPORT_HEIGHT = 200  # the page grows past it; the PNGs are the whole page
VIEWS = (("phone", PHONE_WIDTH, True), ("desktop", DESKTOP_WIDTH, False))


def render(path: Path, *, bucket: str, key: str) -> email.Rendered:
    """The summary e-mail of the file at ``path``, or its rejection e-mail."""
    with path.open("rb") as stream:
        try:
            summary = summarize_stream(stream, str(path))
        except InvalidFileError as exc:
            return email.render_rejection(exc, bucket=bucket, key=key)
    return email.render_summary(summary, bucket=bucket, key=key)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m txsummary_local.preview", description=__doc__)
    parser.add_argument("file", type=Path, help="a transactions CSV (or .csv.gz)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output directory")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="bucket name to show")
    parser.add_argument("--key", help="object key to show (default: the file name)")
    parser.add_argument("--to", default="holder@example.com", help="recipient to show")
    args = parser.parse_args(argv)

    rendered = render(args.file, bucket=args.bucket, key=args.key or args.file.name)
    message = email.build_message(rendered, sender="txsummary@example.com", recipients=[args.to])
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.file.name
    html_path = args.out / f"{stem}.html"
    html_path.write_text(email.browser_html(rendered.html), encoding="utf-8")
    eml_path = args.out / f"{stem}.eml"
    eml_path.write_bytes(message.as_bytes())
    print(f"subject: {rendered.subject}")
    print(f"wrote {html_path} and {eml_path}")

    if browser.available() is None:
        print("chromium is not installed: no screenshots (apt-get install chromium)")
        return 0
    with browser.page() as tab:
        for name, width, mobile in VIEWS:
            layout = tab.open(
                html_path.resolve().as_uri(), width=width, height=VIEWPORT_HEIGHT, mobile=mobile
            )
            png_path = args.out / f"{stem}-{name}.png"
            tab.screenshot(png_path, layout)
            fits = "fits" if layout.width <= width else "DOES NOT FIT"
            print(
                f"wrote {png_path}: {layout.width}x{layout.height} px at {width} px ({fits}), "
                f"smallest table text {layout.min_table_font_px:g} px"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
