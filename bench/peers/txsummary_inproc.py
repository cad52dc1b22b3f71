"""txsummary in-process, through its stable Python entry point ``summarize_stream``.

    python bench/peers/txsummary_inproc.py [--lake] PATH   -> one JSON line (see bench/run.py)

bench/peers/warm.py imports this once and calls ``load()(path)`` (or ``load_lake()(path)``) per
file: what a warm Lambda pays per object once its imports are done (the S3 read aside).
"""

from __future__ import annotations

import importlib
import json
import sys
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
# summarize_stream(..., on_rows=<LakeWriter>). Reported as not available (ImportError from
# load_lake) while txsummary.aws.lake is not importable or does not fit open_lake. The Parquet is
# encoded and cut into parts as in the function, and the parts are dropped: this measures the
# writing, not the network.

OnRows = Callable[[Any], None]  # called with each chunk's valid rows (a pandas DataFrame)


class NoUpload:
    """Stands in for the S3 client: the calls the lake makes, answered, the bytes dropped."""

    def __init__(self) -> None:
        self.sent = 0  # bytes handed over, parts and single objects alike

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "bench"}

    def upload_part(self, *, Body: bytes, PartNumber: int, **_: Any) -> dict[str, str]:
        self.sent += len(Body)
        return {"ETag": f'"{PartNumber:032x}"'}

    def complete_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {}

    def abort_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {}

    def put_object(self, *, Body: bytes, **_: Any) -> dict[str, str]:
        self.sent += len(Body)
        return {}


@contextmanager
def open_lake(path: str) -> Iterator[OnRows]:
    """One LakeWriter for one file, committed on exit: the Parquet file is written, cut into
    parts and completed as in the function, to a client that uploads nothing."""
    lake = importlib.import_module("txsummary.aws.lake")
    with lake.LakeWriter(
        NoUpload(),
        "bench-lake",
        source_bucket="bench",
        source_key=Path(path).name,
        source_version="v1",
        upload_date=date(2026, 1, 1),
    ) as writer:
        yield writer
        writer.commit()


def answer_lake(path: str) -> dict[str, Any]:
    with open_lake(path) as on_rows, open(path, "rb") as stream:
        # As the function runs it (txsummary.service): the writer says how many workers, and
        # how large the chunks.
        workers: int = getattr(on_rows, "SUMMARY_WORKERS")  # noqa: B009 - OnRows has no such field
        chunk: int = getattr(on_rows, "SUMMARY_CHUNK_BYTES")  # noqa: B009
        summary: Summary = summarize_stream(
            stream, path, on_rows=on_rows, workers=workers, chunk_size=chunk
        )
        return comparable(summary)


def load_lake() -> Callable[[str], dict[str, Any]]:
    importlib.import_module("txsummary.aws.lake")  # ImportError: "not available"
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
