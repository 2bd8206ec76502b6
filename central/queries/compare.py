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


# One pass over the window's tracks (materialised once): the summaries over all of
# them, the raw values of the latest `cap` per station.
_DISTRIBUTIONS = sql.SQL(
    """
WITH w AS MATERIALIZED (
    -- Values no instrument gives (|x| >= 1e100, stored before ingest refused them) stay
    -- out, as in the rollups: their squares overflow STDDEV_SAMP.
    SELECT s.name,
           CASE WHEN abs(ts.sigma_gradient) < 1e100 THEN ts.sigma_gradient END AS sigma,
           CASE WHEN abs(ts.linearity_error) < 1e100 THEN ts.linearity_error END AS lin,
           row_number() OVER (PARTITION BY s.name ORDER BY ts.made_at DESC, ts.result_id DESC,
                              ts.track_id DESC) AS rank
    FROM track_series ts
    JOIN stations s ON s.id = ts.station_pk
    {where} AND ts.status IN ('Pass', 'Warning', 'Fail')
)
SELECT name,
       COUNT(sigma), AVG(sigma), STDDEV_SAMP(sigma),
       percentile_cont({p}) WITHIN GROUP (ORDER BY sigma),
       COUNT(lin), AVG(lin), STDDEV_SAMP(lin),
       percentile_cont({p}) WITHIN GROUP (ORDER BY lin),
       array_agg(sigma ORDER BY rank DESC) FILTER (WHERE rank <= {cap} AND sigma IS NOT NULL),
       array_agg(lin ORDER BY rank DESC) FILTER (WHERE rank <= {cap} AND lin IS NOT NULL)
FROM w
GROUP BY name
ORDER BY name
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
    query = _DISTRIBUTIONS.format(
        where=filters.with_models(model).where("ts"),
        p=sql.Literal(list(PERCENTILES)),
        cap=sql.Literal(values_cap),
    )
    with db.pool.connection() as conn:
        rows = conn.execute(query).fetchall()
    return [
        StationDistribution(
            station=row[0],
            sigma=_distribution(row[1:5], row[9]),
            linearity=_distribution(row[5:9], row[10]),
        )
        for row in rows
    ]
