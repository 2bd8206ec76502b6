"""Why a track is not a plain Pass, in words an operator understands."""

from __future__ import annotations

from typing import Literal

from agent.analysis.judgement import Judgement
from shared.charts.track_words import left_out_words, rotation_words
from shared.model_specs import ModelSpec
from shared.models import StrictFigures, VerdictReason


def _points(n: int) -> str:
    return f"{n} point{'s' if n != 1 else ''}"


def _allowed_words(judgement: Judgement) -> str:
    """'offset, rotated +0.31 %, 1 + 1 end rows left out': the chart legend's own phrases."""
    rotation = rotation_words(judgement.adjustment)
    parts = ["offset", rotation.split(" (")[0] if rotation else None]
    parts.append(left_out_words(judgement.adjustment))
    return ", ".join(part for part in parts if part)


def linearity_reason(judgement: Judgement, strict: StrictFigures) -> VerdictReason | None:
    if judgement.passes:
        return None
    message = (
        f"{_points(judgement.fails)} outside the band even after the adjustments the "
        f"{judgement.plan.policy.value} rules allow ({_allowed_words(judgement)})"
    )
    if strict.fail_points != judgement.fails:
        message += f"; strict: {_points(strict.fail_points)} outside"
    return VerdictReason(code="linearity", message=message + ".")


def sigma_reason(value: float, threshold: float) -> VerdictReason:
    return VerdictReason(
        code="sigma",
        message=f"Sigma gradient {value:.4g} is above the threshold {threshold:.4g} "
        "(trim quality).",
    )


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)


def _window_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def extra_reasons(
    spec: ModelSpec | None, resistance: float | None, measured_angle: float | None
) -> tuple[list[VerdictReason], bool | None, bool | None]:
    """Resistance and measured angle, when the model spec puts them in the verdict.

    Returns the reasons and (resistance_pass, angle_pass); None where the spec
    does not judge it. A value the file does not hold fails the check: the
    spec asks for it and nothing shows it is inside.
    """
    reasons: list[VerdictReason] = []
    resistance_pass = angle_pass = None
    if spec is not None and spec.resistance_in_verdict:
        shown = "missing" if resistance is None else f"{resistance:,.0f} ohm"
        low, high = spec.resistance_min, spec.resistance_max
        resistance_pass = _inside_or_reason(
            reasons, "resistance", "Resistance", resistance, shown, (low, high, " ohm"), spec
        )
    if spec is not None and spec.angle_in_verdict:
        shown = "missing" if measured_angle is None else f"{measured_angle:g}"
        low, high = spec.angle_window()
        angle_pass = _inside_or_reason(
            reasons,
            "angle",
            "Measured electrical angle",
            measured_angle,
            shown,
            (low, high, ""),
            spec,
        )
    return reasons, resistance_pass, angle_pass


def _inside_or_reason(
    reasons: list[VerdictReason],
    code: Literal["resistance", "angle"],
    what: str,
    value: float | None,
    shown: str,
    window: tuple[float | None, float | None, str],
    spec: ModelSpec,
) -> bool:
    """Whether value is within the spec's window; if not, the reason is added."""
    low, high, unit = window
    inside = value is not None and not _outside(value, low, high)
    if not inside:
        reasons.append(
            VerdictReason(
                code=code,
                message=f"{what} {shown} is not within {_window_words(low, high)}{unit} "
                f"(model spec {spec.model}).",
            )
        )
    return inside
