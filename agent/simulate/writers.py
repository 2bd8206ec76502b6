"""Write a simulated unit as a station result file, in the DOMAIN.md sheet layouts.

The layouts are first laid out as plain grids (rows of cells, None = empty cell),
then written as .xlsx (SpreadsheetML, built directly for speed) or .xls (xlwt).
One grid builder for both formats means the two file types cannot drift apart.

Output is reproducible: the .xlsx document properties and the zip entry times are
taken from the unit's test time, never from the clock, so one seed gives the same
bytes every run.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import xlwt

from agent.simulate.units import TrackSpec, UnitSpec

Cell = float | int | str | None
Grid = list[list[Cell]]

_EXCEL_EPOCH = datetime(1899, 12, 30)

SYSTEM_A_HEADERS: dict[int, str] = {
    3: "Measured Volts",
    4: "Index",
    5: "Theory Volts",
    6: "Error",
    7: "Position",
    8: "Upper Limit",
    9: "Lower Limit",
    10: "Pass",
    11: "Trim Target",
    14: "Travel",
}


def excel_serial(moment: datetime) -> float:
    """Days since 1899-12-30, the way Excel stores a date-time as a number."""
    return (moment - _EXCEL_EPOCH).total_seconds() / 86400.0


def unit_sheets(spec: UnitSpec) -> list[tuple[str, Grid]]:
    """Every sheet of the unit's file, in workbook order, as (name, grid)."""
    if spec.system == "A":
        sheets: list[tuple[str, Grid]] = []
        for track in spec.tracks:
            prefix = f"SEC1 TRK{track.track}"
            sheets.append((f"{prefix} 0", _system_a_sheet(spec, track, trimmed=False)))
            if track.trimmed_error is not None:
                sheets.append((f"{prefix} TRM", _system_a_sheet(spec, track, trimmed=True)))
        return sheets
    return _system_b_sheets(spec)


def write_unit(spec: UnitSpec, path: Path, fmt: str) -> None:
    """Write `spec` to `path` as `fmt` ("xlsx" or "xls"), whatever the path's own suffix."""
    sheets = unit_sheets(spec)
    if fmt == "xlsx":
        _write_xlsx(sheets, path, spec.tested_at)
    elif fmt == "xls":
        _write_xls(sheets, path)
    else:
        raise ValueError(f"unknown format {fmt!r}: expected 'xlsx' or 'xls'")


# --- layouts ---


def _numbers(values: np.ndarray, whole: bool = False) -> list[Cell]:
    """Array to cells: NaN becomes an empty cell, whole numbers become ints when asked."""
    if whole:
        return [None if np.isnan(v) else int(v) for v in values.tolist()]
    return [None if np.isnan(v) else v for v in values.tolist()]


def _error_cells(track: TrackSpec, errors: np.ndarray) -> list[Cell]:
    """The error column, with the cells a station sometimes leaves empty."""
    cells = _numbers(errors)
    for row in track.blank_error_rows:
        cells[row] = None
    return cells


def _system_a_sheet(spec: UnitSpec, track: TrackSpec, *, trimmed: bool) -> Grid:
    """`SEC1 TRKn 0` / `TRM`: header row 0, data from row 1, metadata in columns A:B."""
    errors = track.trimmed_error if trimmed and track.trimmed_error is not None else None
    if errors is None:
        errors = track.untrimmed_error
    n = track.positions.size
    measured = _numbers(np.round(track.theory + errors, 6))
    theory = _numbers(track.theory)
    error_cells = _error_cells(track, errors)
    positions = _numbers(track.positions, track.whole_positions)
    travel = _numbers(track.positions - track.positions[0], track.whole_positions)
    upper, lower = _numbers(track.upper), _numbers(track.lower)
    inside = ~((errors > track.upper) | (errors < track.lower))
    angle: Cell = "NaN" if np.isnan(track.measured_angle) else track.measured_angle
    metadata: list[tuple[str, Cell]] = [
        ("Model", spec.model),
        ("Serial", spec.serial),
        ("Track", track.track),
        ("Station", "DLTS"),
        ("Data", "Trimmed" if trimmed else "Untrimmed"),
        ("Date", excel_serial(spec.tested_at)),
        ("Compensation", spec.compensation),
        ("Nominal Elec Angle", track.nominal_angle),
        ("Measured Elec Angle", angle),
        ("Resistance", track.trimmed_ohms if trimmed else track.untrimmed_ohms),
        ("Travel Units", "deg" if spec.travel_kind == "rotary" else "in"),
        ("Points", n),
        ("Test Volts", spec.test_volts),
    ]
    grid: Grid = []
    for r in range(max(n + 1, len(metadata))):
        row: list[Cell] = [None] * 15
        if r < len(metadata):
            row[0], row[1] = metadata[r]
        if r == 0:
            for col, title in SYSTEM_A_HEADERS.items():
                row[col] = title
        elif r <= n:
            i = r - 1
            row[3:12] = [
                measured[i],
                i + 1,
                theory[i],
                error_cells[i],
                positions[i],
                upper[i],
                lower[i],
                int(inside[i]),
                theory[i],
            ]
            row[14] = travel[i]
        grid.append(_trim_row(row))
    return grid


def _system_b_data(track: TrackSpec, errors: np.ndarray, extras: dict[int, Cell]) -> Grid:
    """System B data sheet: no header, data from row 0, `extras` placed in row 0."""
    measured = _numbers(np.round(track.theory + errors, 6))
    theory = _numbers(track.theory)
    error_cells = _error_cells(track, errors)
    positions = _numbers(track.positions, track.whole_positions)
    cumulative = _numbers(track.positions - track.positions[0], track.whole_positions)
    upper, lower = _numbers(track.upper), _numbers(track.lower)
    grid: Grid = []
    for i in range(track.positions.size):
        row: list[Cell] = [
            measured[i],
            i,
            theory[i],
            error_cells[i],
            positions[i],
            upper[i],
            lower[i],
            1.0,
            cumulative[i],
        ]
        if i == 0:
            row += [None] * (max(extras) + 1 - len(row))
            for col, value in extras.items():
                row[col] = value
        grid.append(row)
    return grid


def _system_b_sheets(spec: UnitSpec) -> list[tuple[str, Grid]]:
    """`test`, optional `Trim N`, `Lin Error`, `Lin Chart`, `Model Params`."""
    track = spec.tracks[0]
    sheets: list[tuple[str, Grid]] = [
        (
            "test",
            _system_b_data(
                track,
                track.untrimmed_error,
                {10: track.measured_angle, 17: track.untrimmed_ohms},
            ),
        )
    ]
    passes = len(track.intermediate_errors)
    for k, errors in enumerate(track.intermediate_errors, start=1):
        ohms = track.untrimmed_ohms + (track.trimmed_ohms - track.untrimmed_ohms) * k / (passes + 1)
        sheets.append((f"Trim {k}", _system_b_data(track, errors, {17: round(ohms, 1)})))
    if track.trimmed_error is not None:
        extras: dict[int, Cell] = {11: track.nominal_angle, 17: track.trimmed_ohms}
        sheets.append(("Lin Error", _system_b_data(track, track.trimmed_error, extras)))
    chart: Grid = [
        ["Linearity Error", *([None] * 13), spec.compensation],
        ["Model", spec.model],
        ["Serial", spec.serial],
        ["Date", excel_serial(spec.tested_at)],
    ]
    params: Grid = [
        ["Model", spec.model],
        ["Linearity Spec", spec.spec],
        ["Test Volts", spec.test_volts],
        ["Electrical Travel", track.nominal_angle],
        ["Travel Units", "deg" if spec.travel_kind == "rotary" else "in"],
        ["Trim Passes", passes + 1],
    ]
    sheets += [("Lin Chart", chart), ("Model Params", params)]
    return sheets


def _trim_row(row: list[Cell]) -> list[Cell]:
    """Drop trailing empty cells so rows are no wider than their content."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


# --- file formats ---

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_TYPE = "application/vnd.openxmlformats-officedocument"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_COLUMNS = [chr(ord("A") + c) for c in range(26)]

_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _sheet_xml(grid: Grid, strings: dict[str, int]) -> str:
    """One worksheet part; text goes to the shared-string table as Excel does."""
    rows: list[str] = []
    width = 1
    for r, row in enumerate(grid, start=1):
        cells: list[str] = []
        for c, value in enumerate(row):
            if value is None:
                continue
            ref = f"{_COLUMNS[c]}{r}"
            if isinstance(value, str):
                index = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        if cells:
            width = max(width, len(row))
            rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    last = f"{_COLUMNS[width - 1]}{max(len(grid), 1)}"
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(rows)}</sheetData></worksheet>'
    )


def _shared_strings_xml(strings: dict[str, int]) -> str:
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    return (
        f'{_XML_HEAD}<sst xmlns="{_MAIN_NS}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{items}</sst>'
    )


def _package_parts(names: list[str], moment: datetime) -> dict[str, str]:
    """Workbook, relationships, content types and document properties."""
    count = len(names)
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{k}" r:id="rId{k}"/>'
        for k, name in enumerate(names, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{k}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{k}.xml"/>'
        for k in range(1, count + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{k}.xml" '
        f'ContentType="{_DOC_TYPE}.spreadsheetml.worksheet+xml"/>'
        for k in range(1, count + 1)
    )
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "[Content_Types].xml": (
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" '
            f'ContentType="{_DOC_TYPE}.spreadsheetml.sheet.main+xml"/>{overrides}'
            '<Override PartName="/xl/styles.xml" '
            f'ContentType="{_DOC_TYPE}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{_DOC_TYPE}.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/docProps/app.xml" '
            f'ContentType="{_DOC_TYPE}.extended-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/core.xml": (
            f"{_XML_HEAD}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>DLTS</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "docProps/app.xml": (
            f'{_XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
            '2006/extended-properties"><Application>Microsoft Excel</Application></Properties>'
        ),
        "xl/workbook.xml": (
            f'{_XML_HEAD}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f"<sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_HEAD}<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{count + 2}" Type="{_REL_NS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/styles.xml": _STYLES,
    }


def _write_xlsx(sheets: list[tuple[str, Grid]], path: Path, moment: datetime) -> None:
    """SpreadsheetML written directly: numbers as numbers, text as shared strings.

    openpyxl (even write-only, without lxml) spends ~0.1 s per unit serialising
    cells; plain string building is ~10x faster and the package is the same
    standard one. The document properties and every zip entry carry `moment`,
    never the clock, so the bytes are reproducible.
    """
    strings: dict[str, int] = {}
    worksheets = {
        f"xl/worksheets/sheet{k}.xml": _sheet_xml(grid, strings)
        for k, (_, grid) in enumerate(sheets, start=1)
    }
    parts = _package_parts([name for name, _ in sheets], moment)
    parts.update(worksheets)
    parts["xl/sharedStrings.xml"] = _shared_strings_xml(strings)
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def _write_xls(sheets: list[tuple[str, Grid]], path: Path) -> None:
    """Legacy BIFF8 workbook via xlwt (which writes no timestamps)."""
    book = xlwt.Workbook()
    for name, grid in sheets:
        sheet = book.add_sheet(name)
        for r, values in enumerate(grid):
            row = sheet.row(r)
            for c, value in enumerate(values):
                if isinstance(value, str):
                    row.set_cell_text(c, value)
                elif value is not None:
                    row.set_cell_number(c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
