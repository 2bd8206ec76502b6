"""The four alarm rules: what counts as a silent station, a drift, a yield drop, a rule violation.

Each rule reads a few set-based queries (rollups for baselines, an index walk
for the newest units) and returns `Finding`s; central/alarms/rows.py turns them
into alarm rows. Nothing here writes. The exact definitions, constants and
the reasons for them are in docs/decisions/0013-alarms.md; in short:

- silent: an active station with no contact (results or heartbeat) for
  longer than `silent_after` (a station that never sent anything counts
  from when it was added);
- yield drop: the yield (shared/quality.py: Pass and Warning over every
  verdict) of a station's newest `yield_units` units (made in
  the recent window) is at least 5 points below its yield over the baseline
  period, and a one-sided binomial test says a drop that large is unlikely
  by chance (p < 0.001);
- drift: CUSUM or EWMA (central/spc/drift.py, k = 0.5, h = 5, lambda = 0.2,
  L = 3) on the sigma gradient of a model on a station, over its units of
  the recent window, against the baseline period's mean and sd, says
  "drifting up" at the newest unit;
- rule violation: Nelson test 1 on the individuals chart of a model on a
  station (sigma gradient or linearity error), limits from the units before
  the newest ten, fails at two or more of the newest ten units of the recent
  window.

The production day is the one the dashboard uses (results' `made_at`); the
recent window is the last `recent_days` days including today, the baseline
period the `baseline_days` days before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from central.alarms.rows import AlarmKind, Finding
from central.config import AlarmsConfig
from central.spc.control import IndividualsChart, imr_chart
from central.spc.drift import Baseline, DriftState, cusum, drift_state, ewma
from central.spc.reference import (
    MIN_REFERENCE_TRACKS,
    ReferenceSums,
    reference_baseline,
    reference_period,
)
from central.spc.series import Unavailable
from central.spc.special import regularized_beta
from shared import quality

# Yield drop
YIELD_MIN_UNITS = 20  # fewer recent units with a verdict: no judgement
YIELD_MIN_BASELINE = 100  # units with a verdict in the baseline period
YIELD_MIN_DROP_PCT = 5.0  # percentage points below the baseline, at least
YIELD_ALPHA = 0.001  # P(this few passes | baseline yield) below this
# Drift
DRIFT_MIN_BASELINE = MIN_REFERENCE_TRACKS  # sigma values in the baseline period (reference.py)
DRIFT_MIN_POINTS = 10  # recent units of the model on the station
# Rule violation (Nelson test 1)
RULE_NEWEST = 10  # the newest units tested
RULE_MIN_FAILING = 2  # of them beyond 3 sigma on one chart: one alone is too common (0013)
RULE_MIN_LIMIT_POINTS = 30  # units before them that the limits come from
SERIES_POINTS = 200  # newest units (their analysed tracks, at most this many) per pair
# The yield is shared/quality.py's: a Warning passes here as on every page.
VERDICTS = tuple(str(s) for s in quality.VERDICTS)
PASSING = tuple(str(s) for s in quality.PASSING)


@dataclass(frozen=True)
class AlarmSettings:
    """The tunable part of the rules (config section `[alarms]`, whose defaults these are)."""

    silent_after: timedelta = timedelta(minutes=AlarmsConfig.default_of("silent_after_minutes"))
    recent_days: int = AlarmsConfig.default_of("recent_days")
    baseline_days: int = AlarmsConfig.default_of("baseline_days")
    yield_units: int = AlarmsConfig.default_of("yield_units")


@dataclass(frozen=True)
class Windows:
    """The production days a rule looks at, and the made_at bounds they imply."""

    recent_from: date
    today: date
    baseline_from: date
    baseline_to: date

    @classmethod
    def of(cls, settings: AlarmSettings, today: date) -> Windows:
        recent_from = today - timedelta(days=settings.recent_days - 1)
        baseline_from, baseline_to = reference_period(recent_from, settings.baseline_days)
        return cls(recent_from, today, baseline_from, baseline_to)

    @property
    def recent_since(self) -> datetime:
        return datetime.combine(self.recent_from, time.min)

    @property
    def history_since(self) -> datetime:
        return datetime.combine(self.baseline_from, time.min)

    @property
    def until(self) -> datetime:
        """Exclusive: units dated after today (a station clock running ahead) wait."""
        return datetime.combine(self.today + timedelta(days=1), time.min)


def find_all(
    conn: psycopg.Connection, settings: AlarmSettings, now: datetime, today: date
) -> list[Finding]:
    """Every condition the four rules find now."""
    windows = Windows.of(settings, today)
    return [
        *silent_stations(conn, settings, now),
        *yield_drops(conn, settings, windows),
        *series_findings(conn, windows),
    ]


# --------------------------------------------------------------------------- silent


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def silent_stations(
    conn: psycopg.Connection, settings: AlarmSettings, now: datetime
) -> list[Finding]:
    """Active stations not heard from (results or heartbeat) for longer than silent_after."""
    rows = conn.execute(
        "SELECT s.id, GREATEST(s.last_seen_at, h.received_at), s.created_at FROM stations s "
        "LEFT JOIN heartbeats h ON h.station_pk = s.id WHERE s.revoked_at IS NULL"
    ).fetchall()
    limit = _minutes(settings.silent_after)
    found = []
    for pk, contact, created in rows:
        since = contact if contact is not None else created
        silent = now - since
        if silent <= settings.silent_after:
            continue
        if contact is None:
            detail = (
                f"Has not contacted central since it was added ({_utc(created)}), more than "
                f"{limit}: check the agent's central.url and token, and that it runs."
            )
        else:
            detail = (
                f"No results or heartbeat since {_utc(contact)} ({_minutes(silent)}; allowed "
                f"{limit}): check that the station PC and its agent run and reach central."
            )
        found.append(Finding(AlarmKind.SILENT, int(pk), "", detail))
    return found


# --------------------------------------------------------------------------- yield drop


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p): I_(1-p)(n - k, k + 1)."""
    if k >= n or p <= 0.0:
        return 1.0
    if k < 0:
        return 0.0
    if p >= 1.0:
        return 0.0
    return regularized_beta(n - k, k + 1, 1.0 - p)


_YIELD = """
WITH base AS (
    SELECT d.station_pk, SUM(d.passes + d.warnings) AS passes,
           SUM(d.passes + d.warnings + d.fails) AS n
    FROM rollup_daily d
    WHERE d.day BETWEEN %(base_from)s AND %(base_to)s
    GROUP BY d.station_pk
)
SELECT s.id, b.passes, b.n, x.passes, x.n, x.first_made
FROM stations s
JOIN base b ON b.station_pk = s.id
CROSS JOIN LATERAL (
    SELECT COUNT(*) FILTER (WHERE last.status = ANY(%(passing)s)) AS passes, COUNT(*) AS n,
           MIN(last.made_at) AS first_made
    FROM (
        SELECT r.status, r.made_at FROM results r
        WHERE r.station_pk = s.id AND r.made_at >= %(since)s AND r.made_at < %(until)s
          AND r.status = ANY(%(verdicts)s)
        ORDER BY r.made_at DESC LIMIT %(units)s
    ) last
) x
WHERE s.revoked_at IS NULL AND b.n >= %(min_base)s AND x.n >= %(min_units)s
"""


def yield_drops(
    conn: psycopg.Connection, settings: AlarmSettings, windows: Windows
) -> list[Finding]:
    """Stations whose newest units pass clearly less often than in their baseline period."""
    rows = conn.execute(
        _YIELD,
        {
            "base_from": windows.baseline_from,
            "base_to": windows.baseline_to,
            "since": windows.recent_since,
            "until": windows.until,
            "verdicts": list(VERDICTS),
            "passing": list(PASSING),
            "units": settings.yield_units,
            "min_base": YIELD_MIN_BASELINE,
            "min_units": YIELD_MIN_UNITS,
        },
    ).fetchall()
    found = []
    for pk, base_passes, base_n, passes, n, first_made in rows:
        base_yield = float(base_passes) / float(base_n)
        recent_yield = passes / n
        drop = 100.0 * (base_yield - recent_yield)
        if drop < YIELD_MIN_DROP_PCT:
            continue
        p_value = binomial_cdf(int(passes), int(n), base_yield)
        if p_value >= YIELD_ALPHA:
            continue
        detail = (
            f"Yield {100 * recent_yield:.1f} % over its newest {n} units (since "
            f"{first_made:%Y-%m-%d %H:%M}, {passes} passed) against {100 * base_yield:.1f} % "
            f"over {int(base_n):,} units from {windows.baseline_from} to {windows.baseline_to} "
            f"(P = {p_value:.1g} by chance)."
        )
        found.append(Finding(AlarmKind.YIELD_DROP, int(pk), "", detail))
    return found


# --------------------------------------------------------------------------- per model and station

_PAIRS_AND_SERIES = """
WITH pairs AS (
    SELECT d.station_pk, d.model, SUM(d.sigma_n) FILTER (WHERE d.day <= %(base_to)s) AS base_n,
           SUM(d.sigma_sum) FILTER (WHERE d.day <= %(base_to)s) AS base_sum,
           SUM(d.sigma_sumsq) FILTER (WHERE d.day <= %(base_to)s) AS base_sumsq
    FROM rollup_daily d
    JOIN stations s ON s.id = d.station_pk AND s.revoked_at IS NULL
    WHERE d.day BETWEEN %(base_from)s AND %(today)s AND d.model <> ''
    GROUP BY d.station_pk, d.model
    HAVING SUM(d.sigma_n) FILTER (WHERE d.day >= %(recent_from)s) > 0
)
SELECT p.station_pk, p.model, p.base_n, p.base_sum, p.base_sumsq,
       x.made_at, x.serial, x.sigma_gradient, x.linearity_error
FROM pairs p
CROSS JOIN LATERAL (
    SELECT r.made_at, r.serial, t.sigma_gradient, t.linearity_error
    FROM (
        -- the pair's newest units, walking results_station_model_made backwards
        SELECT r.result_id, r.made_at, r.serial FROM results r
        WHERE r.station_pk = p.station_pk AND r.model = p.model
          AND r.made_at >= %(since)s AND r.made_at < %(until)s
        ORDER BY r.made_at DESC, r.result_id DESC
        LIMIT %(points)s
    ) r
    JOIN tracks t ON t.result_id = r.result_id
    WHERE t.status = ANY(%(verdicts)s)
      AND t.sigma_gradient IS NOT NULL AND t.linearity_error IS NOT NULL
    ORDER BY r.made_at DESC, r.result_id DESC, t.track_id DESC
    LIMIT %(points)s
) x
"""


@dataclass
class PairSeries:
    """One model on one station: its newest analysed tracks, oldest first, and its baseline."""

    station_pk: int
    model: str
    base_n: int
    base_sum: float
    base_sumsq: float
    made_at: list[datetime]
    serials: list[str | None]
    sigma: list[float]
    linearity: list[float]

    def baseline(self, before: date) -> Baseline | Unavailable:
        """The sigma gradient's baseline over the period before `before` (rollup sums), as
        the model pages take it (central/spc/reference.py)."""
        return reference_baseline(
            ReferenceSums(self.base_n, self.base_sum, self.base_sumsq), before
        )


def pair_series(conn: psycopg.Connection, windows: Windows) -> list[PairSeries]:
    """Every model/station pair with analysed units in the recent window, with its series."""
    rows = conn.execute(
        _PAIRS_AND_SERIES,
        {
            "base_from": windows.baseline_from,
            "base_to": windows.baseline_to,
            "recent_from": windows.recent_from,
            "today": windows.today,
            "since": windows.history_since,
            "until": windows.until,
            "verdicts": list(VERDICTS),
            "passing": list(PASSING),
            "points": SERIES_POINTS,
        },
    ).fetchall()
    pairs: dict[tuple[int, str], PairSeries] = {}
    for pk, model, base_n, base_sum, base_sumsq, made, serial, sigma, lin in rows:
        pair = pairs.get((pk, model))
        if pair is None:
            pair = PairSeries(
                int(pk),
                model,
                int(base_n or 0),
                float(base_sum or 0),
                float(base_sumsq or 0),
                [],
                [],
                [],
                [],
            )
            pairs[(pk, model)] = pair
        pair.made_at.append(made)
        pair.serials.append(serial)
        pair.sigma.append(float(sigma))
        pair.linearity.append(float(lin))
    for pair in pairs.values():  # the query gives newest first
        for values in (pair.made_at, pair.serials, pair.sigma, pair.linearity):
            values.reverse()
    return list(pairs.values())


def series_findings(conn: psycopg.Connection, windows: Windows) -> list[Finding]:
    """Drift and rule-violation findings of every model on every station."""
    found = []
    for pair in pair_series(conn, windows):
        drift = drift_finding(pair, windows)
        if drift is not None:
            found.append(drift)
        rule = rule_finding(pair, windows)
        if rule is not None:
            found.append(rule)
    return found


def _recent_start(pair: PairSeries, windows: Windows) -> int:
    """Index of the first point made in the recent window (len when none is)."""
    since = windows.recent_since
    for index, made in enumerate(pair.made_at):
        if made >= since:
            return index
    return len(pair.made_at)


def _unit(pair: PairSeries, index: int) -> str:
    serial = pair.serials[index] or "(no serial)"
    return f"{serial} ({pair.made_at[index]:%Y-%m-%d %H:%M})"


def drift_finding(pair: PairSeries, windows: Windows) -> Finding | None:
    """Sigma gradient drifting up at the newest unit, against the baseline period."""
    baseline = pair.baseline(windows.recent_from)
    start = _recent_start(pair, windows)
    recent = pair.sigma[start:]
    if isinstance(baseline, Unavailable) or len(recent) < DRIFT_MIN_POINTS:
        return None
    sums = cusum(recent, baseline=baseline)
    smooth = ewma(recent, baseline=baseline)
    if drift_state(sums, smooth) is not DriftState.UP:
        return None
    said = []
    if not isinstance(sums, Unavailable) and sums.state is not None:
        first = sums.alarms_up[0]
        said.append(
            f"CUSUM C+ {sums.upper[-1]:.3g} > H {sums.decision_interval:.3g} "
            f"(first above H at {_unit(pair, start + first)})"
        )
    if not isinstance(smooth, Unavailable) and smooth.state is not None:
        said.append(f"EWMA {smooth.statistic[-1]:.3g} > UCL {smooth.ucl[-1]:.3g}")
    detail = (
        f"Sigma gradient drifting up over its {len(recent)} units since {windows.recent_from}: "
        f"{'; '.join(said)}. Baseline mean {baseline.mean:.3g}, sd {baseline.sd:.3g} from "
        f"{pair.base_n:,} tracks ({windows.baseline_from} to {windows.baseline_to})."
    )
    return Finding(AlarmKind.DRIFT, pair.station_pk, pair.model, detail)


def _test_1(values: Sequence[float], newest: int) -> tuple[IndividualsChart, list[int]] | None:
    chart = imr_chart(values, tests=(1,), baseline=len(values) - newest)
    if isinstance(chart, Unavailable):
        return None
    first_new = len(values) - newest
    return chart, [i for i in chart.violations.points.get(1, ()) if i >= first_new]


def rule_finding(pair: PairSeries, windows: Windows) -> Finding | None:
    """Nelson test 1 failing at 2 or more of the newest units on the sigma gradient or the
    linearity error chart."""
    start = _recent_start(pair, windows)
    newest = min(RULE_NEWEST, len(pair.sigma) - start)
    if newest <= 0 or len(pair.sigma) - newest < RULE_MIN_LIMIT_POINTS:
        return None
    said = []
    for name, values, unit in (
        ("Sigma gradient", pair.sigma, ""),
        ("Linearity error", pair.linearity, " V"),
    ):
        tested = _test_1(values, newest)
        if tested is None or len(tested[1]) < RULE_MIN_FAILING:
            continue
        chart, failing = tested
        worst = max(failing, key=lambda i: abs(values[i] - chart.limits.centre))
        side = "above the UCL" if values[worst] > chart.limits.ucl else "below the LCL"
        limit = chart.limits.ucl if values[worst] > chart.limits.ucl else chart.limits.lcl
        said.append(
            f"{name}: {len(failing)} of the newest {newest} units beyond 3 sigma, e.g. "
            f"{_unit(pair, worst)} at {values[worst]:.3g}{unit}, {side} {limit:.3g}{unit}"
        )
    if not said:
        return None
    detail = (
        f"{'; '.join(said)} (Nelson test 1; limits from the {len(pair.sigma) - newest} units "
        "before them)."
    )
    return Finding(AlarmKind.RULE_VIOLATION, pair.station_pk, pair.model, detail)


def describe(findings: Sequence[Finding]) -> dict[str, Any]:
    """Counts per kind, for the job's log line."""
    counts: dict[str, Any] = {str(kind): 0 for kind in AlarmKind}
    for finding in findings:
        counts[str(finding.kind)] += 1
    return counts
