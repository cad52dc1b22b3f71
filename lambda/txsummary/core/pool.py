"""The Arrow memory pool for chunk-sized buffers."""

from __future__ import annotations

import pyarrow as pa

# Chunk-sized Arrow buffers come from glibc's malloc, not pyarrow's default mimalloc: buffers
# made on a worker thread and freed on another went back to the OS and every new one
# page-faulted afresh, and mimalloc held tens of MiB more at the peak (figures in
# bench/notes.md). Passed per call, so other pyarrow users in the process are unaffected.
ARROW_POOL = pa.system_memory_pool()
