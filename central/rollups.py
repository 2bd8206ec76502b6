"""Keep the dashboard's rollups up to date as results arrive, in the ingest's own transaction.

`record` runs inside the transaction that COPYs a batch's new results and
tracks (central/ingest.py), so a batch and its rollups commit together or not
at all. It is handed only the results that were really inserted (duplicates
were filtered out before the COPY), so a resent batch never counts twice.
The rollup arithmetic is set-based `INSERT ... SELECT` statements over the
new rows (`... ON CONFLICT DO UPDATE` adding to the day rows, and one copying
the tracks' metrics into `track_series`, the model-and-time ordered table the
charts read); the same SELECTs without the filter rebuild everything from
scratch (`rebuild`, and the tests compare the two).

The one thing SQL cannot do is look inside a curve blob, so where a failing
track's points lie along the travel (20 bins) is computed here, per failing
track, from the curve the station sent, and stored in `track_fail_bins`.
docs/decisions/0012-central-aggregations.md has the design.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

from central.rollup_columns import COUNT_NAMES, FAIL_BINS, MOMENT_NAMES
from shared import band
from shared.curves import unpack_arrays
from shared.protocol import StationResult

_DAILY_KEYS = ("station_pk", "model", "day")
_DAILY_SUMS = (*COUNT_NAMES, *MOMENT_NAMES)
_BIN_KEYS = ("station_pk", "model", "day", "bin")
_BIN_SUMS = ("points", "tracks")

# {where} filters `results r`; nothing else varies between the incremental and full paths.
_DAILY_SELECT = """
WITH r AS (
    SELECT r.result_id, r.station_pk, COALESCE(r.model, '') AS model,
           r.made_at::date AS day, r.status
    FROM results r {where}
), per_result AS (
    SELECT station_pk, model, day, COUNT(*) AS results,
           COUNT(*) FILTER (WHERE status = 'Pass') AS passes,
           COUNT(*) FILTER (WHERE status = 'Warning') AS warnings,
           COUNT(*) FILTER (WHERE status = 'Fail') AS fails,
           COUNT(*) FILTER (WHERE status = 'Error') AS errors,
           COUNT(*) FILTER (WHERE status = 'Skipped') AS skipped
    FROM r GROUP BY station_pk, model, day
), t AS (
    -- Values no instrument gives (|x| >= 1e100) are counted as tracks but kept out of
    -- the sums, whose squares would overflow and refuse the whole batch.
    SELECT r.station_pk, r.model, r.day, t.near_miss, t.is_anomaly,
           CASE WHEN t.status IN ('Pass', 'Warning', 'Fail') THEN t.fail_points END AS fails,
           CASE WHEN abs(t.sigma_gradient) < 1e100 THEN t.sigma_gradient END AS sigma,
           CASE WHEN abs(t.linearity_error) < 1e100 AND t.linearity_spec > 1e-100
                     AND abs(t.linearity_error) < 1e100 * t.linearity_spec
                THEN t.linearity_error END AS lin,
           CASE WHEN abs(t.linearity_error) < 1e100 AND t.linearity_spec > 1e-100
                     AND abs(t.linearity_error) < 1e100 * t.linearity_spec
                THEN t.linearity_error / t.linearity_spec END AS ratio
    FROM r JOIN tracks t ON t.result_id = r.result_id
), per_track AS (
    SELECT station_pk, model, day, COUNT(*) AS tracks,
           COUNT(*) FILTER (WHERE near_miss) AS near_misses,
           COUNT(*) FILTER (WHERE is_anomaly) AS anomalies,
           COALESCE(SUM(fails), 0) AS fail_points,
           COUNT(sigma) AS sigma_n,
           COALESCE(SUM(sigma), 0) AS sigma_sum,
           COALESCE(SUM(sigma * sigma), 0) AS sigma_sumsq,
           COUNT(lin) AS lin_n,
           COALESCE(SUM(lin), 0) AS lin_sum,
           COALESCE(SUM(lin * lin), 0) AS lin_sumsq,
           COALESCE(SUM(ratio), 0) AS ratio_sum,
           COALESCE(SUM(ratio * ratio), 0) AS ratio_sumsq
    FROM t GROUP BY station_pk, model, day
)
SELECT p.station_pk, p.model, p.day, p.results, p.passes, p.warnings, p.fails, p.errors,
       p.skipped, COALESCE(t.tracks, 0), COALESCE(t.near_misses, 0), COALESCE(t.anomalies, 0),
       COALESCE(t.fail_points, 0), COALESCE(t.sigma_n, 0), COALESCE(t.sigma_sum, 0),
       COALESCE(t.sigma_sumsq, 0), COALESCE(t.lin_n, 0), COALESCE(t.lin_sum, 0),
       COALESCE(t.lin_sumsq, 0), COALESCE(t.ratio_sum, 0), COALESCE(t.ratio_sumsq, 0)
FROM per_result p
LEFT JOIN per_track t ON t.station_pk = p.station_pk AND t.model = p.model AND t.day = p.day
"""

_BINS_SELECT = """
SELECT r.station_pk, COALESCE(r.model, '') AS model, r.made_at::date AS day,
       b.bin::smallint AS bin, SUM(b.n) AS points, COUNT(*) AS tracks
FROM results r
JOIN track_fail_bins f ON f.result_id = r.result_id
CROSS JOIN LATERAL unnest(f.bins) WITH ORDINALITY AS b(n, bin)
{where} {conjunction} b.n > 0
GROUP BY r.station_pk, COALESCE(r.model, ''), r.made_at::date, b.bin
"""

# track_series (migration 006): the per-track metrics in model and time order.
_SERIES_COLUMNS = (
    *("model", "made_at", "result_id", "track_id", "station_pk", "serial", "status"),
    *("sigma_gradient", "sigma_threshold", "linearity_error", "linearity_spec", "untrimmed"),
)
# `untrimmed` is shared.quality.untrimmed_or_aborted, written in SQL (a test holds them equal).
_SERIES_SELECT = """
SELECT COALESCE(r.model, ''), r.made_at, r.result_id, t.track_id, r.station_pk, r.serial,
       t.status, t.sigma_gradient, t.sigma_threshold, t.linearity_error, t.linearity_spec,
       t.untrimmed_only OR t.is_anomaly
FROM results r JOIN tracks t ON t.result_id = r.result_id {where}
"""

_NEW_ONLY = sql.SQL("WHERE r.result_id = ANY(%(ids)s::uuid[])")


def _columns(names: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _upsert(
    table: str, keys: Sequence[str], sums: Sequence[str], select: sql.Composable
) -> sql.Composed:
    """INSERT the SELECT's rows; a key already present gets the new counts and sums added."""
    added = sql.SQL(", ").join(
        sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c), t=sql.Identifier(table))
        for c in sums
    )
    return sql.SQL(
        "INSERT INTO {t} ({cols}) {select} ON CONFLICT ({keys}) DO UPDATE SET {added}"
    ).format(
        t=sql.Identifier(table),
        cols=_columns([*keys, *sums]),
        select=select,
        keys=_columns(keys),
        added=added,
    )


def _series(where: sql.Composable) -> sql.Composed:
    return sql.SQL("INSERT INTO track_series ({}) {}").format(
        _columns(_SERIES_COLUMNS), sql.SQL(_SERIES_SELECT).format(where=where)
    )


def _daily(where: sql.Composable) -> sql.Composed:
    return sql.SQL(_DAILY_SELECT).format(where=where)


def _bins(where: sql.Composable | None) -> sql.Composed:
    if where is None:
        return sql.SQL(_BINS_SELECT).format(where=sql.SQL(""), conjunction=sql.SQL("WHERE"))
    return sql.SQL(_BINS_SELECT).format(where=where, conjunction=sql.SQL("AND"))


@dataclass(frozen=True)
class FailBins:
    """Where one failing track's points lie: counts per twentieth of the travel."""

    result_id: UUID
    track_id: str
    bins: tuple[int, ...]


FloatArray = npt.NDArray[np.float64]


def bin_failing_points(
    positions: FloatArray,
    errors: FloatArray,
    upper: FloatArray,
    lower: FloatArray,
    offset: float,
    theory: FloatArray | None = None,
    k: float = 0.0,
    excluded_points: Sequence[int] | None = None,
) -> tuple[int, ...] | None:
    """Counts of points outside their band after the adjustment, per twentieth of the travel.

    The rule is the verdict's own (shared/band.py): offset, rotation k with
    the theory volts, excluded points never failing. None when nothing fails
    or the travel has no length.
    """
    n = min(len(positions), len(errors), len(upper), len(lower))
    if theory is not None:
        n = min(n, len(theory))
    x = positions[:n]
    excluded = band.excluded_mask(n, excluded_points)
    rotation = theory[:n] if theory is not None else None
    outside = band.outside_mask(errors[:n], upper[:n], lower[:n], offset, rotation, k, excluded)
    finite_x = x[np.isfinite(x)]
    if not outside.any() or finite_x.size < 2:
        return None
    start, end = float(finite_x.min()), float(finite_x.max())
    travel = end - start  # Python floats: inf, not a warning, when beyond float range
    failing = x[outside & np.isfinite(x)]
    if not np.isfinite(travel) or travel <= 0 or failing.size == 0:
        return None
    index = np.minimum(((failing - start) / travel * FAIL_BINS).astype(np.intp), FAIL_BINS - 1)
    return tuple(int(v) for v in np.bincount(index, minlength=FAIL_BINS))


def fail_bins_of(items: Iterable[StationResult]) -> list[FailBins]:
    """The fail-position bins of every failing track of these results that has a curve."""
    found: list[FailBins] = []
    for item in items:
        for track in item.result.tracks:
            blob = item.curves.get(track.track_id)
            if not track.fail_points or blob is None or track.optimal_offset is None:
                continue
            positions, errors, upper, lower, *rest = unpack_arrays(blob)
            if positions is None or errors is None or upper is None or lower is None:
                continue  # unpack_arrays refuses such a blob; this only narrows the types
            theory = rest[2] if len(rest) > 2 else None
            adjustment = track.adjustment
            bins = bin_failing_points(
                positions,
                errors,
                upper,
                lower,
                track.optimal_offset,
                theory,
                adjustment.k if adjustment is not None else 0.0,
                adjustment.excluded_points if adjustment is not None else None,
            )
            if bins is not None:
                found.append(FailBins(UUID(item.result_id), track.track_id, bins))
    return found


def record(
    cur: psycopg.Cursor[Any], result_ids: Sequence[UUID], fail_bins: Sequence[FailBins]
) -> None:
    """Add just-inserted results (and their failing tracks' bins) to every rollup.

    Call it once per result, in the transaction that inserted it: the ingest
    passes only the ids its COPY wrote, never a duplicate.
    """
    if not result_ids:
        return
    if fail_bins:
        with cur.copy("COPY track_fail_bins (result_id, track_id, bins) FROM STDIN") as copy:
            for entry in fail_bins:
                copy.write_row((entry.result_id, entry.track_id, list(entry.bins)))
    ids = {"ids": list(result_ids)}
    cur.execute(_series(_NEW_ONLY), ids)
    cur.execute(_upsert("rollup_daily", _DAILY_KEYS, _DAILY_SUMS, _daily(_NEW_ONLY)), ids)
    if fail_bins:
        cur.execute(_upsert("rollup_fail_bins", _BIN_KEYS, _BIN_SUMS, _bins(_NEW_ONLY)), ids)


# A rollup key: (station_pk, model or '', production day).
Key = tuple[int, str, Any]

_KEY_ROWS = sql.SQL(
    "unnest(%(key_station)s::int8[], %(key_model)s::text[], %(key_day)s::date[]) "
    "AS k(station_pk, model, day)"
)
_IN_KEYS = sql.SQL(
    "WHERE EXISTS (SELECT 1 FROM {keys} WHERE r.station_pk = k.station_pk "
    "AND COALESCE(r.model, '') = k.model AND r.made_at >= k.day AND r.made_at < k.day + 1)"
).format(keys=_KEY_ROWS)


def keys_of(cur: psycopg.Cursor[Any], result_ids: Sequence[UUID]) -> list[Key]:
    """The rollup keys these stored results count in."""
    cur.execute(
        "SELECT DISTINCT station_pk, COALESCE(model, ''), made_at::date FROM results "
        "WHERE result_id = ANY(%s)",
        (list(result_ids),),
    )
    return [(int(row[0]), str(row[1]), row[2]) for row in cur.fetchall()]


def refresh(cur: psycopg.Cursor[Any], result_ids: Sequence[UUID], old_keys: Sequence[Key]) -> None:
    """Recompute the rollup rows of the keys replaced results counted in and their new
    revisions count in (central/revisions.py), from the stored rows: exactly what a
    rebuild gives them, however the revision moved a unit (another day, another model).

    One station's keys only (its ingest holds the station's lock), a few days of one
    or two models: a handful of index ranges, not a rebuild.
    """
    keys = sorted(set(old_keys) | set(keys_of(cur, result_ids)))
    if not keys:
        return
    params = {
        "key_station": [k[0] for k in keys],
        "key_model": [k[1] for k in keys],
        "key_day": [k[2] for k in keys],
    }
    for table in ("rollup_daily", "rollup_fail_bins"):
        cur.execute(
            sql.SQL(
                "DELETE FROM {t} d USING {keys} WHERE d.station_pk = k.station_pk "
                "AND d.model = k.model AND d.day = k.day"
            ).format(t=sql.Identifier(table), keys=_KEY_ROWS),
            params,
        )
    cur.execute(
        sql.SQL("INSERT INTO rollup_daily ({}) {}").format(
            _columns([*_DAILY_KEYS, *_DAILY_SUMS]), _daily(_IN_KEYS)
        ),
        params,
    )
    cur.execute(
        sql.SQL("INSERT INTO rollup_fail_bins ({}) {}").format(
            _columns([*_BIN_KEYS, *_BIN_SUMS]), _bins(_IN_KEYS)
        ),
        params,
    )


def rebuild(conn: psycopg.Connection[Any]) -> None:
    """Recompute every rollup from the stored rows (after a repair or a retention purge).

    `track_fail_bins` is kept: it is a per-track fact computed from the curves,
    not a sum. Takes a lock that makes concurrent ingests wait until it commits.
    """
    with conn.transaction():
        conn.execute("LOCK TABLE rollup_daily, rollup_fail_bins, track_series IN EXCLUSIVE MODE")
        conn.execute("DELETE FROM rollup_daily")
        conn.execute("DELETE FROM rollup_fail_bins")
        conn.execute("DELETE FROM track_series")
        conn.execute(_series(sql.SQL("")))
        conn.execute(
            sql.SQL("INSERT INTO rollup_daily ({}) {}").format(
                _columns([*_DAILY_KEYS, *_DAILY_SUMS]), _daily(sql.SQL(""))
            )
        )
        conn.execute(
            sql.SQL("INSERT INTO rollup_fail_bins ({}) {}").format(
                _columns([*_BIN_KEYS, *_BIN_SUMS]), _bins(None)
            )
        )


Rows = list[tuple[Any, ...]]


def recomputed(conn: psycopg.Connection[Any]) -> tuple[Rows, Rows]:
    """What the rollups would hold if rebuilt now (daily rows, bin rows), sorted: for checks."""
    daily = conn.execute(
        sql.SQL("SELECT * FROM ({}) d ORDER BY 1, 2, 3").format(_daily(sql.SQL("")))
    )
    bins = conn.execute(sql.SQL("SELECT * FROM ({}) b ORDER BY 1, 2, 3, 4").format(_bins(None)))
    return daily.fetchall(), bins.fetchall()


def stored(conn: psycopg.Connection[Any]) -> tuple[Rows, Rows]:
    """What the rollups hold (daily rows, bin rows), in the order of `recomputed`."""
    daily = conn.execute(
        sql.SQL("SELECT {} FROM rollup_daily ORDER BY 1, 2, 3").format(
            _columns([*_DAILY_KEYS, *_DAILY_SUMS])
        )
    )
    bins = conn.execute(
        sql.SQL("SELECT {} FROM rollup_fail_bins ORDER BY 1, 2, 3, 4").format(
            _columns([*_BIN_KEYS, *_BIN_SUMS])
        )
    )
    return daily.fetchall(), bins.fetchall()


def series_drift(conn: psycopg.Connection[Any]) -> int:
    """Rows by which track_series differs from its recomputation (missing or extra): 0 in step."""
    select = sql.SQL(_SERIES_SELECT).format(where=sql.SQL(""))
    kept = sql.SQL("SELECT {} FROM track_series").format(_columns(_SERIES_COLUMNS))
    query = sql.SQL(
        "SELECT (SELECT COUNT(*) FROM ({a} EXCEPT ALL {b}) x) "
        "+ (SELECT COUNT(*) FROM ({b} EXCEPT ALL {a}) y)"
    ).format(a=select, b=kept)
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
