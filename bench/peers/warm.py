"""A long-lived worker that imports one peer once and then times it per file (bench/run.py).

    python bench/peers/warm.py MODULE[:LOADER]   (MODULE: a file in bench/peers, without .py)

Imports MODULE and calls its ``LOADER()`` (default ``load``) once, then prints one JSON line:
``{"ready": true, "import_s": ...}``, or ``{"unavailable": reason}`` when it raises ImportError.
Then, for each file path read from stdin (one a line), runs the peer on it and prints
``{"seconds": ..., "rss_kib": ..., "answer": {...}}`` or ``{"error": ...}``. ``seconds`` is
``perf_counter`` around the call alone; ``rss_kib`` is this process's peak RSS so far.
The harness discards each worker's first run of a file (the warm-up).
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import sys
import time
from typing import Any, TextIO


def _protocol_channel() -> TextIO:
    """The real stdout for the replies; anything a peer prints goes to stderr instead."""
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


_CHANNEL = _protocol_channel() if __name__ == "__main__" else sys.stdout


def _say(obj: dict[str, Any]) -> None:
    _CHANNEL.write(json.dumps(obj) + "\n")
    _CHANNEL.flush()


def main(spec: str) -> None:
    module_name, _, loader = spec.partition(":")
    start = time.perf_counter()
    try:
        run = getattr(importlib.import_module(module_name), loader or "load")()
    except ImportError as exc:
        _say({"unavailable": str(exc)})
        return
    _say({"ready": True, "import_s": time.perf_counter() - start})
    for line in sys.stdin:
        path = line.rstrip("\n")
        gc.collect()  # untimed, so one run's garbage is not collected in the next one's time
        try:
            start = time.perf_counter()
            answer = run(path)
            seconds = time.perf_counter() - start
        except Exception as exc:  # reported; the harness fails the peer
            _say({"error": f"{type(exc).__name__}: {exc}"})
            continue
        rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _say({"seconds": seconds, "rss_kib": rss_kib, "answer": answer})


if __name__ == "__main__":
    main(sys.argv[1])
