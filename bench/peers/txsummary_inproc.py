"""txsummary in-process, through its stable Python entry point ``summarize_stream``.

    python bench/peers/txsummary_inproc.py [--lake] PATH   -> one JSON line (see bench/run.py)

bench/peers/warm.py imports this once and calls ``load()(path)`` (or ``load_lake()(path)``) per
file: what a warm Lambda pays per object once its imports are done (the S3 read aside).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from txsummary import Summary, summarize_stream


def comparable(summary: Summary) -> dict[str, Any]:
    """The Summary in the peers' JSON shape (money as decimal text, months by key)."""
    data = summary.to_dict()
    return {
        "transactions": data["transactions"],
        "total_balance": str(data["total_balance"]),
        "months": {
            (str(m["month"]) if m["year"] is None else f"{m['year']}-{m['month']}"): m[
                "transactions"
            ]
            for m in data["months"]
        },
        "average_credit": _text(data["average_credit"]),
        "average_debit": _text(data["average_debit"]),
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def answer(path: str) -> dict[str, Any]:
    with open(path, "rb") as stream:
        return comparable(summarize_stream(stream, path))


def load() -> Callable[[str], dict[str, Any]]:
    return answer


# --------------------------------------------------------------------------------- lake on
# summarize_stream(..., on_rows=<LakeWriter>), relying only on the writer's interface: built
# with a client, the lake bucket and the source's names, called with each chunk's rows, then
# commit() (or discard() when the file fails). Keyword arguments the writer does not take are
# left out, so a writer that streams to S3 and one staged in a directory both fit. The client
# takes every call and uploads nothing (parts are read, so their bytes are made): this measures
# the writing. Reported as not available (ImportError from load_lake) when it does not fit.

OnRows = Callable[[Any], None]  # called with each chunk's valid rows (a pandas DataFrame)
_SOURCE = {"source_bucket": "bench", "source_version": "v1", "upload_date": date(2026, 1, 1)}


class _NoUpload:
    """Stands in for the S3 client: accepts any call; nothing is sent anywhere."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            body: Any = kwargs.get("Body")
            if hasattr(body, "read"):
                body.read()
            if name == "create_multipart_upload":
                return {"UploadId": "bench-upload"}
            if name == "upload_part":
                return {"ETag": f'"bench-{kwargs.get("PartNumber", 0)}"'}
            return {} if name.endswith(("_upload", "_object", "_part")) else None

        return call


def _accepted(writer_class: type, offered: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(writer_class).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return offered
    return {k: v for k, v in offered.items() if k in parameters}


@contextmanager
def open_lake(path: str, workdir: Path) -> Iterator[OnRows]:
    """One LakeWriter for one file, committed when the summary succeeded, else discarded."""
    lake = importlib.import_module("txsummary.aws.lake")
    offered = {**_SOURCE, "source_key": Path(path).name, "directory": workdir}
    writer = lake.LakeWriter(_NoUpload(), "bench-lake", **_accepted(lake.LakeWriter, offered))
    with writer if hasattr(writer, "__enter__") else contextlib.nullcontext(writer):
        try:
            yield writer
        except BaseException:
            writer.discard()
            raise
        writer.commit()


def answer_lake(path: str) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="txsummary-bench-lake-") as workdir,
        open_lake(path, Path(workdir)) as on_rows,
        open(path, "rb") as stream,
    ):
        # As the function runs it: the writer may say how many summary workers fit with it.
        workers = getattr(on_rows, "SUMMARY_WORKERS", None)
        summary: Summary = (
            summarize_stream(stream, path, on_rows=on_rows)
            if workers is None
            else summarize_stream(stream, path, on_rows=on_rows, workers=int(workers))
        )
        return comparable(summary)


def load_lake() -> Callable[[str], dict[str, Any]]:
    lake = importlib.import_module("txsummary.aws.lake")  # ImportError: "not available"
    writer_class = getattr(lake, "LakeWriter", None)
    if writer_class is None or not all(
        hasattr(writer_class, m) for m in ("__call__", "commit", "discard")
    ):
        raise ImportError("txsummary.aws.lake.LakeWriter lacks __call__, commit or discard")
    return answer_lake


# ------------------------------------------------------------------------------------ main


def main(argv: list[str]) -> None:
    if argv[0] == "--lake":
        try:
            run = load_lake()
        except ImportError as exc:
            print(json.dumps({"unavailable": str(exc)}))
            return
        print(json.dumps(run(argv[1])))
    else:
        print(json.dumps(answer(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
