"""One track from parsed arrays to a verdict: the only place the kernels are combined."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agent.analysis import shape, sigma
from agent.analysis.filtering import butter_lowpass
from agent.analysis.judgement import judge, strict_figures
from agent.analysis.policy import Plan, plan_for
from agent.analysis.station_spec import station_spec
from agent.analysis.verdict_rules import extra_reasons, linearity_reason, sigma_reason
from agent.parsing.layout import SheetData, TrackData
from agent.parsing.sanity import check_sheet
from shared.analysis_settings import ModelOverride
from shared.band import is_near_miss
from shared.errors import ErrorCode, InputFileError, NoteCode
from shared.model_specs import ModelSpec
from shared.models import (
    ErrorInfo,
    Note,
    PassCurve,
    Status,
    TrackCurve,
    TrackResult,
    TrimEffectiveness,
    TrimPass,
)

MIN_POINTS = 10

# Designed once per process by the same compiled kernel the tests check against scipy.
_FILTER_B, _FILTER_A = butter_lowpass(sigma.FILTER_ORDER, sigma.FILTER_CUTOFF)


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# A margin is a percentage of the band width: a millionth of a percent is far below any
# meaning, and rounding there keeps float noise (18.93950000000022, -0.0) out of every
# page, export and API that shows it.
MARGIN_DECIMALS = 6


def _percent(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), MARGIN_DECIMALS) + 0.0


def _curve_limits(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _trim_effectiveness(
    untrimmed: SheetData | None, trimmed: SheetData
) -> TrimEffectiveness | None:
    if untrimmed is None or untrimmed.errors.size == 0:
        return None
    before = float(shape.rms(untrimmed.errors))
    after = float(shape.rms(trimmed.errors))
    if not (math.isfinite(before) and math.isfinite(after)):
        return None  # errors so large that their squares overflow: a corrupt sheet, no figure
    change = pct = None
    if untrimmed.resistance is not None and trimmed.resistance is not None:
        change = _finite(trimmed.resistance - untrimmed.resistance)
        if change is not None and untrimmed.resistance:
            pct = _finite(100.0 * change / untrimmed.resistance)
    return TrimEffectiveness(
        untrimmed_rms=before,
        trimmed_rms=after,
        improvement_pct=_finite(100.0 * (before - after) / before) if before > 0 else None,
        resistance_change_ohms=change,
        resistance_change_pct=pct,
    )


def _finite(value: float) -> float | None:
    """The value, or None where finite inputs overflowed (1e308 - -1e308)."""
    return value if math.isfinite(value) else None


def _error_result(
    track: TrackData, code: str, message: str, notes: list[Note], include_curve: bool = False
) -> TrackResult:
    sheet = track.final
    return TrackResult(
        track_id=track.track_id,
        status=Status.ERROR,
        error=ErrorInfo(code=code, message=message),
        points=0 if sheet is None else int(sheet.positions.size),
        untrimmed_only=track.trimmed is None and track.untrimmed is not None,
        sheet=None if sheet is None else sheet.sheet,
        passes=_passes(track, include_curve),
        notes=notes,
    )


def _pass_plan(track: TrackData, sheet: SheetData, spec: ModelSpec | None) -> Plan:
    """A sheet's allowed adjustment: its own nominal angle, the track's window and ignored rows."""
    facts = track.facts
    nominal = sheet.angle_nominal if sheet.angle_nominal is not None else facts.angle_nominal
    return plan_for(
        spec, nominal, facts.angle_min, facts.angle_max, facts.ignored_start, facts.ignored_end
    )


def _pass_figures(sheet: SheetData, plan: Plan) -> dict[str, Any]:
    """One pass's own figures against its own sheet's limits (never a verdict)."""
    if sheet.positions.size < MIN_POINTS:
        message = f"{sheet.sheet}: {sheet.positions.size} usable point(s), under {MIN_POINTS}."
        return {"error": ErrorInfo(code=ErrorCode.INSUFFICIENT_POINTS, message=message)}
    try:
        check_sheet(sheet, sheet.sheet)
    except InputFileError as exc:
        return {"error": ErrorInfo(code=exc.code, message=exc.message)}
    errors, upper, lower = sheet.errors, sheet.upper, sheet.lower
    verdict = judge(sheet, upper, lower, plan)
    strict = strict_figures(sheet, upper, lower)
    return {
        "sigma_gradient": float(
            sigma.sigma_gradient_with(sheet.positions, errors, _FILTER_B, _FILTER_A)
        ),
        "optimal_offset": verdict.c,
        "linearity_error": verdict.linearity_error,
        "fail_points": verdict.fails,
        "raw_fail_points": strict.raw_fails,
        "adjustment": verdict.adjustment,
        "strict": strict.figures,
    }


def _passes(
    track: TrackData,
    include_curve: bool,
    final_figures: dict[str, Any] | None = None,
    spec: ModelSpec | None = None,
) -> list[TrimPass]:
    """The trim history, untrimmed first; the last entry is the data of the verdict.

    The final pass carries the track's own figures (`final_figures`), so the
    table and the verdict can never disagree.
    """
    passes = []
    last = len(track.passes) - 1
    for index, entry in enumerate(track.passes):
        fields: dict[str, Any] = {"error": entry.error}
        sheet = entry.data
        if sheet is not None:
            fields["points"] = int(sheet.positions.size)
            fields["resistance"] = sheet.resistance
            if include_curve:
                fields["curve"] = PassCurve(
                    positions=sheet.positions.tolist(), errors=sheet.errors.tolist()
                )
            if index == last and final_figures is not None:
                fields.update(final_figures)
            else:
                fields.update(_pass_figures(sheet, _pass_plan(track, sheet, spec)))
        passes.append(
            TrimPass(
                number=entry.number,
                sheet=entry.sheet,
                trim_set=entry.trim_set,
                final=index == last,
                **fields,
            )
        )
    return passes


def analyse_track(
    track: TrackData,
    override: ModelOverride | None = None,
    include_curve: bool = True,
    spec: ModelSpec | None = None,
) -> TrackResult:
    """Verdict and metrics of one track (DOMAIN.md, "Analysis of one track")."""
    notes = list(track.notes)
    if track.error is not None:
        return _error_result(track, track.error.code, track.error.message, notes)
    sheet = track.final
    if sheet is None:
        return _error_result(
            track, ErrorCode.NO_DATA, f"{track.track_id} has no data sheet.", notes
        )
    notes.extend(sheet.notes)
    if track.untrimmed is not None and track.untrimmed is not sheet:
        notes.extend(track.untrimmed.notes)
    if sheet.positions.size < MIN_POINTS:
        return _error_result(
            track,
            ErrorCode.INSUFFICIENT_POINTS,
            f"{track.track_id} has {sheet.positions.size} usable point(s); at least "
            f"{MIN_POINTS} are needed for a verdict.",
            notes,
            include_curve,
        )
    try:
        notes.extend(check_sheet(sheet, f"{track.track_id} ({sheet.sheet})"))
    except InputFileError as exc:
        return _error_result(track, exc.code, exc.message, notes, include_curve)
    return _verdict(track, sheet, override, include_curve, notes, spec)


def _verdict(
    track: TrackData,
    sheet: SheetData,
    override: ModelOverride | None,
    include_curve: bool,
    notes: list[Note],
    spec: ModelSpec | None,
) -> TrackResult:
    positions, errors = sheet.positions, sheet.errors
    upper, lower = sheet.upper, sheet.lower
    has_limits = bool(np.isfinite(upper).any() or np.isfinite(lower).any())
    spec_width = float(shape.linearity_spec(upper, lower))
    flat_band = spec.linearity_spec if spec and spec.linearity_spec else None
    if override is not None and override.linearity_spec is not None:
        flat_band = override.linearity_spec
    if flat_band is not None:
        spec_width = flat_band
        if not has_limits:
            upper = np.full_like(errors, flat_band)
            lower = np.full_like(errors, -flat_band)
            has_limits = True
    if not has_limits:
        notes.append(
            Note(
                code=NoteCode.NO_LIMITS,
                message=f"{track.track_id}: no spec limits in the file; linearity cannot "
                "fail. Configure a linearity_spec for this model.",
            )
        )
    travel = float(positions.max() - positions.min())
    threshold = _sigma_threshold(spec, override, spec_width, travel)
    sigma_value = float(sigma.sigma_gradient_with(positions, errors, _FILTER_B, _FILTER_A))
    plan = _pass_plan(track, sheet, spec)
    verdict = judge(sheet, upper, lower, plan)
    notes.extend(verdict.notes(track.track_id))
    strict = strict_figures(sheet, upper, lower)
    raw_fails = strict.raw_fails
    worst, mean, margin = verdict.margins(upper, lower, 2.0 * spec_width)
    untrimmed_only = track.trimmed is None
    trimmed_resistance = None if untrimmed_only else sheet.resistance
    sigma_pass = sigma_value <= threshold
    reasons = [r for r in (linearity_reason(verdict, strict.figures),) if r is not None]
    extra, resistance_pass, angle_pass = extra_reasons(
        spec, trimmed_resistance, track.facts.angle_measured
    )
    reasons += extra
    if reasons:
        status = Status.FAIL
    elif not sigma_pass:
        status = Status.WARNING
    else:
        status = Status.PASS
    if not sigma_pass:
        reasons.append(sigma_reason(sigma_value, threshold))
    margin_pct = _percent(margin) if verdict.passes else None
    final_figures = {
        "sigma_gradient": sigma_value,
        "optimal_offset": verdict.c,
        "linearity_error": verdict.linearity_error,
        "fail_points": verdict.fails,
        "raw_fail_points": raw_fails,
        "adjustment": verdict.adjustment,
        "strict": strict.figures,
    }
    return TrackResult(
        track_id=track.track_id,
        status=status,
        points=int(positions.size),
        sigma_gradient=sigma_value,
        sigma_threshold=threshold,
        sigma_pass=sigma_pass,
        optimal_offset=verdict.c,
        linearity_error=verdict.linearity_error,
        linearity_pass=verdict.passes,
        fail_points=verdict.fails,
        raw_fail_points=raw_fails,
        linearity_spec=spec_width,
        travel_length=travel,
        untrimmed_resistance=track.untrimmed.resistance if track.untrimmed else None,
        trimmed_resistance=trimmed_resistance,
        max_violation=float(worst),
        mean_violation=float(mean),
        margin_to_spec=margin_pct,
        near_miss=is_near_miss(margin_pct),
        is_anomaly=_is_anomaly(track, sheet, threshold),
        untrimmed_only=untrimmed_only,
        sheet=sheet.sheet,
        trim=None if untrimmed_only else _trim_effectiveness(track.untrimmed, sheet),
        station_spec=station_spec(track.facts, trimmed_resistance, strict.outside),
        adjustment=verdict.adjustment,
        strict=strict.figures,
        resistance_pass=resistance_pass,
        angle_pass=angle_pass,
        reasons=reasons,
        passes=_passes(track, include_curve, final_figures, spec),
        notes=notes,
        curve=_curve(track, sheet, upper, lower) if include_curve else None,
    )


def _is_anomaly(track: TrackData, sheet: SheetData, threshold: float) -> bool:
    """Whether the laser probably never trimmed: the final curve and the trim history agree.

    Without trim passes (an untrimmed-only file) the final data is the untrimmed
    sheet and the straight-line test alone decides; with them, the untrimmed
    curve tells whether the trim changed anything (shape.is_untrimmed_anomaly).
    """
    untrimmed = track.untrimmed if track.untrimmed is not sheet else None
    if untrimmed is None:
        return bool(shape.is_anomaly(sheet.positions, sheet.errors, threshold))
    return bool(
        shape.is_untrimmed_anomaly(
            sheet.positions, sheet.errors, threshold, untrimmed.positions, untrimmed.errors
        )
    )


def _sigma_threshold(
    spec: ModelSpec | None, override: ModelOverride | None, spec_width: float, travel: float
) -> float:
    """QA's approved threshold, else the agent config's, else the formula (DOMAIN.md)."""
    if spec is not None and spec.sigma_threshold is not None:
        return spec.sigma_threshold
    if override is not None and override.sigma_threshold is not None:
        return override.sigma_threshold
    return float(sigma.sigma_threshold(spec_width, travel))


def _curve(track: TrackData, sheet: SheetData, upper: np.ndarray, lower: np.ndarray) -> TrackCurve:
    untrimmed = track.untrimmed if track.untrimmed is not sheet else None
    return TrackCurve(
        positions=sheet.positions.tolist(),
        errors=sheet.errors.tolist(),
        theory=sheet.theory.tolist() if sheet.theory is not None else None,
        upper=_curve_limits(upper),
        lower=_curve_limits(lower),
        untrimmed_positions=untrimmed.positions.tolist() if untrimmed else None,
        untrimmed_errors=untrimmed.errors.tolist() if untrimmed else None,
    )
