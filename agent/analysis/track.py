"""One track from parsed arrays to a verdict: the only place the kernels are combined."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agent.analysis import linearity, shape, sigma
from agent.analysis.filtering import butter_lowpass
from agent.analysis.station_spec import station_spec
from agent.parsing.layout import SheetData, TrackData
from agent.parsing.sanity import check_sheet
from shared.analysis_settings import ModelOverride
from shared.errors import ErrorCode, InputFileError, NoteCode
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
NEAR_MISS_MARGIN_PCT = 20.0

# Designed once per process by the same compiled kernel the tests check against scipy.
_FILTER_B, _FILTER_A = butter_lowpass(sigma.FILTER_ORDER, sigma.FILTER_CUTOFF)


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _curve_limits(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _trim_effectiveness(
    untrimmed: SheetData | None, trimmed: SheetData
) -> TrimEffectiveness | None:
    if untrimmed is None or untrimmed.errors.size == 0:
        return None
    before = float(shape.rms(untrimmed.errors))
    after = float(shape.rms(trimmed.errors))
    change = pct = None
    if untrimmed.resistance is not None and trimmed.resistance is not None:
        change = trimmed.resistance - untrimmed.resistance
        pct = 100.0 * change / untrimmed.resistance if untrimmed.resistance else None
    return TrimEffectiveness(
        untrimmed_rms=before,
        trimmed_rms=after,
        improvement_pct=100.0 * (before - after) / before if before > 0 else None,
        resistance_change_ohms=change,
        resistance_change_pct=pct,
    )


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


def _pass_figures(sheet: SheetData) -> dict[str, Any]:
    """One pass's own figures against its own sheet's limits (never a verdict)."""
    if sheet.positions.size < MIN_POINTS:
        message = f"{sheet.sheet}: {sheet.positions.size} usable point(s), under {MIN_POINTS}."
        return {"error": ErrorInfo(code=ErrorCode.INSUFFICIENT_POINTS, message=message)}
    try:
        check_sheet(sheet, sheet.sheet)
    except InputFileError as exc:
        return {"error": ErrorInfo(code=exc.code, message=exc.message)}
    errors, upper, lower = sheet.errors, sheet.upper, sheet.lower
    offset = float(linearity.optimal_offset(errors, upper, lower))
    return {
        "sigma_gradient": float(
            sigma.sigma_gradient_with(sheet.positions, errors, _FILTER_B, _FILTER_A)
        ),
        "optimal_offset": offset,
        "linearity_error": float(linearity.max_abs_shifted(errors, offset)),
        "fail_points": int(linearity.count_failures(errors, upper, lower, offset)),
        "raw_fail_points": int(linearity.count_failures(errors, upper, lower, 0.0)),
    }


def _passes(
    track: TrackData, include_curve: bool, final_figures: dict[str, Any] | None = None
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
                fields.update(_pass_figures(sheet))
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
    track: TrackData, override: ModelOverride | None = None, include_curve: bool = True
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
    return _verdict(track, sheet, override, include_curve, notes)


def _verdict(
    track: TrackData,
    sheet: SheetData,
    override: ModelOverride | None,
    include_curve: bool,
    notes: list[Note],
) -> TrackResult:
    positions, errors = sheet.positions, sheet.errors
    upper, lower = sheet.upper, sheet.lower
    has_limits = bool(np.isfinite(upper).any() or np.isfinite(lower).any())
    spec = float(shape.linearity_spec(upper, lower))
    if override is not None and override.linearity_spec is not None:
        spec = override.linearity_spec
        if not has_limits:
            upper = np.full_like(errors, spec)
            lower = np.full_like(errors, -spec)
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
    if override is not None and override.sigma_threshold is not None:
        threshold = override.sigma_threshold
    else:
        threshold = float(sigma.sigma_threshold(spec, travel))
    sigma_value = float(sigma.sigma_gradient_with(positions, errors, _FILTER_B, _FILTER_A))
    offset = float(linearity.optimal_offset(errors, upper, lower))
    fails = int(linearity.count_failures(errors, upper, lower, offset))
    raw_fails = int(linearity.count_failures(errors, upper, lower, 0.0))
    worst, mean, margin = linearity.band_margins(errors, upper, lower, offset, 2.0 * spec)
    linearity_pass = fails == 0
    sigma_pass = sigma_value <= threshold
    if not linearity_pass:
        status = Status.FAIL
    elif not sigma_pass:
        status = Status.WARNING
    else:
        status = Status.PASS
    margin_pct = _optional(margin) if linearity_pass else None
    untrimmed_only = track.trimmed is None
    fail_mask = linearity.failure_mask(errors, upper, lower, offset)
    linearity_error = float(linearity.max_abs_shifted(errors, offset))
    final_figures = {
        "sigma_gradient": sigma_value,
        "optimal_offset": offset,
        "linearity_error": linearity_error,
        "fail_points": fails,
        "raw_fail_points": raw_fails,
    }
    return TrackResult(
        track_id=track.track_id,
        status=status,
        points=int(positions.size),
        sigma_gradient=sigma_value,
        sigma_threshold=threshold,
        sigma_pass=sigma_pass,
        optimal_offset=offset,
        linearity_error=linearity_error,
        linearity_pass=linearity_pass,
        fail_points=fails,
        raw_fail_points=raw_fails,
        linearity_spec=spec,
        travel_length=travel,
        untrimmed_resistance=track.untrimmed.resistance if track.untrimmed else None,
        trimmed_resistance=None if untrimmed_only else sheet.resistance,
        max_violation=float(worst),
        mean_violation=float(mean),
        margin_to_spec=margin_pct,
        near_miss=margin_pct is not None and margin_pct < NEAR_MISS_MARGIN_PCT,
        is_anomaly=bool(shape.is_anomaly(positions, errors, threshold)),
        untrimmed_only=untrimmed_only,
        sheet=sheet.sheet,
        trim=None if untrimmed_only else _trim_effectiveness(track.untrimmed, sheet),
        station_spec=station_spec(
            track.facts, None if untrimmed_only else sheet.resistance, fail_mask
        ),
        passes=_passes(track, include_curve, final_figures),
        notes=notes,
        curve=_curve(track, sheet, upper, lower) if include_curve else None,
    )


def _curve(track: TrackData, sheet: SheetData, upper: np.ndarray, lower: np.ndarray) -> TrackCurve:
    untrimmed = track.untrimmed if track.untrimmed is not sheet else None
    return TrackCurve(
        positions=sheet.positions.tolist(),
        errors=sheet.errors.tolist(),
        upper=_curve_limits(upper),
        lower=_curve_limits(lower),
        untrimmed_positions=untrimmed.positions.tolist() if untrimmed else None,
        untrimmed_errors=untrimmed.errors.tolist() if untrimmed else None,
    )
