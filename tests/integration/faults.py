"""Fault injection through botocore's event system, for the fault matrix and the races.

A :class:`Fault` names one AWS call of a run (its operation and which occurrence) and what goes
wrong with it. It hooks every client the handler built: ``before-call`` (throttled, or the
environment dying before the call), ``before-send`` (a connection error, which botocore retries),
``after-call`` (the response lost after the call took effect, or the environment dying after
it) and ``needs-retry`` (botocore re-sending a call that already took effect).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

THROTTLED = "throttled before the call"
CONNECTION = "connection error (botocore retries)"
LOST = "response lost after the call"
LOST_RETRIED = "response lost, botocore re-sends"
DIES_BEFORE = "environment dies before the call"
DIES_AFTER = "environment dies after the call"
KINDS = (THROTTLED, CONNECTION, LOST, LOST_RETRIED, DIES_BEFORE, DIES_AFTER)


class EnvironmentDied(BaseException):
    """The execution environment ends mid-invocation: nothing in the function catches it."""


def _op(event_name: str) -> str:
    """``before-call.dynamodb.PutItem`` -> ``dynamodb.PutItem``."""
    return ".".join(event_name.split(".")[1:3])


@dataclass
class Calls:
    """Every AWS call the hooked clients make, in order (``service.Operation``)."""

    made: list[str] = field(default_factory=list)

    def install(self, clients: Iterable[Any]) -> None:
        for client in clients:
            client.meta.events.register_first("before-call", self._before_call)

    def _before_call(self, event_name: str, **_: Any) -> None:
        self.made.append(_op(event_name))

    def positions(self) -> list[tuple[str, int]]:
        """Each call as (operation, occurrence), e.g. the second UpdateItem."""
        seen: Counter[str] = Counter()
        out = []
        for op in self.made:
            out.append((op, seen[op]))
            seen[op] += 1
        return out


@dataclass
class Fault:
    op: str
    nth: int
    kind: str
    fired: bool = False
    _seen: Counter[str] = field(default_factory=Counter)
    _active: bool = False  # the call in flight is the target
    # After a death nothing reaches AWS any more, from any thread (s3transfer's workers would
    # otherwise carry on), until the next delivery's new environment.
    dead: bool = False

    def install(self, clients: Iterable[Any]) -> None:
        for client in clients:
            events = client.meta.events
            events.register_first("before-call", self._before_call)
            events.register_first("before-send", self._before_send)
            events.register_first("after-call", self._after_call)
            events.register_first("needs-retry", self._needs_retry)

    def _fire(self) -> bool:
        if not self._active or self.fired:
            return False
        self.fired = True
        return True

    def _before_call(self, event_name: str, **_: Any) -> None:
        op = _op(event_name)
        if self.dead:
            raise EnvironmentDied(f"dead before {op}")
        self._active = op == self.op and self._seen[op] == self.nth and not self.fired
        self._seen[op] += 1
        if self.kind == THROTTLED and self._fire():
            code = "ThrottlingException"
            raise ClientError({"Error": {"Code": code, "Message": "Rate exceeded"}}, op)
        if self.kind == DIES_BEFORE and self._fire():
            self.dead = True
            raise EnvironmentDied(f"before {op}")

    def _before_send(self, request: Any, **_: Any) -> None:
        if self.kind == CONNECTION and self._fire():
            raise EndpointConnectionError(endpoint_url=request.url)

    def _after_call(self, event_name: str, **_: Any) -> None:
        if self.kind == LOST and self._fire():
            raise ReadTimeoutError(endpoint_url=f"https://{_op(event_name)}")
        if self.kind == DIES_AFTER and self._fire():
            self.dead = True
            raise EnvironmentDied(f"after {_op(event_name)}")

    def _needs_retry(self, caught_exception: Any = None, **_: Any) -> int | None:
        if self.kind == LOST_RETRIED and caught_exception is None and self._fire():
            return 0  # re-send at once
        return None
