"""Station comparison for one model: each station's sigma and linearity distribution.

The summary numbers (count, mean, standard deviation, percentiles for box
plots) are computed in PostgreSQL with percentile_cont over the window; the
raw values handed back for histograms and for the test of whether stations
differ (central/spc) are capped per station, most recent first, so a page
never pulls a year of tracks into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import sql

from central.db import Database
from central.queries.filters import Filters, QueryError, QueryErrorCode

PERCENTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)
DEFAULT_VALUES_CAP = 500
MAX_VALUES_CAP = 5000


@dataclass(frozen=True)
class Distribution:
    n: int  # every analysed track in the window (the percentiles are over all of them)
    mean: float | None
    sd: float | None
    minimum: float | None
    p05: float | None
    p25: float | None
    median: float | None
    p75: float | None
    p95: float | None
    maximum: float | None
    values: tuple[float, ...]  # the most recent tracks' values, at most the cap, oldest first

    @property
    def values_capped(self) -> bool:
        return len(self.values) < self.n


@dataclass(frozen=True)
class StationDistribution:
    station: str
    sigma: Distribution
    linearity: Distribution


_SUMMARY = sql.SQL(
    """
SELECT s.name,
       COUNT(t.sigma_gradient), AVG(t.sigma_gradient), STDDEV_SAMP(t.sigma_gradient),
       percentile_cont({p}) WITHIN GROUP (ORDER BY t.sigma_gradient),
       COUNT(t.linearity_error), AVG(t.linearity_error), STDDEV_SAMP(t.linearity_error),
       percentile_cont({p}) WITHIN GROUP (ORDER BY t.linearity_error)
FROM results r
JOIN tracks t ON t.result_id = r.result_id
JOIN stations s ON s.id = r.station_pk
{where} AND t.status IN ('Pass', 'Warning', 'Fail')
GROUP BY s.name
ORDER BY s.name
"""
)
_VALUES = sql.SQL(
    """
SELECT name, array_agg(sigma_gradient ORDER BY rank DESC) FILTER (WHERE sigma_gradient IS NOT NULL),
       array_agg(linearity_error ORDER BY rank DESC) FILTER (WHERE linearity_error IS NOT NULL)
FROM (
    SELECT s.name, t.sigma_gradient, t.linearity_error,
           row_number() OVER (PARTITION BY s.name ORDER BY r.made_at DESC, r.result_id DESC,
                              t.track_id DESC) AS rank
    FROM results r
    JOIN tracks t ON t.result_id = r.result_id
    JOIN stations s ON s.id = r.station_pk
    {where} AND t.status IN ('Pass', 'Warning', 'Fail')
) latest
WHERE rank <= {cap}
GROUP BY name
"""
)


def _distribution(row: tuple[Any, ...], values: list[float] | None) -> Distribution:
    n, mean, sd, quantiles = row
    q = list(quantiles) if quantiles is not None else [None] * len(PERCENTILES)
    return Distribution(
        n=int(n),
        mean=None if mean is None else float(mean),
        sd=None if sd is None else float(sd),
        minimum=q[0],
        p05=q[1],
        p25=q[2],
        median=q[3],
        p75=q[4],
        p95=q[5],
        maximum=q[6],
        values=tuple(values or ()),
    )


def station_distributions(
    db: Database, model: str, filters: Filters, values_cap: int = DEFAULT_VALUES_CAP
) -> list[StationDistribution]:
    """Per station (by name) that made the model in the window: both distributions."""
    if not 1 <= values_cap <= MAX_VALUES_CAP:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER, f"Keep 1 to {MAX_VALUES_CAP} values per station."
        )
    where = filters.with_models(model).where("r")
    percentiles = sql.Literal(list(PERCENTILES))
    with db.pool.connection() as conn:
        summary = conn.execute(_SUMMARY.format(p=percentiles, where=where)).fetchall()
        values = {
            row[0]: (row[1], row[2])
            for row in conn.execute(_VALUES.format(where=where, cap=sql.Literal(values_cap)))
        }
    found = []
    for row in summary:
        sigma_values, lin_values = values.get(row[0], (None, None))
        found.append(
            StationDistribution(
                station=row[0],
                sigma=_distribution(row[1:5], sigma_values),
                linearity=_distribution(row[5:9], lin_values),
            )
        )
    return found
