"""Learned sigma thresholds: central proposes one per model from the fleet's history, QA
decides, and only an accepted value reaches stations (as the spec's sigma_threshold).

Method (docs/decisions/0020-central-model-specs.md): over the model's recent
tracks that passed linearity, the sigma gradient is positive and right-skewed,
so it is taken on a log scale and the threshold is a robust upper limit there:

    threshold = exp(median(ln s) + K * 1.4826 * MAD(ln s)),  K = 3

(1.4826 * MAD estimates the standard deviation of a normal sample and,
unlike it, is not pulled up by the very units the threshold should catch).
Fewer than MIN_SAMPLES such tracks: no proposal. Beside it QA sees the
warning rate now (each track against the threshold it was judged by) and
with the proposal, and, where the fleet knows it, how the proposal separates
units that later failed from units that later passed (a later result of the
same model and serial: a re-trim's verdict).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from central.auth import audit
from central.auth.audit import Action, Actor
from central.db import Database
from central.specs import store
from central.specs.files import name_key
from shared.errors import ErrorCode, LtaError

MIN_SAMPLES = 30
K = 3.0
MAD_TO_SIGMA = 1.4826
MAX_TRACKS = 5000
METHOD = (
    f"exp(median(ln s) + {K:g} x {MAD_TO_SIGMA} x MAD(ln s)) over the sigma gradients s of "
    f"the model's last {MAX_TRACKS} tracks that passed linearity (at least {MIN_SAMPLES})"
)
NOT_SET = "threshold not yet set for this model"


class SigmaDecisionError(LtaError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.CONFIG_INVALID, message)


@dataclass(frozen=True)
class Separation:
    """How the proposal tells apart units that later failed from units that later passed."""

    later_failed: int
    later_passed: int
    warned_failed_pct: float  # of the units that later failed, % the proposal warns
    warned_passed_pct: float
    auc: float  # P(sigma of a later-failed unit > sigma of a later-passed one)


@dataclass
class Figures:
    model: str
    samples: int  # tracks that passed linearity with a sigma gradient
    proposed: float | None = None
    median: float | None = None
    mad: float | None = None
    warn_now_pct: float | None = None
    warn_with_pct: float | None = None
    formula_low: float | None = None  # the range of thresholds the tracks were judged by
    formula_high: float | None = None
    separation: Separation | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def enough(self) -> bool:
        return self.proposed is not None


def _rows(db: Database, names: list[str]) -> list[tuple[Any, ...]]:
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT t.sigma_gradient, t.sigma_threshold, t.linearity_pass, r.serial, "
            "r.analysed_at, r.status FROM results r JOIN tracks t ON t.result_id = r.result_id "
            "WHERE lower(r.model) = ANY(%s) AND t.sigma_gradient > 0 AND r.status <> 'Error' "
            "ORDER BY r.analysed_at DESC LIMIT %s",
            ([name_key(n) for n in names], MAX_TRACKS),
        ).fetchall()


def learned_threshold(sigmas: np.ndarray) -> tuple[float, float, float]:
    """(threshold, median of ln s, MAD of ln s) of positive sigma gradients."""
    logs = np.log(sigmas)
    median = float(np.median(logs))
    mad = float(np.median(np.abs(logs - median)))
    return math.exp(median + K * MAD_TO_SIGMA * mad), median, mad


def _auc(failed: np.ndarray, passed: np.ndarray) -> float:
    """Mann-Whitney: the share of (failed, passed) pairs where the failed unit's sigma is higher."""
    wins = 0.0
    for value in failed:
        wins += float(np.sum(passed < value)) + 0.5 * float(np.sum(passed == value))
    return wins / (failed.size * passed.size)


def _separation(rows: list[tuple[Any, ...]], threshold: float) -> Separation | None:
    """Units with a later result of the same serial: did that later result fail?"""
    by_serial: dict[str, list[tuple[datetime, float, str]]] = {}
    for sigma_value, _thr, _lin, serial, at, status in rows:
        if serial:
            by_serial.setdefault(str(serial), []).append((at, float(sigma_value), str(status)))
    failed: list[float] = []
    passed: list[float] = []
    for history in by_serial.values():
        history.sort()
        for (_, value, _), (_, _, later) in itertools.pairwise(history):
            (failed if later == "Fail" else passed).append(value)
    if not failed or not passed:
        return None
    f, p = np.array(failed), np.array(passed)
    return Separation(
        later_failed=f.size,
        later_passed=p.size,
        warned_failed_pct=100.0 * float(np.mean(f > threshold)),
        warned_passed_pct=100.0 * float(np.mean(p > threshold)),
        auc=_auc(f, p),
    )


def figures(db: Database, model: str, names: list[str]) -> Figures:
    rows = _rows(db, names)
    good = [r for r in rows if r[2] is True]
    out = Figures(model=model, samples=len(good))
    if len(good) < MIN_SAMPLES:
        return out
    sigmas = np.array([float(r[0]) for r in good])
    judged_by = np.array([float(r[1]) if r[1] is not None else np.inf for r in good])
    proposed, median, mad = learned_threshold(sigmas)
    out.proposed, out.median, out.mad = proposed, median, mad
    out.warn_now_pct = 100.0 * float(np.mean(sigmas > judged_by))
    out.warn_with_pct = 100.0 * float(np.mean(sigmas > proposed))
    finite = judged_by[np.isfinite(judged_by)]
    if finite.size:
        out.formula_low, out.formula_high = float(finite.min()), float(finite.max())
    out.separation = _separation(rows, proposed)
    out.inputs = {
        "samples": len(good),
        "tracks_read": len(rows),
        "median_ln_sigma": median,
        "mad_ln_sigma": mad,
        "k": K,
        "sigma_min": float(sigmas.min()),
        "sigma_max": float(sigmas.max()),
        "warn_now_pct": out.warn_now_pct,
        "warn_with_pct": out.warn_with_pct,
    }
    return out


@dataclass(frozen=True)
class Decision:
    id: int
    proposed: float
    state: str
    decided_value: float | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None


def decisions(db: Database, model: str, limit: int = 20) -> list[Decision]:
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, proposed, state, decided_value, decided_by, decided_at, decision_note "
            "FROM sigma_proposals WHERE model = %s ORDER BY id DESC LIMIT %s",
            (model, limit),
        ).fetchall()
    return [Decision(*r) for r in rows]


def decide(
    db: Database,
    stored: store.StoredSpec,
    found: Figures,
    accept: bool,
    value: float | None,
    actor: Actor,
    note: str = "",
) -> store.SaveReport | None:
    """Record QA's decision on the proposal; an accepted value (edited or not) becomes the
    model's approved sigma threshold through the spec store (versioned and audited)."""
    if found.proposed is None:
        raise SigmaDecisionError(
            f"No proposal for {stored.spec.model}: fewer than {MIN_SAMPLES} tracks passed "
            "linearity."
        )
    chosen = found.proposed if value is None else value
    if accept and not (math.isfinite(chosen) and chosen > 0):
        raise SigmaDecisionError("The threshold must be a number above 0.")
    note = " ".join(note.split())[:300]
    report = None
    if accept:
        edited = (
            ""
            if value is None or value == found.proposed
            else f" (edited from {found.proposed:.6g})"
        )
        reason = f"learned sigma threshold {chosen:.6g} accepted{edited}" + (
            f": {note}" if note else ""
        )
        spec = stored.spec.model_copy(update={"sigma_threshold": chosen})
        report = store.save_specs(db, [spec], actor, reason, Action.SIGMA_DECISION)
    with db.pool.connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO sigma_proposals (model, proposed, method, inputs, state, decided_value, "
            "decided_by, decided_at, decision_note) VALUES (%s, %s, %s, %s, %s, %s, %s, now(), %s)",
            (
                stored.spec.model,
                found.proposed,
                METHOD,
                Jsonb(found.inputs),
                "accepted" if accept else "rejected",
                chosen if accept else None,
                actor.name[:200],
                note or None,
            ),
        )
        if not accept:
            audit.record_in(
                conn,
                actor,
                Action.SIGMA_DECISION,
                stored.spec.model,
                f"learned sigma threshold {found.proposed:.6g} rejected"
                + (f": {note}" if note else ""),
            )
    return report


def threshold_state(db: Database, stored: store.StoredSpec) -> dict[str, Any]:
    """What the model page says about its sigma threshold."""
    approved = stored.spec.sigma_threshold
    return {
        "approved": approved,
        "text": f"approved threshold {approved:.6g}" if approved is not None else NOT_SET,
        "decisions": decisions(db, stored.spec.model, limit=5),
    }
