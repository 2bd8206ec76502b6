"""The orders the model list can be sorted in (`/models?sort=cpk`), checked against a list.

Each order puts what needs attention first: the lowest Cpk and the lowest
yield, the most units and the most failures. A model without the figure (no
spec, too few units, no verdict) goes last, whatever the order, and the model
name breaks ties so a link always shows the same list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from central.queries.counts import StatusCounts
from central.queries.filters import QueryError, QueryErrorCode
from central.spc.model import Scorecard


class Listed(Protocol):
    """A line of the model list: its name, counts and (for a named model) scorecard."""

    @property
    def model(self) -> str: ...
    @property
    def counts(self) -> StatusCounts: ...
    @property
    def card(self) -> Scorecard | None: ...


def _missing_last(value: float | None) -> tuple[bool, float]:
    return (value is None or math.isnan(value), 0.0 if value is None else value)


def _by_cpk(row: Listed) -> tuple[bool, float]:
    return _missing_last(None if row.card is None else row.card.cpk_value)


def _by_yield(row: Listed) -> tuple[bool, float]:
    return _missing_last(row.counts.yield_pct)


def _by_volume(row: Listed) -> tuple[bool, float]:
    return (False, -float(row.counts.results))


def _by_failures(row: Listed) -> tuple[bool, float]:
    return (False, -float(row.counts.fails))


def _by_model(row: Listed) -> tuple[bool, float]:
    return (False, 0.0)


#: sort key in the URL -> (column heading, the order). The first is the default.
ORDERS: dict[str, tuple[str, Callable[[Listed], tuple[bool, float]]]] = {
    "model": ("Model", _by_model),
    "cpk": ("Cpk, lowest first", _by_cpk),
    "yield": ("Yield, lowest first", _by_yield),
    "volume": ("Units, most first", _by_volume),
    "failures": ("Fails, most first", _by_failures),
}
DEFAULT_ORDER = "model"


def parse_order(raw: str | None) -> str:
    """The sort key a URL asks for; QueryError (a 400 page) for anything not in ORDERS."""
    value = (raw or "").strip().lower()
    if not value:
        return DEFAULT_ORDER
    if value not in ORDERS:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER,
            f"'sort' is one of {', '.join(ORDERS)}, not {value[:20]!r}.",
        )
    return value


Row = TypeVar("Row", bound=Listed)


def ordered(rows: Sequence[Row], order: str) -> list[Row]:
    """The rows in `order` (a key of ORDERS), ties by model name."""
    key = ORDERS[order][1]
    return sorted(rows, key=lambda row: (*key(row), row.model))
