"""The spec-aware picture of a (seeded) central database: station rules beside strict.

    python scripts/seed_quality.py --database-url URL              # any central database
    python scripts/seed_quality.py --database-url URL --seed 20000 # seed it first (empty)

Prints what /quality shows for the whole database (central/specs/quality.py):
units passing under the governing policy and strictly, and the rescued units by
rotation, excluded rows and both; then the tracks passing strictly and under the station's
rules (the real samples' spec_truth.json: 56 and 72 of 96).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from central.db import Database, migrate, open_database
from central.queries.filters import Filters
from central.seed import SeedPlan, seed
from central.specs.quality import quality, totals

_TRACKS = """
SELECT count(*),
       count(*) FILTER (WHERE (t->'strict'->>'linearity_pass')::boolean),
       count(*) FILTER (WHERE (t->>'linearity_pass')::boolean)
FROM results r, jsonb_array_elements(r.document->'tracks') t
WHERE r.status IN ('Pass', 'Warning', 'Fail')
"""


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole else "  n/a"


def report(db: Database) -> None:
    started = time.perf_counter()
    total = totals(quality(db, Filters(), grouping="model"))
    seconds = time.perf_counter() - started
    print(f"units (Pass, Warning, Fail): {total.units:,}")
    print(f"  governing (station rules) pass: {total.passed:,} ({_pct(total.passed, total.units)})")
    print(
        f"  strict pass:                    {total.strict_passed:,} "
        f"({_pct(total.strict_passed, total.units)})"
    )
    print(f"  rescued (pass, not strictly):   {total.rescued:,}")
    print(f"    rotation alone passes:        {total.by_rotation:,}")
    print(f"    excluded rows alone pass:     {total.by_excluded:,}")
    print(f"    both needed:                  {total.by_both:,}")
    print(f"  (/quality figures in {seconds:.1f} s)")
    with db.pool.connection() as conn:
        row = conn.execute(_TRACKS).fetchone()
    if row is not None and row[0]:
        tracks, strict, station = (int(v) for v in row)
        print(f"tracks: {tracks:,}; strict pass {strict:,}, station rules pass {station:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=0, help="seed this many tracks first")
    args = parser.parse_args()
    db = open_database(args.database_url, Path("unused-embedded-pg"))
    try:
        migrate(db)
        if args.seed:
            done = seed(db, SeedPlan(tracks=args.seed, stations=20, models=50, days=365))
            print(
                f"seeded {done.tracks:,} tracks in {done.seconds:.1f} s "
                f"({done.tracks_per_s:,.0f} tracks/s)"
            )
        report(db)
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
