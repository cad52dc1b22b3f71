"""The log channel Lambda gives the runtime client: a pipe named by ``_LAMBDA_TELEMETRY_LOG_FD``.

When it is set (as on Lambda; not under the runtime interface emulator), the client writes each
record that reaches its handler on the root logger as one frame: type (4 bytes; it encodes the
level and JSON or text), length (4), timestamp in microseconds (8), then the message, all
big-endian. Anything else the process prints (another logger's handler, ``print``) still goes to
stdout and stderr, which Lambda reads line by line.
"""

from __future__ import annotations

import os
import select
import struct
import threading
from dataclasses import dataclass
from types import TracebackType

HEADER = struct.Struct(">IIQ")
POLL_S = 0.05


@dataclass(frozen=True, slots=True)
class Frame:
    frame_type: int
    timestamp_us: int
    message: str


def parse_frames(data: bytes) -> list[Frame]:
    frames: list[Frame] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < HEADER.size:
            raise ValueError(f"truncated frame header at byte {offset}")
        frame_type, length, timestamp = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        if len(data) < start + length:
            raise ValueError(f"truncated frame at byte {offset}")
        frames.append(Frame(frame_type, timestamp, data[start : start + length].decode("utf-8")))
        offset = start + length
    return frames


class TelemetryPipe:
    """A pipe whose write end the child inherits; a thread keeps the read end drained (so the
    child never blocks on a full pipe) and :meth:`drain` collects whatever is in it now."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self._data = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._eof = False
        self._thread = threading.Thread(target=self._pump, daemon=True)

    def __enter__(self) -> TelemetryPipe:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.close_write_end()
        os.close(self.read_fd)

    def close_write_end(self) -> None:
        """Once the child has its copy, the parent's is closed (else EOF never comes)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def _read_ready(self, timeout: float) -> bool:
        """Append what can be read without blocking; False at end of file."""
        if self._eof:
            return False
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        if not ready:
            return True
        chunk = os.read(self.read_fd, 1 << 16)
        if not chunk:
            self._eof = True
            return False
        self._data.extend(chunk)
        return True

    def _pump(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if not self._read_ready(POLL_S):
                    return

    def drain(self) -> int:
        """Collect everything written so far; return the number of bytes collected in all."""
        with self._lock:
            while not self._eof:
                before = len(self._data)
                self._read_ready(0)
                if len(self._data) == before:
                    break
            return len(self._data)

    def data(self) -> bytes:
        with self._lock:
            return bytes(self._data)
