"""Why a statistic refused its input.

These are programming or data-layer errors (a NaN reached the statistics, a
spec with its limits swapped), never "too few points": that is an ordinary
answer (`series.Unavailable`), because a model with three units this week is
normal and the page must say so rather than fail. The codes are stable
strings so logs and tests can key on them.
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import LtaError


class SpcErrorCode(StrEnum):
    """Stable codes for rejected statistics input."""

    NOT_ONE_DIMENSIONAL = "spc_not_one_dimensional"
    NON_FINITE = "spc_non_finite"
    BAD_SPEC = "spc_bad_spec"
    BAD_PARAMETER = "spc_bad_parameter"
    NO_CONVERGENCE = "spc_no_convergence"


class SpcInputError(LtaError, ValueError):
    """The caller handed a statistic something it must not compute on.

    Raised instead of returning a number, because a silently wrong Cpk or
    control limit is worse than an error: the message names what to fix
    (usually a query that let NULL or NaN through).
    """

    code: SpcErrorCode

    def __init__(self, code: SpcErrorCode, message: str) -> None:
        super().__init__(code, message)


class SpcConvergenceError(LtaError, ArithmeticError):
    """A special function's series or continued fraction did not converge.

    Cannot happen for the arguments the dashboard produces (degrees of freedom
    up to millions converge in a few thousand steps); raised rather than
    returning an unconverged p-value.
    """

    code: SpcErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(SpcErrorCode.NO_CONVERGENCE, message)
