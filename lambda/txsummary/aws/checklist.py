"""The doctor's checklist: one line per check, ok / warn / FAIL, with the fix for what is not ok."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from botocore.exceptions import ClientError

OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "FAIL"  # blocks processing or e-mail: the doctor exits 1
NOT_FOUND: Final = frozenset({"NotFoundException", "ResourceNotFoundException", "NoSuchBucket"})


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def text(self) -> str:
        line = f"  {self.status:<5} {self.name}: {self.detail}"
        return f"{line}\n        fix: {self.fix}" if self.fix and self.status != OK else line


def render(checks: Sequence[Check]) -> str:
    lines = ["txsummary doctor", *(c.text() for c in checks)]
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    verdict = "processing or e-mail is blocked" if failed else "ready"
    lines.append(f"{failed} FAIL, {warned} warn, {len(checks) - failed - warned} ok: {verdict}")
    return "\n".join(lines) + "\n"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
