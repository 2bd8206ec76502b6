"""Alarms on the fleet overview: what the rules find, how it is stored, and the job that runs them.

- `rules`: the four conditions (silent station, yield drop, drift, rule
  violation) as set-based queries; each returns findings.
- `rows`: the alarm rows: findings become episodes (opened, kept, cleared),
  acknowledgement with a cause and a note, audited.
- `job`: evaluates every rule once a minute under an advisory lock, one
  instance at a time.

docs/decisions/0013-alarms.md has the rules and their thresholds.
"""
