"""A fake Lambda Runtime API on 127.0.0.1: serves a fixed list of events to the runtime interface
client and records what it posts back.

Endpoints (API version 2018-06-01), as the runtime client (awslambdaric 4.2.2) calls them:
- ``GET /runtime/invocation/next``: the next event, with ``Content-Type: application/json`` (the
  client's native part crashes on a missing Content-Type and hands the handler bytes for any
  other value) and ``Lambda-Runtime-Aws-Request-Id``, plus the deadline and function ARN headers
  Lambda sends. Once every event is served, the call blocks until the server closes: the client
  loops forever, and its owner ends the process.
- ``POST /runtime/invocation/<id>/response`` and ``/<id>/error``: recorded, 202.
- ``POST /runtime/init/error``: recorded, 202.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:txsummary"
DEADLINE_S = 60
IDLE_BLOCK_S = 120  # upper bound on a blocked /next, should nobody close the server


@dataclass
class Invocation:
    request_id: str
    event: Mapping[str, Any]
    response: bytes | None = None
    error: bytes | None = None
    error_type: str | None = None
    error_headers: dict[str, str] = field(default_factory=dict)
    finished: threading.Event = field(default_factory=threading.Event)

    def error_json(self) -> dict[str, Any]:
        assert self.error is not None, "no error was posted"
        parsed: dict[str, Any] = json.loads(self.error)
        return parsed


@dataclass
class InitError:
    error_type: str | None
    body: bytes


class FakeRuntimeApi:
    """``with FakeRuntimeApi(events) as api:`` serves on ``api.address`` (host:port), the value
    of ``AWS_LAMBDA_RUNTIME_API``. ``on_next(n)`` runs before the n-th /next call is answered
    (0-based), when everything the runtime printed for the previous invocation is out."""

    def __init__(
        self,
        events: Sequence[Mapping[str, Any]],
        on_next: Callable[[int], None] | None = None,
    ) -> None:
        self.invocations = [
            Invocation(f"00000000-0000-4000-8000-{i:012d}", event) for i, event in enumerate(events)
        ]
        self.init_errors: list[InitError] = []
        self.unexpected: list[str] = []  # requests no endpoint answers
        self.idle = threading.Event()  # set when /next is called with nothing left to serve
        self._on_next = on_next
        self._next_calls = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def __enter__(self) -> FakeRuntimeApi:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_idle(self, timeout: float, running: Callable[[], bool] = lambda: True) -> bool:
        """True once every event was handled and the client asked for more; False on timeout,
        as soon as the client reports an init error, or when ``running()`` turns False."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle.wait(0.05):
                return True
            if self.init_errors or not running():
                return False
        return False

    def _take_next(self) -> Invocation | None:
        with self._lock:
            number = self._next_calls
            self._next_calls += 1
        if self._on_next is not None:
            self._on_next(number)
        if number < len(self.invocations):
            return self.invocations[number]
        self.idle.set()
        return None

    def _find(self, request_id: str) -> Invocation | None:
        return next((i for i in self.invocations if i.request_id == request_id), None)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_RuntimeHandler,), {"api": self})


class _RuntimeHandler(BaseHTTPRequestHandler):
    """The endpoints; ``api`` is set on a subclass made per server."""

    api: FakeRuntimeApi

    # HTTP/1.1 so that the client's "Expect: 100-continue" on large posts is answered
    # at once (with HTTP/1.0 the client waits a second before sending the body).
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest's output for the test's own findings

    def _reply(
        self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path != f"{PREFIX}/invocation/next":
            self.api.unexpected.append(f"GET {self.path}")
            self._reply(404)
            return
        invocation = self.api._take_next()
        if invocation is None:
            self.api._closing.wait(IDLE_BLOCK_S)
            self.close_connection = True
            return
        deadline_ms = int((time.time() + DEADLINE_S) * 1000)
        self._reply(
            200,
            json.dumps(invocation.event).encode(),
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            },
        )

    def do_POST(self) -> None:
        body = self._body()
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        if self.path == f"{PREFIX}/init/error":
            self.api.init_errors.append(InitError(error_type, body))
            self._reply(202)
            return
        parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
        invocation = self.api._find(parts[0]) if len(parts) == 2 else None
        if invocation is None or parts[1] not in ("response", "error"):
            self.api.unexpected.append(f"POST {self.path}")
            self._reply(404)
            return
        if parts[1] == "response":
            invocation.response = body
        else:
            invocation.error, invocation.error_type = body, error_type
            invocation.error_headers = dict(self.headers.items())
        invocation.finished.set()
        self._reply(202)
