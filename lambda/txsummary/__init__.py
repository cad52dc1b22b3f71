"""txsummary: summarize transactions CSV files exactly, in integer cents.

The public API is exported lazily, so ``import txsummary`` stays cheap (no pandas):
``summarize_stream`` (a binary stream, CSV or gzipped CSV), ``summarize_frame`` and
``month_table`` (pandas DataFrames), ``Summary`` and ``InvalidFileError``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "summarize_stream": "txsummary.core.summarize",
    "summarize_frame": "txsummary.core.dataframe",
    "month_table": "txsummary.core.dataframe",
    "Summary": "txsummary.core.model",
    "InvalidFileError": "txsummary.core.errors",
}

if TYPE_CHECKING:
    from txsummary.core.dataframe import month_table, summarize_frame
    from txsummary.core.errors import InvalidFileError
    from txsummary.core.model import Summary
    from txsummary.core.summarize import summarize_stream


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'txsummary' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "InvalidFileError",
    "Summary",
    "__version__",
    "month_table",
    "summarize_frame",
    "summarize_stream",
]
