"""txsummary command line: ``summarize PATH`` and ``demo [FILE ...]``.

Exit codes:

- 0: the summary was printed.
- 1: the data is invalid (every problem in the file's content; the reasons go to stderr).
- 2: usage error (bad arguments, no such file, not an s3://bucket/key URL).
- 3: any other failure: reading the input (I/O, S3), or writing the output (e.g. a full disk:
  ``txsummary summarize x.csv > /dev/full``), reported on one line of stderr.
- 141 (128 + SIGPIPE): standard output was closed before everything was written, as in
  ``txsummary summarize x.csv | head -0``. Nothing is printed: the reader chose to stop. This is
  the status a shell shows for any tool stopped by a closed pipe (``yes | head -1``), so
  ``set -o pipefail`` treats txsummary like the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from txsummary.core.errors import InvalidFileError

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE
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
    resend = commands.add_parser(
        "resend", help="send a version's failed or pending e-mail again, once"
    )
    resend.add_argument("url", help="s3://bucket/key")
    resend.add_argument("--version-id", help="the object version (default: the current one)")
    redrive = commands.add_parser(
        "redrive", help="re-invoke the function with the events parked in its failure queue"
    )
    redrive.add_argument("queue_url", help="the failure queue (stack output failure_queue_url)")
    redrive.add_argument("--function", required=True, help="the function's name or ARN")
    redrive.add_argument(
        "--dry-run", action="store_true", help="say what it would do; change nothing"
    )
    redrive.add_argument("--region", help="the AWS region (default: your AWS configuration's)")
    doctor = commands.add_parser(
        "doctor", help="check that a deployed stack can process files and send e-mail"
    )
    doctor.add_argument(
        "--stack-outputs",
        metavar="FILE|-",
        help="`pulumi stack output --json` in a file, or - for stdin",
    )
    for flag, what in {
        "bucket": "the upload bucket (bucket_name)",
        "function": "the function (function_name)",
        "queue-url": "the failure queue (failure_queue_url)",
        "email-from": "the sender (default: the function's EMAIL_FROM)",
        "alarm-prefix": "check every alarm whose name starts with this",
        "region": "the AWS region (default: your AWS configuration's)",
    }.items():
        doctor.add_argument(f"--{flag}", help=what)
    doctor.add_argument(
        "--email-to", action="append", help="a recipient (repeatable; default: EMAIL_TO)"
    )
    doctor.add_argument(
        "--alarm", action="append", dest="alarms", help="an alarm name (repeatable)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "resend":
            from txsummary.handler import run_resend  # noqa: PLC0415

            code = run_resend(args.url, args.version_id, sys.stdout)
        elif args.command in ("redrive", "doctor"):
            code = _operate(args)
        else:
            code = (
                _demo(args.files) if args.command == "demo" else _summarize(args.path, args.format)
            )
        _flush_stdout()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except _OutputError as exc:
        _discard_stdout()
        _tell(f"txsummary: cannot write to standard output: {exc}")
        return EXIT_FAILURE
    return code


def _operate(args: argparse.Namespace) -> int:
    """The operator's commands against a deployed stack, with the operator's credentials."""
    if args.command == "redrive":
        from txsummary.aws import redrive  # noqa: PLC0415 - boto3 only for these commands

        return redrive.run_cli(
            args.queue_url, args.function, dry_run=args.dry_run, region=args.region
        )
    from txsummary.aws import doctor  # noqa: PLC0415

    return doctor.run_cli(args)


def _demo(files: list[Path]) -> int:
    from txsummary_local.demo import run_demo  # noqa: PLC0415 - pulls in moto only for the demo

    if sys.stdout is None:
        raise _OutputError("it is closed")
    return run_demo(list(files), sys.stdout)


def _summarize(path: str, fmt: str) -> int:
    from txsummary.core.render import render_json, render_text  # noqa: PLC0415 - fast --help
    from txsummary.core.summarize import summarize_stream  # noqa: PLC0415

    try:
        with _open(path) as (stream, progress):
            summary = summarize_stream(stream, path, progress=progress)
    except InvalidFileError as exc:
        _tell(exc.describe())
        return EXIT_INVALID
    except _UsageError as exc:
        _tell(f"txsummary: {exc}")
        return EXIT_USAGE
    except Exception as exc:  # anything else is reported, not a data verdict
        _tell(f"txsummary: {path}: {type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    _write_stdout(render_json(summary) if fmt == "json" else render_text(summary))
    return 0


class _OutputError(Exception):
    """Standard output cannot be written (full disk, closed descriptor, I/O error)."""


def _write_stdout(text: str) -> None:
    """Write and flush, so that a failure shows here and not at interpreter exit."""
    if sys.stdout is None:  # started with descriptor 1 closed
        raise _OutputError("it is closed")
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _OutputError(reason) from exc


def _flush_stdout() -> None:
    if sys.stdout is not None:
        _write_stdout("")


def _discard_stdout() -> None:
    """Point descriptor 1 at /dev/null, so that the interpreter's own flush at exit finds
    somewhere to put what is still buffered instead of failing again (and exiting 120)."""
    try:
        fd = sys.stdout.fileno() if sys.stdout is not None else -1
    except (OSError, ValueError):  # not a real file (tests capture it), or closed
        return
    if fd < 0:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _tell(text: str) -> None:
    """One message on stderr; if stderr itself is gone there is no one left to tell."""
    with suppress(OSError, ValueError, AttributeError):
        print(text, file=sys.stderr, flush=True)


class _UsageError(Exception):
    pass


Progress = Callable[[int], None] | None


@contextmanager
def _open(path: str) -> Iterator[tuple[BinaryIO, Progress]]:
    if path.startswith("s3://"):
        from txsummary.aws.s3 import open_object, parse_s3_url, s3_client  # noqa: PLC0415
        from txsummary.objects import ObjectRef  # noqa: PLC0415

        try:
            bucket, key = parse_s3_url(path)
        except ValueError as exc:
            raise _UsageError(str(exc)) from exc
        _, body = open_object(s3_client(), ObjectRef(bucket, key))
        try:
            yield body, None
        finally:
            body.close()
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
