"""Error codes and exception types shared by the agent and central.

Codes are stable strings: operators, scripts and the central database key on
them, so a code is never renamed once released. Messages are for people and
must say what to do next.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a file (or one of its tracks) has no verdict."""

    FILE_NOT_FOUND = "file_not_found"
    UNREADABLE_FILE = "unreadable_file"
    UNKNOWN_LAYOUT = "unknown_layout"
    NO_DATA = "no_data"
    TOO_LARGE = "too_large"
    INSUFFICIENT_POINTS = "insufficient_points"
    IMPLAUSIBLE_DATA = "implausible_data"
    NOT_TRIM_FILE = "not_trim_file"
    INTERNAL_ERROR = "internal_error"
    NOT_MEASURED = "not_measured"
    CONFIG_INVALID = "config_invalid"
    STARTUP_FAILED = "startup_failed"
    STORE_FAILED = "store_failed"
    DISK_FULL = "disk_full"
    STORE_TOO_NEW = "store_too_new"
    SPEC_FILE_INVALID = "spec_file_invalid"
    ANALYSIS_CANNOT_START = "analysis_cannot_start"
    PATH_TOO_LONG = "path_too_long"
    USER_INVALID = "user_invalid"
    STATION_INVALID = "station_invalid"
    SEED_INVALID = "seed_invalid"


class NoteCode(StrEnum):
    """Data-quality observations that do not stop the analysis but must not be hidden."""

    BLANK_OR_TEXT_CELLS = "blank_or_text_cells"
    ERROR_COMPUTED = "error_computed"
    POINTS_DROPPED = "points_dropped"
    POSITIONS_NOT_INCREASING = "positions_not_increasing"
    LIMITS_SWAPPED = "limits_swapped"
    WIDE_LIMITS = "wide_limits"
    ALL_ZERO_ERROR = "all_zero_error"
    NO_LIMITS = "no_limits"
    UNTRIMMED_ONLY = "untrimmed_only"
    INTERMEDIATE_TRIM_USED = "intermediate_trim_used"
    PASS_UNREADABLE = "pass_unreadable"  # noqa: S105 - a note code, not a password
    METADATA_MISMATCH = "metadata_mismatch"
    THEORY_MISSING = "theory_missing"
    EXCLUDED_OUT_OF_RANGE = "excluded_out_of_range"


class LtaError(Exception):
    """Base of every error this product raises on purpose: it carries a code.

    Most codes are `ErrorCode`s; a part with a family of refusals of its own
    (central's SPC input, alarm acknowledgements, query filters) keeps its own
    stable StrEnum, so one `except LtaError` still catches every one of them
    and logs a code, whichever part raised it.
    """

    code: StrEnum

    def __init__(self, code: StrEnum, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputFileError(LtaError):
    """A trim file (or a track in it) cannot be analysed; the verdict is Error."""


class FileSkipped(LtaError):  # noqa: N818 - a skip is an outcome, not an error
    """The file is readable but is not trim data (scrap, noise, Final Test, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NOT_TRIM_FILE, message)


class SpecFileError(LtaError):
    """A model-spec file cannot be used; nothing is analysed under it."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(ErrorCode.SPEC_FILE_INVALID, message)
        self.problems = problems or []
