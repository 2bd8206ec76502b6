"""Known day-rollup rows for the priorities tests: the page reads only the rollups, the
alarm table and the costs, so a test writes exactly the sums it then expects to see.

Rows go into the real tables of a migrated PostgreSQL, with the columns and order
central/rollup_columns.py names (the same the ingest writes); stations are
registered the way `lta-central station add` registers them.
"""

from __future__ import annotations

from datetime import date

from central.db import Database
from central.rollup_columns import COUNT_NAMES, FAIL_BINS, MOMENT_NAMES
from central.stations import add_station


def station_pk(db: Database, name: str) -> int:
    """The station's id, registering it the first time."""
    with db.pool.connection() as conn:
        row = conn.execute("SELECT id FROM stations WHERE name = %s", (name,)).fetchone()
    if row is None:
        add_station(db, name)
        return station_pk(db, name)
    return int(row[0])


def day_row(
    db: Database,
    station: str,
    model: str,
    day: date,
    *,
    passes: int = 0,
    warnings: int = 0,
    fails: int = 0,
    errors: int = 0,
    sigma: float | None = None,
) -> None:
    """One rollup_daily row: one track per unit, every unit's sigma gradient `sigma`."""
    results = passes + warnings + fails + errors
    analysed = passes + warnings + fails
    sigma_n = analysed if sigma is not None else 0
    value = sigma or 0.0
    counts = {
        "results": results,
        "passes": passes,
        "warnings": warnings,
        "fails": fails,
        "errors": errors,
        "skipped": 0,
        "tracks": results,
        "near_misses": 0,
        "anomalies": 0,
    }
    moments = {
        "fail_points": fails * 5,
        "sigma_n": sigma_n,
        "sigma_sum": sigma_n * value,
        "sigma_sumsq": sigma_n * value * value,
        "lin_n": 0,
        "lin_sum": 0.0,
        "lin_sumsq": 0.0,
        "ratio_sum": 0.0,
        "ratio_sumsq": 0.0,
    }
    columns = ["station_pk", "model", "day", *COUNT_NAMES, *MOMENT_NAMES]
    values = [station_pk(db, station), model, day, *(counts[c] for c in COUNT_NAMES)]
    values += [moments[c] for c in MOMENT_NAMES]
    with db.pool.connection() as conn:
        conn.execute(
            f"INSERT INTO rollup_daily ({', '.join(columns)}) "  # noqa: S608 - our column names
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )


def bin_rows(db: Database, station: str, model: str, day: date, points: dict[int, int]) -> None:
    """rollup_fail_bins rows: failing points per bin (1..20), one track per point."""
    assert all(1 <= b <= FAIL_BINS for b in points)
    pk = station_pk(db, station)
    with db.pool.connection() as conn:
        for number, n in points.items():
            conn.execute(
                "INSERT INTO rollup_fail_bins (station_pk, model, day, bin, points, tracks) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (pk, model, day, number, n, n),
            )
