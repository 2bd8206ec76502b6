"""Excel export of the filtered results: a Summary sheet and a Data sheet, made to be read.

Summary: the filters, the totals, one line per model (units, pass / warning /
fail / error, yield, near misses, Cpk and Ppk of linearity error against its
spec with their ratings) and, when the caller hands them in, the open
alarms. Data: one row per track of every filtered result (a result without
tracks, e.g. an unreadable file, gets one row), ordered by model and time,
with a frozen header row, an autofilter, column widths and number formats.

The workbook is streamed: openpyxl's write-only mode and a server-side
cursor, so a million rows never sit in memory. Counts and yields come from
the rollups (complete for the filters); Cpk is computed per model, in
production order, over the exported tracks (central/spc/capability.py),
so a truncated export says so next to it.

Every text cell is typed as text, so a model, serial or file name a station
sent as `=HYPERLINK(...)` (or a `model=` filter typed so) is shown, never
run as a formula; control and direction characters are shown as escapes
(shared/untrusted.py), which Excel files cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from psycopg import sql

from central.db import Database
from central.queries.counts import StatusCounts
from central.queries.filters import Filters, QueryError, QueryErrorCode
from central.queries.models import ModelSummary, model_summaries
from central.spc.capability import Capability, IndexEstimate, SpecLimits, capability
from shared.untrusted import visible

EXCEL_MAX_ROWS = 1_048_576
DEFAULT_MAX_ROWS = 1_000_000
FETCH_ROWS = 5000
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)

# Data sheet: (header, width, number format or None) per column, in query order.
# A flag (near miss, anomaly, untrimmed only) is "yes" or "no" on every judged track and
# blank only where it does not apply (an error or skipped track, a file without tracks):
# a blank that meant "no" could not be told from "not judged" in a pivot table.
DATA_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("Made at", 20, DATE_FORMAT),
    ("Station", 16, None),
    ("Model", 12, None),
    ("Serial", 12, None),
    ("Unit status", 11, None),
    ("Track", 7, None),
    ("Track status", 12, None),
    ("Sigma gradient", 15, "0.000000"),
    ("Sigma threshold", 15, "0.000000"),
    ("Linearity error (V)", 18, "0.000000"),
    ("Linearity spec (V)", 17, "0.0000"),
    ("Fail points", 11, "0"),
    ("Margin to spec (%)", 17, "0.0"),
    ("Near miss", 10, None),
    # The columns below are written in Excel's General format (up to 11 characters,
    # enough for each): a cell with its own number format costs about twice as much to
    # write, and the export's time grows with its cells (make bench).
    ("Optimal offset (V)", 17, None),
    ("Anomaly", 9, None),
    ("Untrimmed only", 10, None),
    ("Untrimmed RMS error (V)", 17, None),
    ("Trimmed RMS error (V)", 17, None),
    ("Trim improvement (%)", 14, None),
    ("Untrimmed resistance (ohm)", 15, None),
    ("Trimmed resistance (ohm)", 15, None),
    ("Resistance change (%)", 14, None),
    ("Verdict policy", 10, None),
    ("Rotation k", 12, None),
    ("Angle nominal", 12, None),
    ("Angle adjusted", 12, None),
    ("Window status", 14, None),
    ("Excluded start", 10, None),
    ("Excluded end", 10, None),
    ("File", 48, None),
    ("Result id", 38, None),
)
JUDGED = "p.track_status IN ('Pass', 'Warning', 'Fail')"


def _flag(expression: str) -> str:
    """yes / no on a judged track, NULL where the flag does not apply."""
    return f"CASE WHEN {JUDGED} THEN CASE WHEN {expression} THEN 'yes' ELSE 'no' END END"


def _json(keys: tuple[str, ...], as_text: bool = False) -> str:
    """`d.track -> 'trim' -> 'untrimmed_rms'` (`->>` last when `as_text`)."""
    head = "".join(f" -> '{k}'" for k in keys[:-1])
    return f"d.track{head} {'->>' if as_text else '->'} '{keys[-1]}'"


def _number(*keys: str, cast: str = "float8") -> str:
    """A number of the track's document, NULL otherwise.

    The document passed the result model at ingest, so a number is a number; the
    type check keeps a missing or null field (an older agent's result) NULL.
    """
    return (
        f"CASE WHEN jsonb_typeof({_json(keys)}) = 'number' "
        f"THEN ({_json(keys, as_text=True)})::float8::{cast} END"
    )


def _text_field(*keys: str) -> str:
    return f"CASE WHEN jsonb_typeof({_json(keys)}) = 'string' THEN {_json(keys, as_text=True)} END"


# The figures the tracks table does not hold come from the result's document, the track
# picked by its id (at most a few tracks per file).
_DOCUMENT_COLUMNS = ", ".join(
    [
        "p.optimal_offset",
        _flag("p.is_anomaly"),
        _flag("COALESCE(d.track -> 'untrimmed_only' = 'true'::jsonb, false)"),
        _number("trim", "untrimmed_rms"),
        _number("trim", "trimmed_rms"),
        _number("trim", "improvement_pct"),
        _number("untrimmed_resistance"),
        _number("trimmed_resistance"),
        _number("trim", "resistance_change_pct"),
        _text_field("adjustment", "policy"),
        _number("adjustment", "k"),
        _number("adjustment", "angle_nominal"),
        _number("adjustment", "angle_adjusted"),
        _text_field("adjustment", "window_status"),
        _number("adjustment", "excluded_start", cast="int"),
        _number("adjustment", "excluded_end", cast="int"),
    ]
)
# Two steps, so the documents are read for the exported rows only: `picked` sorts the
# window's rows by their table columns and keeps the first `limit`; the documents of
# those rows are then opened. (In one step PostgreSQL opened every document of the
# window before the sort: 246,000 for a 10,000-row export of the seeded year.)
_DATA_QUERY = sql.SQL(
    """
WITH picked AS (
    SELECT r.made_at, s.name AS station, r.model, r.serial, r.status AS unit_status,
           t.track_id, t.status AS track_status, t.sigma_gradient, t.sigma_threshold,
           t.linearity_error, t.linearity_spec, t.fail_points, t.margin_to_spec, t.near_miss,
           t.optimal_offset, t.is_anomaly, r.file_name, r.result_id
    FROM results r
    JOIN stations s ON s.id = r.station_pk
    LEFT JOIN tracks t ON t.result_id = r.result_id
    {where}
    ORDER BY r.model, r.made_at, r.result_id, t.track_id
    LIMIT {limit}
)
SELECT p.made_at, p.station, p.model, p.serial, p.unit_status, p.track_id, p.track_status,
       p.sigma_gradient, p.sigma_threshold, p.linearity_error, p.linearity_spec, p.fail_points,
       p.margin_to_spec, {near_miss}, {document}, p.file_name, p.result_id::text
FROM picked p
LEFT JOIN LATERAL (
    SELECT e AS track FROM results r2, jsonb_array_elements(r2.document -> 'tracks') e
    WHERE r2.result_id = p.result_id AND e ->> 'track_id' = p.track_id LIMIT 1
) d ON true
ORDER BY p.model, p.made_at, p.result_id, p.track_id
"""
)
SUMMARY_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("Model", 14, None),
    ("Units", 9, "#,##0"),
    ("Pass", 9, "#,##0"),
    ("Warning", 9, "#,##0"),
    ("Fail", 9, "#,##0"),
    ("Error", 9, "#,##0"),
    ("Yield", 9, "0.0%"),
    ("Tracks", 9, "#,##0"),
    ("Near misses", 12, "#,##0"),
    ("Cpk", 8, "0.00"),
    ("Cpk rating", 12, None),
    ("Ppk", 8, "0.00"),
    ("Ppk rating", 12, None),
    ("Tracks in Cpk", 13, "#,##0"),
)


@dataclass(frozen=True)
class AlarmRow:
    """An open alarm as the Summary lists it (the dashboard's alarms supply these)."""

    raised_at: datetime
    station: str
    model: str | None
    kind: str
    detail: str


@dataclass(frozen=True)
class ExportResult:
    rows: int  # Data rows written
    truncated: bool  # more rows matched than max_rows
    models: int


def _header(sheet: WriteOnlyWorksheet, names: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for name in names:
        cell = _text(sheet, name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cells.append(cell)
    return cells


def _text(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    """A cell that holds `text` as text: never a formula, an error code or a control."""
    cell = WriteOnlyCell(sheet, value=visible(text))
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula; the file then says string
    return cell


def _row(sheet: WriteOnlyWorksheet, values: Sequence[Any]) -> list[Any]:
    """A row to append, its text as text cells."""
    return [_text(sheet, v) if isinstance(v, str) else v for v in values]


def _styled(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None) -> Any:
    if isinstance(value, str):
        return _text(sheet, value)
    if number_format is None or value is None:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _widths(sheet: WriteOnlyWorksheet, columns: Sequence[tuple[str, float, str | None]]) -> None:
    for index, (_, width, _) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _data_rows(db: Database, filters: Filters, limit: int) -> Iterator[tuple[Any, ...]]:
    """The Data rows, streamed from a server-side cursor."""
    query = _DATA_QUERY.format(
        where=filters.where("r"),
        limit=sql.Literal(limit),
        near_miss=sql.SQL(_flag("p.near_miss")),  # our own constants, no input
        document=sql.SQL(_DOCUMENT_COLUMNS),
    )
    with (
        db.pool.connection() as conn,
        conn.transaction(),
        conn.cursor(name="lta_export") as cur,
    ):
        cur.itersize = FETCH_ROWS
        cur.execute(query)
        yield from cur


def _capability(ratios: list[float]) -> Capability:
    """Linearity error as a fraction of each track's spec: one upper limit, 1.0."""
    return capability(ratios, SpecLimits(upper=1.0))


def write_workbook(
    db: Database,
    filters: Filters,
    out: IO[bytes],
    *,
    alarms: Sequence[AlarmRow] | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    generated_at: datetime | None = None,
) -> ExportResult:
    """Write the export of `filters` to `out` (a file or BytesIO opened for binary writing).

    alarms: the open alarms to list; None leaves the section out (the caller
    has none to give), an empty list says "none open".
    """
    if not 1 <= max_rows < EXCEL_MAX_ROWS:
        raise QueryError(
            QueryErrorCode.INVALID_FILTER,
            f"An export holds 1 to {EXCEL_MAX_ROWS - 1} rows (one sheet of Excel).",
        )
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    data = book.create_sheet("Data")
    data.freeze_panes = "A2"
    _widths(data, DATA_COLUMNS)
    data.append(_header(data, [c[0] for c in DATA_COLUMNS]))
    formats = [c[2] for c in DATA_COLUMNS]
    caps: dict[str, Capability] = {}
    model: str | None = None  # the model whose rows are streaming by
    ratios: list[float] = []  # its linearity error / spec, production order
    written = 0
    truncated = False
    for row in _data_rows(db, filters, max_rows + 1):
        if written == max_rows:
            truncated = True
            break
        if (row[2] or "") != model:  # '' is the rollups' "no model"
            if model is not None and ratios:
                caps[model] = _capability(ratios)
            model, ratios = row[2] or "", []
        ratio = _ratio(row)
        if ratio is not None:
            ratios.append(ratio)
        data.append([_styled(data, v, f) for v, f in zip(row, formats, strict=True)])
        written += 1
    if model is not None and ratios:
        caps[model] = _capability(ratios)
    if written:
        data.auto_filter.ref = f"A1:{get_column_letter(len(DATA_COLUMNS))}{written + 1}"
    summaries = model_summaries(db, filters)
    _write_summary(summary, filters, summaries, caps, alarms, written, truncated, generated_at)
    book.save(out)
    return ExportResult(rows=written, truncated=truncated, models=len(summaries))


def _ratio(row: tuple[Any, ...]) -> float | None:
    """Linearity error / spec of an analysed track, None for rows without both."""
    status, error, spec = row[6], row[9], row[10]
    if status not in ("Pass", "Warning", "Fail") or error is None or not spec or spec <= 0:
        return None
    return float(error) / float(spec)


def _index(estimate: IndexEstimate | Any) -> tuple[float | None, str]:
    if isinstance(estimate, IndexEstimate):
        if estimate.rating is None:  # under shared.quality.MIN_RATED_SAMPLE values
            return estimate.value, f"n = {estimate.n}: too few for a rating"
        return estimate.value, estimate.rating.value
    return None, str(getattr(estimate, "message", "not available"))


def _write_summary(
    sheet: WriteOnlyWorksheet,
    filters: Filters,
    summaries: list[ModelSummary],
    caps: dict[str, Capability],
    alarms: Sequence[AlarmRow] | None,
    written: int,
    truncated: bool,
    generated_at: datetime | None,
) -> None:
    _widths(sheet, SUMMARY_COLUMNS)
    title = WriteOnlyCell(sheet, value="Laser Trim Analyzer: results export")
    title.font = TITLE_FONT
    sheet.append([title])
    moment = (generated_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    sheet.append(_row(sheet, ["Generated (UTC)", _styled(sheet, moment, DATE_FORMAT)]))
    sheet.append(
        _row(sheet, ["From", filters.start.isoformat() if filters.start else "(first result)"])
    )
    sheet.append(_row(sheet, ["To", filters.end.isoformat() if filters.end else "(last result)"]))
    sheet.append(_row(sheet, ["Stations", ", ".join(filters.stations) or "all"]))
    sheet.append(_row(sheet, ["Models", ", ".join(filters.models) or "all"]))
    note = f"{written:,} rows"
    if truncated:
        note += " (truncated: more matched; narrow the filters for the rest; Cpk covers these)"
    sheet.append(_row(sheet, ["Data sheet", note]))
    sheet.append([])

    totals = sum((s.counts for s in summaries), StatusCounts())
    section = WriteOnlyCell(sheet, value="Per model")
    section.font = SECTION_FONT
    sheet.append([section])
    sheet.append(_header(sheet, [c[0] for c in SUMMARY_COLUMNS]))
    formats = [c[2] for c in SUMMARY_COLUMNS]
    for entry in summaries:
        values = _summary_line(entry.model or "(no model)", entry.counts, caps.get(entry.model))
        sheet.append([_styled(sheet, v, f) for v, f in zip(values, formats, strict=True)])
    total_line = _summary_line("All models", totals, None)
    sheet.append(
        [_bold(sheet, _styled(sheet, v, f)) for v, f in zip(total_line, formats, strict=True)]
    )
    sheet.append(
        [
            "Yield = (Pass + Warning) / (Pass + Warning + Fail), as on every page and the "
            "station; Error and Skipped files are counted apart."
        ]
    )
    sheet.append(
        ["Cpk / Ppk: linearity error as a fraction of its spec (upper limit 1), production order."]
    )
    if alarms is not None:
        sheet.append([])
        section = WriteOnlyCell(sheet, value="Open alarms")
        section.font = SECTION_FONT
        sheet.append([section])
        sheet.append(_header(sheet, ["Raised", "Station", "Model", "Kind", "Detail"]))
        for alarm in alarms:
            raised = alarm.raised_at
            if raised.tzinfo is not None:
                raised = raised.astimezone(UTC).replace(tzinfo=None)
            sheet.append(
                _row(
                    sheet,
                    [
                        _styled(sheet, raised, DATE_FORMAT),
                        alarm.station,
                        alarm.model,
                        alarm.kind,
                        alarm.detail,
                    ],
                )
            )
        if not alarms:
            sheet.append(["None open."])


def _bold(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def _summary_line(name: str, counts: StatusCounts, cap: Capability | None) -> list[Any]:
    cpk, cpk_rating = _index(cap.cpk) if cap else (None, "")
    ppk, ppk_rating = _index(cap.ppk) if cap else (None, "")
    share = None if counts.yield_pct is None else counts.yield_pct / 100
    return [
        name,
        counts.results,
        counts.passes,
        counts.warnings,
        counts.fails,
        counts.errors,
        share,
        counts.tracks,
        counts.near_misses,
        cpk,
        cpk_rating,
        ppk,
        ppk_rating,
        cap.n if cap else None,
    ]
