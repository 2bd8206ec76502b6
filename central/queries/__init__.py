"""The QA dashboard's data layer: one module per view, each a few set-based SQL queries.

Pages and the Excel export call these functions and render what they return
(frozen dataclasses); nothing here knows about Flask or HTML. Counts come
from the rollups that ingest keeps up to date (central/rollups.py); per-unit
series, distributions and searches read `results`/`tracks` through indexes
on `made_at`, always inside a time window and with a LIMIT.
docs/decisions/0012-central-aggregations.md explains the choices.

- `filters`: the date range / station / model a view is filtered by, as in the URL.
- `fleet`: every station's last contact, agent version, outbox, yield today and this week.
- `models`: per model: counts over time, SPC series, failing positions, near misses.
- `compare`: one model's sigma and linearity distributions per station.
- `units`: search units with keyset paging; one unit with its curves and re-trims.
"""
