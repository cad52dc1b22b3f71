"""Typed configuration, read once from the environment at cold start.

Only the handler and the local emulation read this; the core takes plain arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_MAX_OBJECT_BYTES = 2 * 1024**3  # 2 GiB
DEFAULT_METRICS_NAMESPACE = "txsummary"
DEFAULT_FUNCTION_NAME = "txsummary-local"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """An environment variable has a value the function cannot run with."""


@dataclass(frozen=True, slots=True)
class Settings:
    log_level: str = DEFAULT_LOG_LEVEL
    max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    function_name: str = DEFAULT_FUNCTION_NAME

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate ``LOG_LEVEL``, ``MAX_OBJECT_BYTES``, ``METRICS_NAMESPACE`` and
        ``AWS_LAMBDA_FUNCTION_NAME``. Unset or empty means the default; a bad value raises
        :class:`SettingsError` naming the variable, the value and what is accepted."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        log_level = get("LOG_LEVEL", DEFAULT_LOG_LEVEL).upper()
        if log_level not in LOG_LEVELS:
            raise SettingsError(
                f"LOG_LEVEL={env.get('LOG_LEVEL')!r} is not one of {', '.join(LOG_LEVELS)}"
            )

        raw_max = get("MAX_OBJECT_BYTES", str(DEFAULT_MAX_OBJECT_BYTES))
        try:
            max_object_bytes = int(raw_max)
        except ValueError:
            raise SettingsError(
                f"MAX_OBJECT_BYTES={raw_max!r} is not a whole number of bytes"
            ) from None
        if max_object_bytes <= 0:
            raise SettingsError(f"MAX_OBJECT_BYTES={raw_max!r} must be a positive number of bytes")

        return cls(
            log_level=log_level,
            max_object_bytes=max_object_bytes,
            metrics_namespace=get("METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE),
            function_name=get("AWS_LAMBDA_FUNCTION_NAME", DEFAULT_FUNCTION_NAME),
        )
