"""txsummary command line: ``summarize PATH`` and ``demo [FILE ...]``.

Exit codes: 0 summary printed, 1 invalid data, 2 usage error, 3 any other failure (I/O, S3).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from txsummary.core.errors import InvalidFileError

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
# Below this size a progress bar would only flicker.
PROGRESS_MIN_BYTES = 64 << 20


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txsummary", description="Summarize transactions CSV files, exact to the cent."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser(
        "summarize", help="summarize a local file or s3://bucket/key (.csv or .csv.gz)"
    )
    summarize.add_argument("path", help="a local file, or s3://bucket/key")
    summarize.add_argument("--format", choices=("text", "json"), default="text")
    demo = commands.add_parser(
        "demo", help="run the whole pipeline on an embedded AWS emulation and show the logs"
    )
    demo.add_argument("files", nargs="*", type=Path, help="CSV files to upload")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from txsummary_local.demo import run_demo  # noqa: PLC0415 - pulls in moto only for the demo

        return run_demo(list(args.files), sys.stdout)
    return _summarize(args.path, args.format)


def _summarize(path: str, fmt: str) -> int:
    from txsummary.core.render import render_json, render_text  # noqa: PLC0415 - fast --help
    from txsummary.core.summarize import summarize_stream  # noqa: PLC0415

    try:
        with _open(path) as (stream, progress):
            summary = summarize_stream(stream, path, progress=progress)
    except InvalidFileError as exc:
        print(exc.describe(), file=sys.stderr)
        return EXIT_INVALID
    except _UsageError as exc:
        print(f"txsummary: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # anything else is reported, not a data verdict
        print(f"txsummary: {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    sys.stdout.write(render_json(summary) if fmt == "json" else render_text(summary))
    return 0


class _UsageError(Exception):
    pass


Progress = Callable[[int], None] | None


@contextmanager
def _open(path: str) -> Iterator[tuple[BinaryIO, Progress]]:
    if path.startswith("s3://"):
        from txsummary.aws.s3 import open_object, parse_s3_url, s3_client  # noqa: PLC0415

        try:
            bucket, key = parse_s3_url(path)
        except ValueError as exc:
            raise _UsageError(str(exc)) from exc
        obj = open_object(s3_client(), bucket, key)
        try:
            yield obj.body, None
        finally:
            obj.body.close()
        return
    local = Path(path)
    if not local.is_file():
        raise _UsageError(f"{path}: no such file")
    with local.open("rb") as stream, _progress_bar(local.stat().st_size) as progress:
        yield stream, progress


@contextmanager
def _progress_bar(size: int) -> Iterator[Progress]:
    if size < PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm  # noqa: PLC0415 - only for large files on a terminal

    with tqdm(total=size, unit="B", unit_scale=True, file=sys.stderr, leave=False) as bar:
        yield bar.update


if __name__ == "__main__":
    sys.exit(main())
