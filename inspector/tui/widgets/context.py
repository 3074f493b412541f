"""What every detail view needs to render a capture the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any


def _unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ViewContext:
    mask: Callable[[str, str], str]  # hides secret-bearing header values (SPEC §3)
    # Hides the capture's secrets inside flow outputs, logs and answers (`Redactor.value`).
    redact: Callable[[Any], Any] = _unchanged
    tz: tzinfo | None = None
    body_mode: str = "pretty"  # pretty | raw | hex

    def when(self, epoch: float) -> str:
        try:
            dt = datetime.fromtimestamp(epoch, self.tz)
        except (ValueError, OverflowError, OSError, TypeError):
            # A time datetime cannot take (year 0, NaN): the UTC text every output uses.
            from ...model import iso_time

            return iso_time(epoch)
        zone = dt.strftime("%Z") if self.tz else "local"
        return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d} {zone}"


SIG_STYLE = {
    "valid": "bold green",
    "unsigned": "dim",
    "invalid": "bold red",
    "missing": "bold red",
    "malformed": "bold red",
    "expired": "bold red",
    "error": "bold red",
}
SIG_MARK = {"valid": "✓", "unsigned": "–"}


def sig_mark(status: str) -> str:
    return SIG_MARK.get(status, "✗")


def status_style(status: int | None) -> str:
    if status is None:
        return "dim"
    if 200 <= status < 300:
        return "bold green"
    if status >= 500 or status == 401:
        return "bold red"
    return "bold yellow"
