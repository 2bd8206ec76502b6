"""What the rollup tables hold, named once for the side that writes them and the side that reads.

The write side (central/rollups.py, fed by ingest and the seed) and the read
side (central/queries/, the pages) must agree on these: a bin count that
differs between them draws a chart of the wrong width, a count column in a
different order puts passes where fails belong. Migration 004 creates the
tables with the same figures (its CHECKs say 20 bins).
"""

from __future__ import annotations

FAIL_BINS = 20  # equal parts of the travel per failing track (rollup_fail_bins.bin 1..20)

# rollup_daily's status counts, in the order central.queries.counts.StatusCounts takes them.
COUNT_NAMES = (
    *("results", "passes", "warnings", "fails", "errors", "skipped", "tracks", "near_misses"),
    "anomalies",
)
# rollup_daily's other sums: the moments the model pages' means and sds come from.
MOMENT_NAMES = (
    *("fail_points", "sigma_n", "sigma_sum", "sigma_sumsq", "lin_n", "lin_sum"),
    *("lin_sumsq", "ratio_sum", "ratio_sumsq"),
)
