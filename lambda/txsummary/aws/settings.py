"""Typed configuration, read once from the environment at cold start.

Only the handler and the local emulation read this; the core and the service take plain values.
The variable names and defaults come from :mod:`txsummary.aws.contract`, which the stack shares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from txsummary.aws import contract
from txsummary.aws.contract import Env

_MAILBOX = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z0-9-]+")


class SettingsError(ValueError):
    """An environment variable has a value the function cannot run with."""


@dataclass(frozen=True, slots=True)
class Settings:
    log_level: str = contract.DEFAULT_LOG_LEVEL
    max_object_bytes: int = contract.DEFAULT_MAX_OBJECT_BYTES
    metrics_namespace: str = contract.DEFAULT_METRICS_NAMESPACE
    function_name: str = contract.LOCAL_FUNCTION_NAME
    max_decompressed_bytes: int = contract.DEFAULT_MAX_DECOMPRESSED_BYTES
    # Issue 9's side effects: None or empty means off.
    summary_table: str | None = None
    email_from: str | None = None
    email_to: tuple[str, ...] = ()
    email_allowed_domains: tuple[str, ...] = ()
    lake_bucket: str | None = None

    @property
    def email_enabled(self) -> bool:
        return self.email_from is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable named in :class:`contract.Env`. Unset or empty means
        the default; a bad value raises :class:`SettingsError` naming the variable, the value and
        what is accepted."""
        env = _Reader(os.environ if environ is None else environ)

        log_level = env.text(Env.LOG_LEVEL).upper() or contract.DEFAULT_LOG_LEVEL
        if log_level not in contract.LOG_LEVELS:
            raise env.error(Env.LOG_LEVEL, f"is not one of {', '.join(contract.LOG_LEVELS)}")

        email_from = env.text(Env.EMAIL_FROM) or None
        if email_from is not None and not _MAILBOX.fullmatch(email_from):
            raise env.error(Env.EMAIL_FROM, "is not an e-mail address")
        email_to = env.items(Env.EMAIL_TO)
        if any(not _MAILBOX.fullmatch(a) for a in email_to):
            raise env.error(Env.EMAIL_TO, "is not a comma-separated list of e-mail addresses")
        domains = tuple(d.lower() for d in env.items(Env.EMAIL_ALLOWED_DOMAINS))
        if any(not _DOMAIN.fullmatch(d) for d in domains):
            raise env.error(Env.EMAIL_ALLOWED_DOMAINS, "is not a comma-separated list of domains")
        if (email_to or domains) and email_from is None:
            raise env.error(Env.EMAIL_TO, f"needs {Env.EMAIL_FROM}, the sender, to be set too")

        return cls(
            log_level=log_level,
            max_object_bytes=env.positive(Env.MAX_OBJECT_BYTES, contract.DEFAULT_MAX_OBJECT_BYTES),
            metrics_namespace=env.text(Env.METRICS_NAMESPACE) or contract.DEFAULT_METRICS_NAMESPACE,
            function_name=env.text(Env.FUNCTION_NAME) or contract.LOCAL_FUNCTION_NAME,
            max_decompressed_bytes=env.positive(
                Env.MAX_DECOMPRESSED_BYTES, contract.DEFAULT_MAX_DECOMPRESSED_BYTES
            ),
            summary_table=env.text(Env.SUMMARY_TABLE) or None,
            email_from=email_from,
            email_to=email_to,
            email_allowed_domains=domains,
            lake_bucket=env.text(Env.LAKE_BUCKET) or None,
        )


@dataclass(frozen=True, slots=True)
class _Reader:
    environ: Mapping[str, str]

    def text(self, name: str) -> str:
        return self.environ.get(name, "").strip()

    def items(self, name: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in self.text(name).split(",") if item.strip())

    def positive(self, name: str, default: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise self.error(name, "is not a whole number of bytes") from None
        if value <= 0:
            raise self.error(name, "must be a positive number of bytes")
        return value

    def error(self, name: str, problem: str) -> SettingsError:
        return SettingsError(f"{name}={self.environ.get(name)!r} {problem}")
