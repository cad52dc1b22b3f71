"""txsummary command line: ``summarize PATH ...`` and ``demo [FILE ...]``.

``summarize`` takes local files, ``-`` (standard input) and s3://bucket/key URLs, each CSV or
gzipped CSV, and handles them one after another, in order. Exit codes:

- 0: every file was summarized.
- 1: some file's data is invalid (and none failed otherwise): every problem in its content is
  counted, and its first offending lines are shown (on stderr; in the object with jsonl).
- 2: usage error (bad arguments, not an s3://bucket/key URL, ``--format json`` with several
  files, ``-`` twice), found before any file is read.
- 3: some other failure: reading an input (no such file, I/O, S3), or writing the output (e.g. a
  full disk: ``txsummary summarize x.csv > /dev/full``), reported on one line of stderr. An
  input that fails does not stop the others; an output that fails stops the run. 3 wins over 1.
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
from typing import TYPE_CHECKING, Any, BinaryIO

from txsummary import __version__
from txsummary.core.errors import MAX_REPORTED_ERRORS, InvalidFileError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from txsummary.core.model import Summary

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE
# Below this size a progress bar would only flicker.
PROGRESS_MIN_BYTES = 64 << 20
STDIN = "-"
STDIN_LABEL = "standard input"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="txsummary", description="Summarize transactions CSV files, exact to the cent."
    )
    parser.add_argument("--version", action="version", version=f"txsummary {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser(
        "summarize",
        help="summarize local files, - (standard input) or s3://bucket/key (.csv or .csv.gz)",
    )
    summarize.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a local file, - for standard input, or s3://bucket/key",
    )
    summarize.add_argument(
        "--format",
        choices=("text", "json", "jsonl"),
        default="text",
        help="text (default); json: one object, for one file; jsonl: one object per file",
    )
    summarize.add_argument(
        "--max-errors",
        type=_max_errors,
        default=MAX_REPORTED_ERRORS,
        metavar="N",
        help=f"offending lines to show per rejected file, 0 to {MAX_REPORTED_ERRORS} "
        f"(default {MAX_REPORTED_ERRORS}); the error count stays exact",
    )
    summarize.set_defaults(run=_summarize)
    demo = commands.add_parser(
        "demo", help="run the whole pipeline on an embedded AWS emulation and show the logs"
    )
    demo.add_argument("files", nargs="*", type=Path, help="CSV files to upload")
    demo.set_defaults(run=_demo)
    resend = commands.add_parser(
        "resend", help="send a version's failed or pending e-mail again, once"
    )
    resend.add_argument("url", help="s3://bucket/key")
    resend.add_argument("--version-id", help="the object version (default: the current one)")
    resend.set_defaults(run=_resend)
    redrive = commands.add_parser(
        "redrive", help="re-invoke the function with the events parked in its failure queue"
    )
    redrive.add_argument("queue_url", help="the failure queue (stack output failure_queue_url)")
    redrive.add_argument("--function", required=True, help="the function's name or ARN")
    redrive.add_argument(
        "--dry-run", action="store_true", help="say what it would do; change nothing"
    )
    redrive.add_argument("--region", help="the AWS region (default: your AWS configuration's)")
    redrive.set_defaults(run=_redrive)
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
    doctor.set_defaults(run=_doctor)
    return parser


def _max_errors(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_REPORTED_ERRORS:
        # The run keeps the first MAX_REPORTED_ERRORS offending lines, and only those.
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_REPORTED_ERRORS}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        code = run(args)
        _flush_stdout()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except _OutputError as exc:
        _discard_stdout()
        _tell(f"txsummary: cannot write to standard output: {exc}")
        return EXIT_FAILURE
    return code


def _resend(args: argparse.Namespace) -> int:
    from txsummary.handler import run_resend  # noqa: PLC0415 - the function's own settings

    return run_resend(args.url, args.version_id, sys.stdout)


def _redrive(args: argparse.Namespace) -> int:
    from txsummary.aws import redrive  # noqa: PLC0415 - boto3 only for these commands

    return redrive.run_cli(args.queue_url, args.function, dry_run=args.dry_run, region=args.region)


def _doctor(args: argparse.Namespace) -> int:
    from txsummary.aws import doctor  # noqa: PLC0415

    return doctor.run_cli(args)


def _demo(args: argparse.Namespace) -> int:
    from txsummary_local.demo import run_demo  # noqa: PLC0415 - pulls in moto only for the demo

    if sys.stdout is None:
        raise _OutputError("it is closed")
    return run_demo(list(args.files), sys.stdout)


def _summarize(args: argparse.Namespace) -> int:
    paths: list[str] = args.paths
    fmt: str = args.format
    if problem := _usage_problem(paths, fmt):
        _tell(f"txsummary: {problem}")
        return EXIT_USAGE
    inputs = _Inputs()
    code = 0
    printed = 0  # summaries written so far
    for path in paths:
        label = STDIN_LABEL if path == STDIN else path
        try:
            summary = _read(path, label, inputs)
        except InvalidFileError as exc:
            code = max(code, EXIT_INVALID)
            if fmt == "jsonl":
                _write_stdout(_jsonl(path, "rejected", **_rejected(exc, args.max_errors)))
            else:
                _tell(exc.describe(args.max_errors))
            continue
        except Exception as exc:  # anything else is reported, not a data verdict
            code = EXIT_FAILURE
            message = _failure(exc)
            _tell(f"txsummary: {label}: {message}")
            if fmt == "jsonl":
                _write_stdout(_jsonl(path, "failed", error=message))
            continue
        _write_stdout(_rendered(summary, fmt, path, label, printed if len(paths) > 1 else None))
        printed += 1
    return code


def _usage_problem(paths: list[str], fmt: str) -> str | None:
    """What makes the call unusable before any file is read, or None."""
    from txsummary.aws.s3 import parse_s3_url  # noqa: PLC0415 - no boto3 in it

    if fmt == "json" and len(paths) > 1:
        return "--format json takes one file; use --format jsonl for several"
    if paths.count(STDIN) > 1:
        return "standard input (-) can be read only once"
    for path in paths:
        if path.startswith("s3://"):
            try:
                parse_s3_url(path)
            except ValueError as exc:
                return str(exc)
    return None


def _rendered(summary: Summary, fmt: str, path: str, label: str, before: int | None) -> str:
    """The summary as the format wants it; in text, with several files (``before`` summaries
    already printed), each under its name."""
    from txsummary.core.render import render_json, render_text  # noqa: PLC0415 - fast --help

    if fmt == "jsonl":
        return _jsonl(path, "summarized", summary=summary.to_dict())
    if fmt == "json":
        return render_json(summary)
    text = render_text(summary)
    if before is None:
        return text
    gap = "\n" if before else ""
    return f"{gap}==> {label} <==\n{text}"


def _jsonl(source: str, outcome: str, **fields: Any) -> str:
    from txsummary.core.jsonout import dumps  # noqa: PLC0415

    return dumps({"source": source, "outcome": outcome, **fields}) + "\n"


def _rejected(exc: InvalidFileError, max_errors: int) -> dict[str, Any]:
    return {
        "errors": [e.to_dict() for e in exc.errors[:max_errors]],
        "error_count": exc.error_count,
    }


def _failure(exc: Exception) -> str:
    if isinstance(exc, _InputError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


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


class _InputError(Exception):
    """An input cannot be opened (the reason is shown as it is)."""


Progress = Callable[[int], None] | None


class _Inputs:
    """What several inputs share: one S3 client, made when the first s3:// URL comes."""

    def __init__(self) -> None:
        self._s3: S3Client | None = None

    def s3(self) -> S3Client:
        if self._s3 is None:
            from txsummary.aws.s3 import s3_client  # noqa: PLC0415 - boto3 only for S3

            self._s3 = s3_client()
        return self._s3


def _read(path: str, label: str, inputs: _Inputs) -> Summary:
    from txsummary.core.summarize import summarize_stream  # noqa: PLC0415 - fast --help

    with _open(path, inputs) as (stream, progress):
        return summarize_stream(stream, label, progress=progress)


@contextmanager
def _open(path: str, inputs: _Inputs) -> Iterator[tuple[BinaryIO, Progress]]:
    if path == STDIN:
        if sys.stdin is None:  # started with descriptor 0 closed
            raise _InputError("it is closed")
        yield sys.stdin.buffer, None
        return
    if path.startswith("s3://"):
        from txsummary.aws.s3 import open_object, parse_s3_url  # noqa: PLC0415
        from txsummary.objects import ObjectRef  # noqa: PLC0415

        _, body = open_object(inputs.s3(), ObjectRef(*parse_s3_url(path)))
        try:
            yield body, None
        finally:
            body.close()
        return
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below; a FIFO (<(zcat x)) works too
    except FileNotFoundError:
        raise _InputError("no such file") from None
    except IsADirectoryError:
        raise _InputError("is a directory") from None
    except OSError as exc:
        raise _InputError(exc.strerror or str(exc)) from None
    with stream, _progress_bar(os.fstat(stream.fileno()).st_size) as progress:
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
