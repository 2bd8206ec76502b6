"""One file from path to FileResult: the single analysis path used by every command."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from agent.analysis.track import analyse_track
from agent.parsing.filenames import not_trim_reason
from agent.parsing.reader import parse_workbook
from shared.analysis_settings import AnalysisSettings
from shared.errors import ErrorCode, FileSkipped, InputFileError
from shared.models import ErrorInfo, FileResult, Status, worst_status


def _now() -> datetime:
    return datetime.now(UTC)


def _failed(
    path: Path,
    status: Status,
    code: str,
    message: str,
    sha256: str | None = None,
    size: int | None = None,
) -> FileResult:
    return FileResult(
        path=str(path),
        file_name=path.name,
        sha256=sha256,
        size_bytes=size,
        status=status,
        error=ErrorInfo(code=code, message=message),
        analysed_at=_now(),
    )


def read_content(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, once; size checks come first so a huge file is never loaded."""
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise InputFileError(ErrorCode.FILE_NOT_FOUND, f"{path} does not exist.") from exc
    except OSError as exc:
        raise InputFileError(ErrorCode.UNREADABLE_FILE, f"{path} cannot be read: {exc}.") from exc
    if size == 0:
        raise InputFileError(
            ErrorCode.UNREADABLE_FILE,
            f"{path.name} is empty (0 bytes); the station may still be writing it.",
        )
    if size > max_bytes:
        raise InputFileError(
            ErrorCode.TOO_LARGE,
            f"{path.name} is {size / 1e6:.1f} MB, over the cap of {max_bytes / 1e6:.1f} MB. "
            "Raise max_file_bytes in the agent config if such files are expected.",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            ErrorCode.UNREADABLE_FILE,
            f"{path.name} cannot be read ({exc.strerror or exc}); it may be locked by the station.",
        ) from exc


def analyse_file(path: Path, settings: AnalysisSettings | None = None) -> FileResult:
    """Never raises for bad input: every outcome is a FileResult with a status."""
    settings = settings or AnalysisSettings()
    reason = not_trim_reason(path.name)
    if reason:
        return _failed(path, Status.SKIPPED, ErrorCode.NOT_TRIM_FILE, reason)
    try:
        content = read_content(path, settings.max_file_bytes)
    except InputFileError as exc:
        return _failed(path, Status.ERROR, exc.code, exc.message)
    return analyse_content(path, content, settings)


def analyse_content(
    path: Path,
    content: bytes,
    settings: AnalysisSettings | None = None,
    sha256: str | None = None,
) -> FileResult:
    """Analyse bytes already read from path.

    `sha256` is the digest the caller already took of exactly these bytes (the
    watcher hashes every file to skip known ones): hashing a half-megabyte file
    costs about a tenth of its analysis, so it is done once per file, not twice.
    """
    settings = settings or AnalysisSettings()
    digest = sha256 if sha256 is not None else hashlib.sha256(content).hexdigest()
    reason = not_trim_reason(path.name)
    if reason:
        return _failed(path, Status.SKIPPED, ErrorCode.NOT_TRIM_FILE, reason, digest, len(content))
    if not content:
        return _failed(
            path,
            Status.ERROR,
            ErrorCode.UNREADABLE_FILE,
            f"{path.name} is empty (0 bytes); the station may still be writing it.",
            digest,
            0,
        )
    if len(content) > settings.max_file_bytes:
        return _failed(
            path,
            Status.ERROR,
            ErrorCode.TOO_LARGE,
            f"{path.name} is {len(content) / 1e6:.1f} MB, over the cap of "
            f"{settings.max_file_bytes / 1e6:.1f} MB.",
            digest,
            len(content),
        )
    try:
        return _analyse_content(path, content, digest, settings)
    except FileSkipped as exc:
        return _failed(path, Status.SKIPPED, exc.code, exc.message, digest, len(content))
    except InputFileError as exc:
        return _failed(path, Status.ERROR, exc.code, exc.message, digest, len(content))
    except Exception as exc:  # a bug must cost one file, never the agent
        logger.exception("Unexpected failure analysing {}", path)
        return _failed(
            path,
            Status.ERROR,
            ErrorCode.INTERNAL_ERROR,
            f"Internal error ({type(exc).__name__}); the file was kept. Report it with the "
            "agent log.",
            digest,
            len(content),
        )


def _analyse_content(
    path: Path, content: bytes, digest: str, settings: AnalysisSettings
) -> FileResult:
    parsed = parse_workbook(path, content, settings.max_rows)
    override = settings.override_for(parsed.model)
    spec = settings.spec_for(parsed.model)
    tracks = [analyse_track(t, override, settings.include_curves, spec) for t in parsed.tracks]
    status = worst_status([t.status for t in tracks])
    error = None
    if status is Status.ERROR:
        first = next((t.error for t in tracks if t.error is not None), None)
        error = first or ErrorInfo(code=ErrorCode.NO_DATA, message="No track could be read.")
    return FileResult(
        path=str(path),
        file_name=path.name,
        sha256=digest,
        size_bytes=len(content),
        system=parsed.system,
        model=parsed.model,
        serial=parsed.serial,
        test_date=parsed.test_date,
        status=status,
        error=error,
        tracks=tracks,
        notes=parsed.notes,
        analysed_at=_now(),
        spec_version=settings.specs.version if settings.specs is not None else None,
    )
