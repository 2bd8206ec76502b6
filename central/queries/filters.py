"""What a dashboard view is filtered by: a date range, stations, models, and the spec
table's element type and product class.

The same filters live in the page's URL (`?from=2025-01-01&to=2025-03-31&
station=line-1&model=8340-1&element=Carbon&cls=Industrial`), so a link shows a
colleague the same view:
`Filters.from_query` reads them back and refuses what it cannot read with a
message that says what to type instead.

Days are production days: the date of a result's `made_at` (its test time on
the station's own clock, else its analysis time in UTC; migration 004).

Element type and product class narrow to the models the spec table gives them
(by any of a model's names, case-blind, as /quality joins them): a result of a
model without a spec row has neither, so such a filter leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from psycopg import sql

from shared.errors import LtaError

MAX_NAME = 128  # shared.models.Name
MAX_VALUES = 50  # stations or models in one filter
MAX_SPAN_DAYS = 3660  # ten years: a window beyond that is a typing mistake
# Days a filter may name: production days, with room for a station clock set wrong. Beyond
# them date arithmetic overflows (9999-12-31 has no next day).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


class QueryErrorCode(StrEnum):
    """Stable codes for requests the data layer refuses (the pages answer 400)."""

    INVALID_FILTER = "invalid_filter"
    INVALID_CURSOR = "invalid_cursor"


class QueryError(LtaError, ValueError):
    """A filter, cursor or limit that cannot be used; the message says what to send."""

    code: QueryErrorCode

    def __init__(self, code: QueryErrorCode, message: str) -> None:
        super().__init__(code, message)


def _bad(message: str) -> QueryError:
    return QueryError(QueryErrorCode.INVALID_FILTER, message)


@dataclass(frozen=True)
class Filters:
    """start/end: first and last production day included (None: unbounded)."""

    start: date | None = None
    end: date | None = None
    stations: tuple[str, ...] = field(default=())
    models: tuple[str, ...] = field(default=())
    element_type: str | None = None
    product_class: str | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise _bad(f"The range starts ({self.start}) after it ends ({self.end}).")
        if self.start and self.end and (self.end - self.start).days > MAX_SPAN_DAYS:
            raise _bad(f"A range of at most {MAX_SPAN_DAYS} days, please.")
        for kind, values in (("station", self.stations), ("model", self.models)):
            if len(values) > MAX_VALUES:
                raise _bad(f"At most {MAX_VALUES} {kind}s in one filter.")
            if any(not v or len(v) > MAX_NAME for v in values):
                raise _bad(f"A {kind} name is 1 to {MAX_NAME} characters.")
            if any("\x00" in v for v in values):  # PostgreSQL text cannot hold one: no match
                raise _bad(f"A {kind} name cannot contain a NUL character.")
        for kind, value in (
            ("element type", self.element_type),
            ("product class", self.product_class),
        ):
            if value is not None and (not value or len(value) > MAX_NAME or "\x00" in value):
                raise _bad(f"An {kind} is 1 to {MAX_NAME} characters, without NUL.")
        for day in (self.start, self.end):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise _bad(f"Dates from {FIRST_DAY} to {LAST_DAY}, please; not {day}.")

    @classmethod
    def last_days(cls, days: int, today: date, **others: Any) -> Filters:
        """The `days` production days ending with today (today included)."""
        return cls(start=today - timedelta(days=days - 1), end=today, **others)

    def with_models(self, *models: str) -> Filters:
        return replace(self, models=tuple(models))

    def with_dates(self, start: date | None, end: date | None) -> Filters:
        """The same filters over another window (checked again: start <= end)."""
        return replace(self, start=start, end=end)

    @property
    def by_spec(self) -> bool:
        """Whether element type or product class narrows the models."""
        return self.element_type is not None or self.product_class is not None

    @property
    def since(self) -> datetime | None:
        """Lower bound on made_at (inclusive)."""
        return None if self.start is None else datetime.combine(self.start, time.min)

    @property
    def before(self) -> datetime | None:
        """Upper bound on made_at (exclusive): the day after `end` begins."""
        return None if self.end is None else datetime.combine(self.end + timedelta(1), time.min)

    def where(self, alias: str = "r", day_column: str | None = None) -> sql.Composed:
        """`WHERE ...` for these filters on a table with model and station_pk columns.

        Only the filters that are set appear, so every query is planned for the
        indexes it can use. day_column: filter that date column (rollups)
        instead of `made_at`.
        """
        table = sql.Identifier(alias)
        terms: list[sql.Composable] = [sql.SQL("TRUE")]
        if day_column is None:
            if self.since is not None:
                terms.append(sql.SQL("{}.made_at >= {}").format(table, sql.Literal(self.since)))
            if self.before is not None:
                terms.append(sql.SQL("{}.made_at < {}").format(table, sql.Literal(self.before)))
        else:
            day = sql.Identifier(alias, day_column)
            if self.start is not None:
                terms.append(sql.SQL("{} >= {}").format(day, sql.Literal(self.start)))
            if self.end is not None:
                terms.append(sql.SQL("{} <= {}").format(day, sql.Literal(self.end)))
        if len(self.models) == 1:  # `=`, not `= ANY`: an index on (model, made_at) then gives order
            terms.append(sql.SQL("{}.model = {}").format(table, sql.Literal(self.models[0])))
        elif self.models:
            terms.append(
                sql.SQL("{}.model = ANY({})").format(table, sql.Literal(list(self.models)))
            )
        if self.stations:
            terms.append(
                sql.SQL("{}.station_pk IN (SELECT id FROM stations WHERE name = ANY({}))").format(
                    table, sql.Literal(list(self.stations))
                )
            )
        if self.by_spec:
            terms.append(sql.SQL("lower({}.model) IN ({})").format(table, self.spec_names_query()))
        return sql.SQL("WHERE ") + sql.SQL(" AND ").join(terms)

    def spec_names_query(self) -> sql.Composed:
        """Every name (lower case, aliases too) of the spec rows of this element type and
        product class."""
        wanted: list[sql.Composable] = [sql.SQL("TRUE")]
        for column, value in (
            ("element_type", self.element_type),
            ("product_class", self.product_class),
        ):
            if value is not None:
                wanted.append(
                    sql.SQL("s.{} = {}").format(sql.Identifier(column), sql.Literal(value))
                )
        return sql.SQL(
            "SELECT n.name_key FROM model_spec_names n JOIN model_specs s ON s.model = n.model "
            "WHERE {}"
        ).format(sql.SQL(" AND ").join(wanted))

    @classmethod
    def from_query(cls, pairs: Iterable[tuple[str, str]]) -> Filters:
        """Filters from URL query pairs (`from`, `to`, `station`, `model`, `element`, `cls`;
        others ignored; an empty `element` or `cls` is no filter)."""
        start = end = None
        stations: list[str] = []
        models: list[str] = []
        spec: dict[str, str] = {}
        for key, raw in pairs:
            value = raw.strip()
            if key == "from" and value:
                start = _day(value, "from")
            elif key == "to" and value:
                end = _day(value, "to")
            elif key == "station" and value:
                stations.append(value)
            elif key == "model" and value:
                models.append(value)
            elif key in ("element", "cls") and value and spec.setdefault(key, value) != value:
                raise _bad(f"One '{key}' at a time, please.")
        return cls(
            start,
            end,
            tuple(dict.fromkeys(stations)),
            tuple(dict.fromkeys(models)),
            spec.get("element"),
            spec.get("cls"),
        )

    def to_query(self) -> list[tuple[str, str]]:
        """The URL query pairs that `from_query` reads back as these filters."""
        pairs = []
        if self.start:
            pairs.append(("from", self.start.isoformat()))
        if self.end:
            pairs.append(("to", self.end.isoformat()))
        pairs += [("station", s) for s in self.stations]
        pairs += [("model", m) for m in self.models]
        if self.element_type is not None:
            pairs.append(("element", self.element_type))
        if self.product_class is not None:
            pairs.append(("cls", self.product_class))
        return pairs


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(f"'{name}' must be a date as YYYY-MM-DD, not {value[:40]!r}.") from None
