"""The spec-aware picture of quality: what the governing policy passes beside the strict
rule, first-pass beside final yield, and which adjustment rescued how many units.

Per unit (result), from the stored document: it passes under the governing
policy when its status passes (shared/quality.py, the yield everywhere:
Pass and Warning over Pass, Warning and Fail; Errors are not units); it passes
strictly when, in addition, every track's `strict` block passes (results from
before spec-aware verdicts have none: their verdict was the strict one). A
unit is rescued when it passes but not strictly; whether rotation alone or
the excluded rows alone would pass it, or it needs both, is judged again from
its curves (central/specs/rescue.py).

Per serial (model and serial; a unit without a serial is its own): first-pass
yield is the share whose first result in the window passes (shared/quality.py:
a unit that needed a re-trim is not first-pass), final yield the share whose
last result passes. A serial counts for the station of its last result.

Element type and product class come from the spec table (the model or an
alias), so they filter and group like any column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from central.db import Database
from central.queries.filters import Filters
from shared import quality as definitions

MAX_GROUPS = 2000
MAX_RESCUED = 5000  # rescued units judged again per page view (each costs a few kernel runs)
GROUPINGS = {
    "model_station": ("model", "station"),
    "element_type": ("element_type",),
    "product_class": ("product_class",),
    "model": ("model",),
    "station": ("station",),
}

_UNITS = """
WITH units AS (
  SELECT r.result_id, r.model, st.name AS station,
         COALESCE(r.serial, r.result_id::text) AS serial, r.made_at, r.status,
         s.element_type, s.product_class,
         COALESCE((SELECT bool_and(COALESCE((t->'strict'->>'linearity_pass')::boolean,
                                             (t->>'linearity_pass')::boolean, false))
                   FROM jsonb_array_elements(r.document->'tracks') t), true) AS strict_pass
  FROM results r
  JOIN stations st ON st.id = r.station_pk
  LEFT JOIN model_spec_names n ON n.name_key = lower(r.model)
  LEFT JOIN model_specs s ON s.model = n.model
  {where} AND r.status = ANY({verdicts}){extra}
), judged AS (
  SELECT *, status = ANY({passing}) AS passed,
         status = ANY({passing}) AND strict_pass AS strict_passed,
         first_value(status = ANY({passing})) OVER (PARTITION BY lower(model), serial
                            ORDER BY made_at, result_id) AS first_passed,
         row_number() OVER (PARTITION BY lower(model), serial ORDER BY made_at DESC,
                            result_id DESC) AS newest
  FROM units
)
SELECT {keys},
  count(*) AS units,
  count(*) FILTER (WHERE passed) AS passed,
  count(*) FILTER (WHERE strict_passed) AS strict_passed,
  count(*) FILTER (WHERE newest = 1) AS serials,
  count(*) FILTER (WHERE newest = 1 AND first_passed) AS first_pass,
  count(*) FILTER (WHERE newest = 1 AND passed) AS final_pass
FROM judged
GROUP BY {keys}
ORDER BY count(*) DESC, {keys}
LIMIT {limit}
"""
# The rescued units (passed, not strictly) with their group keys, tracks and curves.
_RESCUED_TAIL = """
SELECT {keys}, j.result_id, r.document -> 'tracks',
       array_agg(t.track_id ORDER BY t.track_id), array_agg(t.curve ORDER BY t.track_id)
FROM judged j JOIN results r ON r.result_id = j.result_id
JOIN tracks t ON t.result_id = j.result_id
WHERE j.passed AND NOT j.strict_passed
GROUP BY {keys}, j.result_id, r.document
LIMIT {limit}
"""


@dataclass(frozen=True)
class QualityRow:
    keys: dict[str, str | None]
    units: int
    passed: int
    strict_passed: int
    serials: int
    first_pass: int
    final_pass: int
    by_rotation: int = 0  # rescued units that rotation alone passes
    by_excluded: int = 0  # ... that the excluded rows alone pass
    by_both: int = 0  # ... that need both
    unjudged: int = 0  # rescued units without a stored curve

    @staticmethod
    def _pct(part: int, whole: int) -> float | None:
        return definitions.percent(part, whole)

    @property
    def pass_pct(self) -> float | None:
        return self._pct(self.passed, self.units)

    @property
    def strict_pct(self) -> float | None:
        return self._pct(self.strict_passed, self.units)

    @property
    def rescued(self) -> int:
        return self.passed - self.strict_passed

    @property
    def first_pass_pct(self) -> float | None:
        return definitions.first_pass_yield_pct(self.first_pass, self.serials)

    @property
    def final_pct(self) -> float | None:
        return self._pct(self.final_pass, self.serials)


def _spec_terms(element_type: str | None, product_class: str | None) -> list[sql.Composable]:
    terms: list[sql.Composable] = []
    if element_type:
        terms.append(sql.SQL("s.element_type = {}").format(sql.Literal(element_type)))
    if product_class:
        terms.append(sql.SQL("s.product_class = {}").format(sql.Literal(product_class)))
    return terms


def _statuses() -> dict[str, sql.Composable]:
    """The verdict and passing statuses of shared/quality.py, as SQL array literals."""
    return {
        "verdicts": sql.Literal([str(s) for s in definitions.VERDICTS]),
        "passing": sql.Literal([str(s) for s in definitions.PASSING]),
    }


def quality(
    db: Database,
    filters: Filters,
    grouping: str = "model_station",
    element_type: str | None = None,
    product_class: str | None = None,
) -> list[QualityRow]:
    """One row per group of `grouping` (GROUPINGS) under the filters."""
    keys = GROUPINGS[grouping]
    extra = _spec_terms(element_type, product_class)
    query = sql.SQL(_UNITS).format(
        where=filters.where("r"),
        extra=sql.SQL("").join(sql.SQL(" AND ") + term for term in extra),
        keys=sql.SQL(", ").join(sql.Identifier(k) for k in keys),
        limit=sql.Literal(MAX_GROUPS),
        **_statuses(),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
        head, _, _ = _UNITS.partition("SELECT {keys},\n  count(*) AS units")
        rescued_query = sql.SQL(head + _RESCUED_TAIL).format(
            where=filters.where("r"),
            extra=sql.SQL("").join(sql.SQL(" AND ") + term for term in extra),
            keys=sql.SQL(", ").join(sql.Identifier("j", k) for k in keys),
            limit=sql.Literal(MAX_RESCUED),
            **_statuses(),
        )
        rescued = conn.execute(rescued_query).fetchall()
    kinds = _rescue_counts(rescued, len(keys))
    out = []
    for row in rows:
        values: list[Any] = list(row)
        key = tuple(values[: len(keys)])
        counts = kinds.get(key, {})
        out.append(
            QualityRow(
                {k: values[i] for i, k in enumerate(keys)},
                *(int(v) for v in values[len(keys) :]),
                **counts,
            )
        )
    return out


def _rescue_counts(
    rows: list[tuple[Any, ...]], width: int
) -> dict[tuple[Any, ...], dict[str, int]]:
    from central.specs.rescue import rescued_by

    counts: dict[tuple[Any, ...], dict[str, int]] = {}
    for row in rows:
        key = tuple(row[:width])
        documents, track_ids, curves = row[width + 1], row[width + 2], row[width + 3]
        by_id = {d.get("track_id"): d for d in (documents or [])}
        found = rescued_by([(by_id.get(t, {}), c) for t, c in zip(track_ids, curves, strict=True)])
        group = counts.setdefault(
            key, {"by_rotation": 0, "by_excluded": 0, "by_both": 0, "unjudged": 0}
        )
        if found is None:
            group["unjudged"] += 1
            continue
        rotation, excluded = found
        group["by_rotation"] += rotation
        group["by_excluded"] += excluded
        group["by_both"] += not (rotation or excluded)
    return counts


def totals(rows: list[QualityRow]) -> QualityRow:
    """The sum of the rows (each unit and serial is in exactly one group)."""
    fields = (
        "units",
        "passed",
        "strict_passed",
        "by_rotation",
        "by_excluded",
        "by_both",
        "serials",
        "first_pass",
        "final_pass",
    )
    sums = {f: sum(getattr(r, f) for r in rows) for f in fields}
    return QualityRow({}, **sums)
