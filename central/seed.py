"""`lta-central seed`: fill an empty database with a year of realistic results, for demos
and the dashboard benchmark.

Results are written through the ingest's own COPY (`central.ingest.copy_new`),
so every row, document, curve blob and rollup is what a station's batch would
have produced; only the HTTP, gzip and JSON layers are skipped. Everything is
drawn from numpy generators seeded by the plan, so the same plan gives the same
results (ids, metrics, curves); heartbeats and `received_at` are as of seeding time.

What is realistic about it: models with their own point counts, travel, spec
band (flat, widening towards the ends, or without limits at the end points),
one- and two-track units, one to four trim passes whose curves improve pass
by pass, re-trimmed serials, shifts and lighter weekends, stations that trim
the same model with different quality, a few station/model pairs whose sigma
drifts upwards over the last weeks, unreadable and scrap files, and the
station's own rules in every file (angle window, ignored rows; central/seed_rules.py)
with units that pass under them but not strictly. The metrics agree with the
curves: the verdict (offset, rotation, the rows left out, fail points, linearity
error, margins) is the agent's own kernel run on the arrays stored, the strict
figures beside it; the sigma gradient is drawn (the seeder does not run the
station's filter).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import numpy as np
import numpy.typing as npt

from agent.analysis.policy import Plan
from central import rollups, seed_rules
from central.db import Database
from central.ingest import Screened, copy_new
from central.seed_rules import StationRules
from central.stations import NAME_PATTERN, hash_token
from shared.band import is_near_miss
from shared.curves import pack_arrays, pack_passes
from shared.errors import ErrorCode, LtaError
from shared.ids import result_id
from shared.models import (
    ErrorInfo,
    FileResult,
    PassCurve,
    StationSpec,
    Status,
    TrackCurve,
    TrackResult,
    TrimEffectiveness,
    TrimPass,
    document_json,
    worst_status,
)
from shared.protocol import StationResult

FloatArray = npt.NDArray[np.float64]
STATION_PREFIX = "seed-line-"
AGENT_VERSION = "0.1.0"
WORK_START_S, WORK_END_S = 6 * 3600, 22 * 3600  # two shifts
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.08)
PASS_COUNTS = (1, 2, 3, 4)
PASS_SHARES = (0.78, 0.15, 0.06, 0.01)  # real files: 163 of 759 had a second pass, 48 a third
ERROR_SHARE, SKIPPED_SHARE, RETRIM_SHARE, ANOMALY_SHARE = 0.006, 0.003, 0.03, 0.003
RULES_STREAM = 15  # the stations' rules' own random stream (with the plan's seed)


class SeedError(LtaError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.SEED_INVALID, message)


@dataclass(frozen=True)
class SeedPlan:
    tracks: int
    stations: int
    models: int
    days: int
    seed: int = 1
    until: datetime | None = None  # station-local end of the window; default: now
    batch_results: int = 2000
    # The stations' names; default seed-line-01, -02, ... with made-up heartbeats (one
    # silent, one with a backlog). Named stations are real ones whose agents report
    # (`make run` gives its two stations their history): no heartbeat is made up for them,
    # so none reads silent once the seeding moment is an hour old.
    station_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        limits = (
            ("tracks", self.tracks, 1, 100_000_000),
            ("stations", self.stations, 1, 999),
            ("models", self.models, 1, 5000),
            ("days", self.days, 1, 3660),
            ("batch_results", self.batch_results, 1, 100_000),
        )
        for name, value, low, high in limits:
            if not low <= value <= high:
                raise SeedError(f"--{name} must be between {low} and {high}, not {value}.")
        if self.station_names and len(self.station_names) != self.stations:
            raise SeedError(
                f"--station-names names {len(self.station_names)} stations; --stations says "
                f"{self.stations}: give one name per station."
            )
        for name in self.station_names:
            if not NAME_PATTERN.fullmatch(name):
                raise SeedError(
                    f"Station name {name[:80]!r} is not allowed: lower-case letters, digits, "
                    "'.', '_', '-', at most 64 characters (as `lta-central station add`)."
                )


@dataclass(frozen=True)
class SeedReport:
    results: int
    tracks: int
    seconds: float
    database_bytes: int
    stations: list[str] = field(default_factory=list)

    @property
    def tracks_per_s(self) -> float:
        return self.tracks / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Model:
    name: str
    system: Literal["A", "B"]
    rotary: bool
    travel: float
    points: int
    spec: float
    band: str  # flat, bowtie, open_ends
    threshold: float
    tracks: int
    nominal_ohms: float
    fail_share: float
    tightness: float  # how far inside the band a good unit of this model stays
    weight: float
    rules: StationRules  # its station's angle window and ignored rows


@dataclass(frozen=True)
class _Pair:
    station: int
    model: int
    quality: float  # > 1: this station fails and scatters more on this model
    drift: float  # relative sigma rise over the drift window (0 for most pairs)


# ------------------------------------------------------------------ the catalogue


def _models(rng: np.random.Generator, count: int, rules_rng: np.random.Generator) -> list[_Model]:
    """The catalogue; station rules come from their own generator, so adding them left
    every model (name, band, share) of a seed as it was."""
    suffixes = ("", "-1", "-2", "-3", "-CT", "A", "-1A", "-4")
    names: list[str] = []
    while len(names) < count:
        name = f"{int(rng.integers(1000, 9999))}{suffixes[int(rng.integers(len(suffixes)))]}"
        if name not in names:
            names.append(name)
    models = []
    for rank, name in enumerate(names):
        system: Literal["A", "B"] = "A" if rng.random() < 0.7 else "B"
        rotary = rng.random() < 0.8
        travel = float(rng.uniform(280, 345)) if rotary else float(rng.uniform(0.5, 3.0))
        points = int(rng.integers(150, 600)) if system == "A" else int(rng.integers(60, 130))
        spec = float(rng.choice([0.004, 0.005, 0.008, 0.01, 0.01, 0.015, 0.02, 0.03]))
        threshold = max(1e-4, spec / (24 * max(1.0, travel / 100)))
        models.append(
            _Model(
                name=name,
                system=system,
                rotary=rotary,
                travel=travel,
                points=points,
                spec=spec,
                band=str(rng.choice(["flat", "flat", "bowtie", "open_ends"])),
                threshold=threshold,
                tracks=2 if system == "A" and rng.random() < 0.12 else 1,
                nominal_ohms=float(rng.choice([1000, 2000, 5000, 10000, 20000])),
                fail_share=float(rng.uniform(0.005, 0.07)),
                tightness=float(rng.uniform(0.45, 1.0)),
                weight=1.0 / (1 + rank) ** 0.6,  # a few models make most of the volume
                rules=seed_rules.draw_rules(rules_rng, system),
            )
        )
    return models


def _pairs(rng: np.random.Generator, stations: int, models: int) -> list[_Pair]:
    pairs = []
    for m in range(models):
        chosen = rng.choice(stations, size=min(stations, int(rng.integers(1, 5))), replace=False)
        for s in sorted(int(c) for c in chosen):
            drift = float(rng.uniform(0.4, 0.9)) if rng.random() < 0.08 else 0.0
            pairs.append(_Pair(s, m, quality=float(rng.lognormal(0, 0.25)), drift=drift))
    return pairs


def _draw_results(
    rng: np.random.Generator, tracks: int, models: list[_Model], pairs: list[_Pair]
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """Which pair makes each result and its kind draw, just enough results for `tracks`."""
    weights = np.array([models[p.model].weight for p in pairs])
    per_pair = np.array([models[p.model].tracks for p in pairs])
    size = int(tracks / per_pair.min()) + 16  # enough even if every unit had one track
    choices = rng.choice(len(pairs), size=size, p=weights / weights.sum())
    draws = rng.random(size)
    counts = np.where(draws < ERROR_SHARE + SKIPPED_SHARE, 0, per_pair[choices])
    needed = int(np.searchsorted(np.cumsum(counts), tracks)) + 1  # the last may be cut short
    return choices[:needed], draws[:needed]


def _schedule(rng: np.random.Generator, count: int, until: datetime, days: int) -> list[datetime]:
    """count production moments over the window, shifts and weekdays weighted, in order."""
    first = (until - timedelta(days=days - 1)).date()
    day_list = [first + timedelta(d) for d in range(days)]
    weights = np.array([WEEKDAY_WEIGHT[d.weekday()] for d in day_list])
    moments: list[datetime] = []
    while len(moments) < count:
        need = count - len(moments)
        picks = rng.choice(days, size=need + need // 10 + 16, p=weights / weights.sum())
        seconds = rng.uniform(WORK_START_S, WORK_END_S, size=picks.size)
        for day, second in zip(picks, seconds, strict=True):
            moment = datetime.combine(day_list[int(day)], datetime.min.time()) + timedelta(
                seconds=float(np.floor(second))
            )
            if moment <= until:
                moments.append(moment)
    return sorted(moments[:count])


# ------------------------------------------------------------------ one track


@dataclass
class _Track:
    result: TrackResult
    curve: bytes
    passes: bytes | None
    fail_bins: tuple[int, ...] | None


def _band(model: _Model, u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    half = np.full(u.size, model.spec)
    if model.band == "bowtie":
        half = model.spec * (1 + 1.5 * (2 * u - 1) ** 4)
    upper, lower = half.copy(), -half
    if model.band == "open_ends":  # no spec at the two end points of each side
        upper[[0, 1, -2, -1]] = np.nan
        lower[[0, 1, -2, -1]] = np.nan
    return half, upper, lower


def _smooth(rng: np.random.Generator, u: FloatArray, noise: float) -> FloatArray:
    f1, f2 = rng.uniform(0.5, 2.5), rng.uniform(2.5, 6.0)
    shape = np.sin(2 * np.pi * f1 * u + rng.uniform(0, 6.3)) + 0.4 * np.sin(
        2 * np.pi * f2 * u + rng.uniform(0, 6.3)
    )
    return np.asarray(shape + noise * rng.standard_normal(u.size))


def _fit_ratio(values: FloatArray, half: FloatArray, constrained: npt.NDArray[np.bool_]) -> float:
    return float(np.max(np.abs(values[constrained]) / half[constrained]))


# A track whose untrimmed curve is in its LTC1 blob: what pack_passes needs to know.
_PASS_HOLDER = TrackResult(
    track_id="TRK1",
    status=Status.PASS,
    curve=TrackCurve(positions=[], errors=[], upper=[], lower=[], untrimmed_errors=[0.0]),
)


@dataclass(frozen=True)
class _Layout:
    """What every pass of one track shares: positions, theory volts, band and station rules."""

    x: FloatArray
    upper: FloatArray
    lower: FloatArray
    theory: FloatArray
    plan: Plan


def _verdict_figures(verdict: seed_rules.Verdict) -> dict[str, Any]:
    """A sheet's figures under the station policy, with the strict ones beside (as the agent)."""
    judgement = verdict.judgement
    return {
        "optimal_offset": judgement.c,
        "linearity_error": judgement.linearity_error,
        "fail_points": judgement.fails,
        "raw_fail_points": verdict.strict.raw_fails,
        "adjustment": judgement.adjustment,
        "strict": verdict.strict.figures,
    }


def _track(
    rng: np.random.Generator,
    model: _Model,
    pair: _Pair,
    track_id: str,
    drift_factor: float,
) -> _Track:
    n = model.points
    u = np.linspace(0.0, 1.0, n)
    start = -model.travel / 2 if model.rotary else 0.0
    x = start + u * model.travel
    half, upper, lower = _band(model, u)
    constrained = ~np.isnan(upper)
    theory = seed_rules.theory_volts(rng, u)
    nominal = seed_rules.draw_nominal(rng, model.rules, model.travel)
    plan = seed_rules.plan(model.rules, model.travel, nominal)
    shifted = _smooth(rng, u, 0.04)
    # Strict failures are drawn more often than the station's, as some of them the
    # station's own rules (rotation, ignored rows) take back (seed_rules.KINDS).
    fail_share = min(0.5, model.fail_share * pair.quality) * seed_rules.STRICT_FAIL_BOOST
    fails_strictly = rng.random() < min(0.8, fail_share)
    base = float(rng.beta(2.0, 3.5)) * 0.97 * model.tightness
    if fails_strictly:
        base = float(rng.uniform(0.55, 0.95))
    shifted = shifted / _fit_ratio(shifted, half, constrained) * base
    k = 0.0
    if fails_strictly:
        kind = seed_rules.draw_kind(rng, plan.k_hi > plan.k_lo)
        shifted, k = seed_rules.shape_failure(rng, kind, shifted, half, constrained, theory, plan)
    offset = float(rng.normal(0.0, 0.15 * model.spec))
    errors = shifted - theory * k - offset
    # The verdict the station would report from these very arrays: the agent's kernel
    # under the station policy, the strict figures beside it.
    verdict = seed_rules.judge_sheet(x, errors, upper, lower, theory, plan)
    judgement = verdict.judgement
    fail_points = judgement.fails
    worst, mean, margin_at = judgement.margins(upper, lower, 2.0 * model.spec)
    margin = margin_at if judgement.passes and np.isfinite(margin_at) else None
    sigma_ratio = float(rng.lognormal(np.log(0.55 * pair.quality * drift_factor), 0.28))
    sigma_value = model.threshold * sigma_ratio
    sigma_pass = sigma_value <= model.threshold
    status = Status.FAIL if fail_points else Status.PASS if sigma_pass else Status.WARNING
    # The untrimmed measurement and the passes in between, each closer to the final curve.
    untrimmed = errors + model.spec * rng.uniform(4, 20) * (2 * u - 1 + 0.3 * _smooth(rng, u, 0.02))
    count = int(rng.choice(PASS_COUNTS, p=PASS_SHARES))
    untrimmed_ohms = model.nominal_ohms * float(rng.uniform(0.82, 0.95))
    trimmed_ohms = model.nominal_ohms * float(rng.uniform(0.985, 1.015))
    final_figures = {"sigma_gradient": sigma_value, **_verdict_figures(verdict)}
    layout = _Layout(x, upper, lower, theory, plan)
    passes, pass_curves = _passes(
        model,
        track_id,
        count,
        untrimmed,
        errors,
        layout,
        (untrimmed_ohms, trimmed_ohms),
        final_figures,
    )
    before, after = float(np.sqrt(np.mean(untrimmed**2))), float(np.sqrt(np.mean(errors**2)))
    limits_ohms = (model.nominal_ohms * 0.9, model.nominal_ohms * 1.1)
    window = model.rules.window_for(model.travel)
    track = TrackResult(
        track_id=track_id,
        status=status,
        points=n,
        sigma_gradient=sigma_value,
        sigma_threshold=model.threshold,
        sigma_pass=sigma_pass,
        optimal_offset=judgement.c,
        linearity_error=judgement.linearity_error,
        linearity_pass=judgement.passes,
        fail_points=fail_points,
        raw_fail_points=verdict.strict.raw_fails,
        linearity_spec=model.spec,
        travel_length=model.travel,
        untrimmed_resistance=untrimmed_ohms,
        trimmed_resistance=trimmed_ohms,
        max_violation=worst,
        mean_violation=mean,
        margin_to_spec=margin,
        near_miss=is_near_miss(margin),
        is_anomaly=rng.random() < ANOMALY_SHARE,
        sheet=passes[-1].sheet,
        trim=TrimEffectiveness(
            untrimmed_rms=before,
            trimmed_rms=after,
            improvement_pct=100.0 * (before - after) / before if before > 0 else None,
            resistance_change_ohms=trimmed_ohms - untrimmed_ohms,
            resistance_change_pct=100.0 * (trimmed_ohms - untrimmed_ohms) / untrimmed_ohms,
        ),
        station_spec=StationSpec(
            pot_type="rotary" if model.rotary else "linear",
            position_unit="deg" if model.rotary else "in",
            resistance_min=limits_ohms[0],
            resistance_max=limits_ohms[1],
            resistance_in_spec=limits_ohms[0] <= trimmed_ohms <= limits_ohms[1],
            angle_nominal=nominal,
            angle_min=window[0] if window else None,
            angle_max=window[1] if window else None,
            ignored_start=model.rules.ignored[0],
            ignored_end=model.rules.ignored[1],
            fails_in_ignored=seed_rules.fails_in_ignored(verdict, model.rules),
        ),
        adjustment=judgement.adjustment,
        strict=verdict.strict.figures,
        passes=passes,
    )
    le = "<f8"
    curve = pack_arrays(
        (
            x.astype(le).tobytes(),
            errors.astype(le).tobytes(),
            upper.astype(le).tobytes(),
            lower.astype(le).tobytes(),
            x.astype(le).tobytes(),
            untrimmed.astype(le).tobytes(),
            theory.astype(le).tobytes(),
        )
    )
    bins = None
    if fail_points:
        bins = rollups.bin_failing_points(
            x,
            errors,
            upper,
            lower,
            judgement.c,
            theory,
            judgement.k,
            judgement.adjustment.excluded_points,
        )
    return _Track(track, curve, pass_curves, bins)


def _passes(
    model: _Model,
    track_id: str,
    count: int,
    untrimmed: FloatArray,
    final: FloatArray,
    layout: _Layout,
    ohms: tuple[float, float],
    final_figures: dict[str, Any],
) -> tuple[list[TrimPass], bytes | None]:
    """The trim history (untrimmed, then `count` passes) and the intermediate passes' blob."""
    sheets = (
        [f"SEC1 {track_id} 0", *(f"SEC1 {track_id} {k} TRM1" for k in range(1, count + 1))]
        if model.system == "A"
        else ["test", *(f"Trim {k}" for k in range(1, count)), "Lin Error"]
    )
    entries: list[TrimPass] = []
    curves: list[TrimPass] = []
    for k, sheet in enumerate(sheets):
        fraction = 0.25**k  # how much of the untrimmed error is left after pass k
        is_final = k == count
        errors = final if is_final else final + (untrimmed - final) * fraction
        figures: dict[str, Any]
        if is_final:
            figures = final_figures
        else:
            verdict = seed_rules.judge_sheet(
                layout.x, errors, layout.upper, layout.lower, layout.theory, layout.plan
            )
            figures = {
                **_verdict_figures(verdict),
                "sigma_gradient": final_figures["sigma_gradient"] * (1 + 3 * fraction),
            }
        resistance = ohms[0] + (ohms[1] - ohms[0]) * (1 - fraction)
        entry = TrimPass(
            number=k,
            sheet=sheet,
            trim_set=1 if model.system == "A" and k > 0 else None,
            final=is_final,
            points=layout.x.size,
            resistance=resistance,
            **figures,
        )
        entries.append(entry)
        if 0 < k < count:  # the untrimmed and final curves are the track's own (LTC1)
            curve = PassCurve.model_construct(positions=layout.x.tolist(), errors=errors.tolist())
            curves.append(entry.model_copy(update={"curve": curve}))
        else:
            curves.append(entry)
    if count == 1:
        return entries, None
    # pack_passes reads only the passes and whether the untrimmed curve is stored already.
    return entries, pack_passes(_PASS_HOLDER.model_copy(update={"passes": curves}))


# ------------------------------------------------------------------ one result


@dataclass
class _Generator:
    rng: np.random.Generator
    plan: SeedPlan
    models: list[_Model]
    pairs: list[_Pair]
    stations: list[str]
    drift_from: datetime
    serials: dict[int, int] = field(default_factory=dict)
    recent: dict[int, list[str]] = field(default_factory=dict)

    def drift_factor(self, pair: _Pair, made: datetime) -> float:
        if not pair.drift or made <= self.drift_from:
            return 1.0
        window = (self.plan.until or made) - self.drift_from
        return 1.0 + pair.drift * ((made - self.drift_from) / window)

    def serial(self, model_index: int) -> str:
        recent = self.recent.setdefault(model_index, [])
        if recent and self.rng.random() < RETRIM_SHARE:
            return recent[int(self.rng.integers(len(recent)))]
        number = self.serials.get(model_index, int(self.rng.integers(1, 5000))) + 1
        self.serials[model_index] = number
        serial = f"SN{number}"
        recent.append(serial)
        del recent[:-50]
        return serial

    def result(
        self, n: int, made: datetime, pair: _Pair, draw: float, track_budget: int
    ) -> tuple[Screened, list[rollups.FailBins], int]:
        """Result number n; draw (uniform 0-1) decides unreadable / scrap / trimmed."""
        model = self.models[pair.model]
        station = self.stations[pair.station]
        serial = self.serial(pair.model)
        sha = hashlib.sha256(f"lta-seed:{self.plan.seed}:{n}".encode()).hexdigest()
        rid = result_id(station, sha)
        stamp = f"{made.month}-{made.day}-{made.year}_{made.strftime('%I-%M %p').lstrip('0')}"
        name = f"{model.name}_{serial}_TA_Test Data_{stamp}.xls"
        analysed = (made + timedelta(seconds=float(self.rng.uniform(2, 30)))).replace(tzinfo=UTC)
        tracks: list[_Track] = []
        error = None
        status: Status
        if draw < ERROR_SHARE:
            status = Status.ERROR
            error = ErrorInfo(
                code="unreadable_file",
                message=f"{name} is not a readable Excel workbook (it may still be being "
                "written, or be damaged). Save it again from the station program.",
            )
        elif draw < ERROR_SHARE + SKIPPED_SHARE:
            status = Status.SKIPPED
            name = name.replace("_TA_", "_scrap_")
            error = ErrorInfo(code="not_trim_file", message=f"{name}: scrap file, not trim data")
        else:
            factor = self.drift_factor(pair, made)
            count = min(model.tracks, track_budget)
            tracks = [_track(self.rng, model, pair, f"TRK{k + 1}", factor) for k in range(count)]
            status = worst_status([t.result.status for t in tracks])
        result = FileResult(
            path=f"D:/TrimData/{name}",
            file_name=name,
            sha256=sha,
            size_bytes=int(self.rng.integers(40_000, 400_000)),
            system=None if status in (Status.ERROR, Status.SKIPPED) else model.system,
            model=model.name,
            serial=serial,
            test_date=made,
            status=status,
            error=error,
            tracks=[t.result for t in tracks],
            analysed_at=analysed,
            agent_version=AGENT_VERSION,
        )
        item = StationResult.model_construct(
            result_id=rid,
            result=result,
            curves={t.result.track_id: t.curve for t in tracks},
            pass_curves={t.result.track_id: t.passes for t in tracks if t.passes is not None},
        )
        bins = [
            rollups.FailBins(UUID(rid), t.result.track_id, t.fail_bins)
            for t in tracks
            if t.fail_bins is not None
        ]
        return Screened(item, document_json(result)), bins, len(tracks)


# ------------------------------------------------------------------ writing


def _stations(db: Database, plan: SeedPlan) -> tuple[list[str], list[int]]:
    names = list(plan.station_names) or [
        f"{STATION_PREFIX}{k + 1:02d}" for k in range(plan.stations)
    ]
    pks = []
    with db.pool.connection() as conn:
        for name in names:  # a token nobody knows: `station revoke` + `add` issues a real one
            row = conn.execute(
                "INSERT INTO stations (name, token_hash) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
                (name, hash_token(secrets.token_urlsafe(32))),
            ).fetchone()
            assert row is not None  # noqa: S101 - RETURNING always yields the row
            pks.append(int(row[0]))
    return names, pks


def _heartbeats(db: Database, pks: list[int]) -> None:
    """A recent heartbeat per station; the last is silent for hours, one has a backlog."""
    with db.pool.connection() as conn:
        for k, pk in enumerate(pks):
            silent_s = 6 * 3600 if k == len(pks) - 1 and len(pks) > 1 else 5 + 7 * k
            pending = 240 if k == 1 else 0
            conn.execute(
                "INSERT INTO heartbeats (station_pk, received_at, sent_at, agent_version, "
                "outbox_pending, oldest_undelivered_age_s, dead_letters, last_error) VALUES "
                "(%s, now() - make_interval(secs => %s), now() - make_interval(secs => %s), "
                "%s, %s, %s, 0, %s) ON CONFLICT (station_pk) DO NOTHING",
                (
                    pk,
                    silent_s,
                    silent_s,
                    AGENT_VERSION,
                    pending,
                    1800.0 if pending else None,
                    "central unreachable" if pending else None,
                ),
            )
            conn.execute(
                "UPDATE stations SET last_seen_at = now() - make_interval(secs => %s) "
                "WHERE id = %s",
                (silent_s, pk),
            )


def _refuse_unless_empty(db: Database) -> None:
    with db.pool.connection() as conn:
        row = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM results LIMIT 1) r").fetchone()
    if row and row[0]:
        raise SeedError(
            "This database already holds results; `lta-central seed` only fills an empty "
            "database (evaluation and benchmarks), so it never mixes made-up units with real "
            "ones. Point LTA_CENTRAL_DATABASE_URL at a new, empty database."
        )


def seed(
    db: Database, plan: SeedPlan, progress: Callable[[int, int], None] | None = None
) -> SeedReport:
    """Fill an empty, migrated database as planned; progress(tracks done, planned)."""
    _refuse_unless_empty(db)
    started = time.perf_counter()
    until = plan.until or datetime.now().replace(second=0, microsecond=0)
    plan = SeedPlan(**{**plan.__dict__, "until": until})
    rng = np.random.default_rng(plan.seed)
    models = _models(rng, plan.models, np.random.default_rng([plan.seed, RULES_STREAM]))
    pairs = _pairs(rng, plan.stations, plan.models)
    names, pks = _stations(db, plan)
    choices, draws = _draw_results(rng, plan.tracks, models, pairs)
    moments = _schedule(rng, len(choices), until, plan.days)
    drift_from = until - timedelta(days=min(60, plan.days))
    generator = _Generator(rng, plan, models, pairs, names, drift_from)
    done = 0
    for first in range(0, len(choices), plan.batch_results):
        groups: dict[int, tuple[list[Screened], list[rollups.FailBins]]] = {}
        for n in range(first, min(first + plan.batch_results, len(choices))):
            pair = pairs[int(choices[n])]
            entry, bins, tracks = generator.result(
                n, moments[n], pair, float(draws[n]), plan.tracks - done
            )
            group = groups.setdefault(pair.station, ([], []))
            group[0].append(entry)
            group[1].extend(bins)
            done += tracks
        with db.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")  # a crash loses a batch, no more
            for station, (entries, bins) in sorted(groups.items()):
                copy_new(cur, entries, pks[station], AGENT_VERSION, bins)
        if progress is not None:
            progress(done, plan.tracks)
    if not plan.station_names:
        _heartbeats(db, pks)
    with db.pool.connection() as conn:
        conn.execute("ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return SeedReport(
        results=len(choices),
        tracks=done,
        seconds=time.perf_counter() - started,
        database_bytes=int(size[0]) if size else 0,
        stations=names,
    )
