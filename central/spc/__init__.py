"""Process statistics for the central QA dashboard: capability, control charts, drift, comparison.

Everything here is a pure function over numpy arrays that returns plain frozen
dataclasses: no database, no Flask, no I/O. The dashboard's data layer fetches
the per-unit values in production order and hands them in; the pages render
what comes back. Keeping the arithmetic apart from the queries means QA can
check every definition against a hand calculation (tests/central/test_spc_*.py),
and docs/decisions/0010-spc-definitions.md lists each constant we chose.

Modules, one job each:
- `series`: what every statistic accepts, and `Unavailable` for "no answer, because".
- `special`: incomplete beta and gamma functions, the F, chi-square and normal tails.
- `capability`: Cpk / Ppk with rating and confidence interval.
- `control`: individuals and moving-range chart limits, the 8 Nelson tests.
- `drift`: tabular CUSUM and EWMA against a baseline.
- `compare`: do stations differ for one model (ANOVA, Welch, Kruskal-Wallis).
- `model`: a model's statistics from its per-unit series (which values, which spec,
  the scorecard): what the model list and a model's page show, decided once.
"""
