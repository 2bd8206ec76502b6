"""Where to look first: models and stations ranked by what their failures cost, Pareto
charts, this week against the four before, and recommendations tied to their evidence.

Pure arithmetic (`ranking`, `weekly`, `recommendations`) over a few grouped reads of
the day rollups (`queries`), so the page costs the same on a year of a million tracks
as on a week. docs/decisions/0022-priorities.md has the definitions and thresholds.
"""
