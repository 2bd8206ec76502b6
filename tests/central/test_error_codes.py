"""Every error raised on purpose is an LtaError with a code of its own.

One `except LtaError` in a CLI or a log line then catches and names every
refusal; the codes are what scripts key on, so a user, station or seed problem
must not report itself as a configuration problem.
"""

from __future__ import annotations

import pytest

from central.alarms.rows import AlarmError, AlarmErrorCode
from central.auth.users import UserError, WeakPasswordError
from central.queries.filters import QueryError, QueryErrorCode
from central.seed import SeedError
from central.spc.errors import SpcConvergenceError, SpcErrorCode, SpcInputError
from central.stations import StationError
from shared.errors import ErrorCode, LtaError


@pytest.mark.parametrize(
    ("error", "code", "also"),
    [
        (AlarmError(AlarmErrorCode.NOT_FOUND, "no such alarm"), "alarm_not_found", ValueError),
        (QueryError(QueryErrorCode.INVALID_CURSOR, "bad cursor"), "invalid_cursor", ValueError),
        (SpcInputError(SpcErrorCode.NON_FINITE, "NaN"), "spc_non_finite", ValueError),
        (SpcConvergenceError("no end"), "spc_no_convergence", ArithmeticError),
        (UserError("exists", "taken"), "user_invalid", Exception),
        (WeakPasswordError("too short"), "user_invalid", UserError),
        (StationError("bad name"), "station_invalid", Exception),
        (SeedError("too many"), "seed_invalid", Exception),
    ],
)
def test_each_error_is_an_lta_error_with_its_code(
    error: LtaError, code: str, also: type[Exception]
) -> None:
    assert isinstance(error, LtaError)
    assert isinstance(error, also)  # callers that caught the old base still catch it
    assert error.code == code
    assert str(error) == f"{code}: {error.message}"


def test_no_two_families_share_a_code() -> None:
    families = (ErrorCode, AlarmErrorCode, QueryErrorCode, SpcErrorCode)
    values = [member.value for family in families for member in family]
    assert len(values) == len(set(values))
