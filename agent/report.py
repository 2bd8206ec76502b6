"""How `lta-agent analyze` prints results: one readable line, or one JSON object, per file."""

from __future__ import annotations

from shared.models import FileResult, Status, TrackResult


def _num(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _track_text(track: TrackResult) -> str:
    if track.status is Status.ERROR:
        code = track.error.code if track.error else "error"
        return f"{track.track_id} ERROR {code}"
    flags = []
    if track.near_miss:
        flags.append("near-miss")
    if track.is_anomaly:
        flags.append("anomaly")
    if track.untrimmed_only:
        flags.append("untrimmed-only")
    text = (
        f"{track.track_id} sigma {_num(track.sigma_gradient)}/{_num(track.sigma_threshold)} "
        f"lin {_num(track.linearity_error)} spec {_num(track.linearity_spec, 4)} "
        f"fails {track.fail_points} (raw {track.raw_fail_points})"
    )
    return text + (f" [{', '.join(flags)}]" if flags else "")


def format_line(result: FileResult) -> str:
    status = result.status.value.upper()
    if result.status in (Status.ERROR, Status.SKIPPED) and not result.tracks:
        reason = f"[{result.error.code}] {result.error.message}" if result.error else ""
        return f"{status:<8}{result.file_name}  {reason}"
    ident = f"{result.model or '?'} {result.serial or '?'}"
    tracks = " | ".join(_track_text(t) for t in result.tracks)
    return f"{status:<8}{ident:<22} {tracks}  {result.file_name}"


def format_json(result: FileResult, include_curves: bool = False) -> str:
    exclude = None if include_curves else {"tracks": {"__all__": {"curve"}}}
    return result.model_dump_json(exclude=exclude)
