"""Typed configuration, read once from the environment at cold start.

Only the handler and the local emulation read this; the core and the service take plain values.
The variable names and defaults come from :mod:`txsummary.contract`, which the stack shares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from txsummary import contract
from txsummary.aws.mail import MailConfig, MailConfigError
from txsummary.contract import Env


class SettingsError(ValueError):
    """An environment variable has a value the function cannot run with."""


@dataclass(frozen=True, slots=True)
class Settings:
    log_level: str = contract.DEFAULT_LOG_LEVEL
    max_object_bytes: int = contract.DEFAULT_MAX_OBJECT_BYTES
    metrics_namespace: str = contract.DEFAULT_METRICS_NAMESPACE
    function_name: str = contract.LOCAL_FUNCTION_NAME
    max_decompressed_bytes: int = contract.DEFAULT_MAX_DECOMPRESSED_BYTES
    # The side effects; None means off. E-mail and the lake need the table: its record
    # is what makes each of them happen once per object version.
    summary_table: str | None = None
    mail: MailConfig | None = None  # EMAIL_FROM, EMAIL_TO, EMAIL_ALLOWED_DOMAINS
    lake_bucket: str | None = None
    # What the reconcile lists (the trigger's bucket and prefix); None: no reconcile.
    upload_bucket: str | None = None
    key_prefix: str = ""

    @property
    def email_enabled(self) -> bool:
        return self.mail is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable named in :class:`contract.Env`. Unset or empty means
        the default; a bad value raises :class:`SettingsError` naming the variable, the value and
        what is accepted."""
        env = _Reader(os.environ if environ is None else environ)

        log_level = env.text(Env.LOG_LEVEL).upper() or contract.DEFAULT_LOG_LEVEL
        if log_level not in contract.LOG_LEVELS:
            raise env.error(Env.LOG_LEVEL, f"is not one of {', '.join(contract.LOG_LEVELS)}")

        try:  # the one parser of the e-mail settings
            mail = MailConfig.from_values(
                env.text(Env.EMAIL_FROM),
                env.text(Env.EMAIL_TO),
                env.text(Env.EMAIL_ALLOWED_DOMAINS),
            )
        except MailConfigError as exc:
            raise SettingsError(str(exc)) from None
        summary_table = env.text(Env.SUMMARY_TABLE) or None
        lake_bucket = env.text(Env.LAKE_BUCKET) or None
        if summary_table is None:
            for name, value in ((Env.EMAIL_FROM, mail), (Env.LAKE_BUCKET, lake_bucket)):
                if value is not None:
                    raise SettingsError(
                        f"{name} needs {Env.SUMMARY_TABLE}: the summary record is what makes "
                        "each side effect happen once per object version"
                    )

        return cls(
            log_level=log_level,
            max_object_bytes=env.positive(Env.MAX_OBJECT_BYTES, contract.DEFAULT_MAX_OBJECT_BYTES),
            metrics_namespace=env.text(Env.METRICS_NAMESPACE) or contract.DEFAULT_METRICS_NAMESPACE,
            function_name=env.text(Env.FUNCTION_NAME) or contract.LOCAL_FUNCTION_NAME,
            max_decompressed_bytes=env.positive(
                Env.MAX_DECOMPRESSED_BYTES, contract.DEFAULT_MAX_DECOMPRESSED_BYTES
            ),
            summary_table=summary_table,
            mail=mail,
            lake_bucket=lake_bucket,
            upload_bucket=env.text(Env.UPLOAD_BUCKET) or None,
            key_prefix=env.text(Env.KEY_PREFIX),
        )


@dataclass(frozen=True, slots=True)
class _Reader:
    environ: Mapping[str, str]

    def text(self, name: str) -> str:
        return self.environ.get(name, "").strip()

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
