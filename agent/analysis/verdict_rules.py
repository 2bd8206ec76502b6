"""Why a track is not a plain Pass, in words an operator understands."""

from __future__ import annotations

from agent.analysis.judgement import Judgement
from shared.model_specs import ModelSpec
from shared.models import StrictFigures, VerdictReason


def _points(n: int) -> str:
    return f"{n} point{'s' if n != 1 else ''}"


def adjustment_words(judgement: Judgement) -> str:
    """'after offset, rotation 0.31 % and 2 ignored rows' (what the station was allowed)."""
    parts = ["offset"]
    if judgement.k != 0.0:
        parts.append(f"rotation {judgement.k * 100:+.2f} %")
    left_out = int((~judgement.judged).sum())
    if left_out:
        parts.append(f"{_points(left_out)} left out")
    return ", ".join(parts)


def linearity_reason(judgement: Judgement, strict: StrictFigures) -> VerdictReason | None:
    if judgement.passes:
        return None
    message = (
        f"{_points(judgement.fails)} outside the band even after the adjustments the "
        f"{judgement.plan.policy.value} rules allow ({adjustment_words(judgement)})"
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
        low, high = spec.resistance_min, spec.resistance_max
        resistance_pass = resistance is not None and not _outside(resistance, low, high)
        if not resistance_pass:
            shown = "missing" if resistance is None else f"{resistance:,.0f} ohm"
            reasons.append(
                VerdictReason(
                    code="resistance",
                    message=f"Resistance {shown} is not within {_window_words(low, high)} ohm "
                    f"(model spec {spec.model}).",
                )
            )
    if spec is not None and spec.angle_in_verdict:
        low, high = spec.angle_window()
        angle_pass = measured_angle is not None and not _outside(measured_angle, low, high)
        if not angle_pass:
            shown = "missing" if measured_angle is None else f"{measured_angle:g}"
            reasons.append(
                VerdictReason(
                    code="angle",
                    message=f"Measured electrical angle {shown} is not within "
                    f"{_window_words(low, high)} (model spec {spec.model}).",
                )
            )
    return reasons, resistance_pass, angle_pass
