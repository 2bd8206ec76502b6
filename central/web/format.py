"""Every name the dashboard's templates format values with, registered once on the app.

Pages used to bring their own helpers (a `pct` on the unit pages and another,
with other rounding, on the model pages); here each helper is defined once
and `register` makes it available to every template, so a figure shown on
two pages is written the same way on both. Numbers use the charts' format
(`shared.charts.numbers.format_number`), percentages and flags the station page's
(`shared.formats`), so a value reads alike on the station and the dashboard.

Templates call most helpers as functions (`pct(x, 1)`, `num(x)`); times are
filters (`when | utc`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from shared.charts.numbers import format_number, signed, stated
from shared.formats import pct, yesno


def num(value: float | None, digits: int = 3) -> str:
    """A measured value in the charts' number format (a dash when unknown)."""
    return format_number(value, digits)


def p_value(value: float) -> str:
    """p-values below 0.0001 are shown as such: more digits would be noise, not evidence."""
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def p_phrase(value: float) -> str:
    """The p-value for a sentence: "p = 0.0213" or "p < 0.0001"."""
    text = p_value(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def made(value: datetime | None) -> str:
    """A production time (station-local, no zone) as the station wrote it."""
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def utc_time(value: datetime | None) -> str:
    """An instant in UTC, so times from stations in several plants compare directly."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def utc(when: datetime | None, seconds: bool = False) -> str:
    """A stored time as UTC text (no suffix): admins compare it with logs from other machines."""
    if when is None:
        return "—"
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}}"


def ago(when: datetime | None) -> str:
    """ "4 min ago" beside the exact time: the first thing IT asks about a station."""
    if when is None:
        return "never"
    seconds = max(0, int((datetime.now(UTC) - when).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def span(seconds: float) -> str:
    """A duration the way people say it: 45 s, 12 min, 3.5 h, 4 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def status_class(status: str | None) -> str:
    """CSS suffix of a verdict (units.css colours): pass, warning, fail, error, skipped."""
    return (status or "none").lower()


HELPERS: dict[str, Callable[..., str]] = {
    "num": num,
    "signed": signed,
    "stated": stated,
    "pct": pct,
    "yesno": yesno,
    "p_value": p_value,
    "p_phrase": p_phrase,
    "made": made,
    "utc_time": utc_time,
    "ago": ago,
    "span": span,
    "status_class": status_class,
}
# Also filters, so a list maps through them: `limits | map("stated") | join(", ")`.
FILTERS: dict[str, Callable[..., Any]] = {"utc": utc, "num": num, "stated": stated}


def register(app: Flask) -> None:
    """Make every helper and filter available to all of the app's templates."""
    app.jinja_env.globals.update(HELPERS)
    app.jinja_env.filters.update(FILTERS)
