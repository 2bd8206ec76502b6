"""Element type and product class from the spec table: checking a filter, grouping models.

QA's spec table (central/specs) gives each model an element type and a product
class. The dashboard's pages filter by them (Filters.element_type /
product_class narrow every query as the model filter does) and /models groups
its rows by them. A value comes from a URL, so it is checked against the
values the table holds: an unknown one is a 400 that names the known values,
never an empty page that looks like "no production".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from central.db import Database
from central.queries.counts import StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.queries.models import ModelSummary

NOT_IN_TABLE = None  # the group of models without a spec row (or without that field)
SHOWN_KNOWN = 12  # known values named in a refusal


@dataclass(frozen=True)
class SpecClasses:
    """Each spec name (lower case, aliases too) with its model's element type and class."""

    by_name: dict[str, tuple[str | None, str | None]]
    element_types: list[str]
    product_classes: list[str]

    def of(self, model: str | None) -> tuple[str | None, str | None]:
        return self.by_name.get((model or "").lower(), (None, None))

    def matches(self, model: str | None, filters: Filters) -> bool:
        """Whether a model passes the filters' element type and product class (as SQL does)."""
        kind, cls = self.of(model)
        return (filters.element_type is None or kind == filters.element_type) and (
            filters.product_class is None or cls == filters.product_class
        )


def spec_classes(db: Database) -> SpecClasses:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT n.name_key, s.element_type, s.product_class FROM model_spec_names n "
            "JOIN model_specs s ON s.model = n.model"
        ).fetchall()
    by_name = {str(name): (kind, cls) for name, kind, cls in rows}
    kinds = sorted({k for k, _ in by_name.values() if k is not None})
    classes = sorted({c for _, c in by_name.values() if c is not None})
    return SpecClasses(by_name, kinds, classes)


def _refuse(kind: str, value: str, known: list[str]) -> QueryError:
    shown = ", ".join(known[:SHOWN_KNOWN]) + (" ..." if len(known) > SHOWN_KNOWN else "")
    hint = f"Known: {shown}." if known else "The spec table gives none yet (see /specs)."
    return QueryError(
        QueryErrorCode.INVALID_FILTER,
        f"No model in the spec table has the {kind} {value[:64]!r}. {hint}",
    )


def check(filters: Filters, classes: SpecClasses) -> None:
    """QueryError (a 400 page) when a filter names a value the spec table does not hold."""
    if filters.element_type is not None and filters.element_type not in classes.element_types:
        raise _refuse("element type", filters.element_type, classes.element_types)
    if filters.product_class is not None and filters.product_class not in classes.product_classes:
        raise _refuse("product class", filters.product_class, classes.product_classes)


@dataclass(frozen=True)
class SpecGroup:
    """One element type or product class on /models: its models' counts added up."""

    value: str | None  # None: models the spec table does not classify
    models: int
    counts: StatusCounts


def breakdown(summaries: Iterable[ModelSummary], classes: SpecClasses, by: str) -> list[SpecGroup]:
    """The summaries grouped by `element_type` or `product_class`, most units first."""
    index = 0 if by == "element_type" else 1
    sums: dict[str | None, tuple[int, StatusCounts]] = {}
    for summary in summaries:
        key = classes.of(summary.model)[index]
        models, counts = sums.get(key, (0, StatusCounts()))
        sums[key] = (models + 1, counts + summary.counts)
    groups = [SpecGroup(value, n, counts) for value, (n, counts) in sums.items()]
    return sorted(groups, key=lambda g: (g.value is None, -g.counts.results, g.value or ""))
