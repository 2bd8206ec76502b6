"""Write a simulated unit as a station result file, .xlsx or legacy .xls.

The sheets come from `system_a` / `system_b` as plain grids; this module only
turns grids into files: SpreadsheetML built directly (for speed) or BIFF8 via
xlwt. Date cells carry a date number format in both, so readers see dates where
the station wrote dates.

Output is reproducible: the .xlsx document properties and the zip entry times are
taken from the unit's test time, never from the clock, so one seed gives the same
bytes every run.
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import xlwt

from agent.simulate.grid import ExcelDate, Grid, Sheets, column_name, excel_serial
from agent.simulate.system_a import system_a_sheets
from agent.simulate.system_b import system_b_sheets
from agent.simulate.units import UnitSpec

__all__ = ["excel_serial", "unit_sheets", "write_unit"]


def unit_sheets(spec: UnitSpec) -> Sheets:
    """Every sheet of the unit's file, in workbook order, as (name, grid)."""
    return system_a_sheets(spec) if spec.system == "A" else system_b_sheets(spec)


def write_unit(spec: UnitSpec, path: Path, fmt: str) -> None:
    """Write `spec` to `path` as `fmt` ("xlsx" or "xls"), whatever the path's own suffix."""
    if fmt not in ("xlsx", "xls"):
        raise ValueError(f"unknown format {fmt!r}: expected 'xlsx' or 'xls'")
    sheets = unit_sheets(spec)
    if fmt == "xlsx":
        _write_xlsx(sheets, path, spec.tested_at)
    else:
        _write_xls(sheets, path)


# --- file formats ---

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_TYPE = "application/vnd.openxmlformats-officedocument"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
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
            ref = f"{column_name(c)}{r}"
            if isinstance(value, str):
                index = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            elif isinstance(value, ExcelDate):
                style = 2 if value.with_time else 1
                cells.append(f'<c r="{ref}" s="{style}"><v>{value.serial!r}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        if cells:
            width = max(width, len(row))
            rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    last = f"{column_name(width - 1)}{max(len(grid), 1)}"
    return (
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(rows)}</sheetData></worksheet>'
    )


def _shared_strings_xml(strings: dict[str, int]) -> str:
    items = "".join(
        f'<si><t xml:space="preserve">{escape(text)}</t></si>'
        if text != text.strip()
        else f"<si><t>{escape(text)}</t></si>"
        for text in strings
    )
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


def _write_xlsx(sheets: Sheets, path: Path, moment: datetime) -> None:
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


_XLS_DAY = xlwt.easyxf(num_format_str="M/D/YY")
_XLS_MOMENT = xlwt.easyxf(num_format_str="M/D/YY h:mm")
_XLS_PLAIN = xlwt.Style.default_style


class _FloatCell(xlwt.Cell.NumberCell):  # type: ignore[misc]
    """A number stored as an 8-byte NUMBER record, never as an integer RK.

    xlwt packs whole numbers (0.0, 1.0, -170.0) as integer RK records, which
    readers return as ints; Excel, and so the stations, store them as floats.
    """

    __slots__ = ()

    def get_encoded_data(self) -> tuple[int, bytes]:
        record = struct.pack("<5Hd", 0x0203, 14, self.rowx, self.colx, self.xf_idx, self.number)
        return 0, record


def _write_xls(sheets: Sheets, path: Path) -> None:
    """Legacy BIFF8 workbook via xlwt (which writes no timestamps)."""
    book = xlwt.Workbook()
    styles = {style: book.add_style(style) for style in (_XLS_PLAIN, _XLS_DAY, _XLS_MOMENT)}
    for name, grid in sheets:
        sheet = book.add_sheet(name, cell_overwrite_ok=True)
        for r, values in enumerate(grid):
            row = sheet.row(r)
            for c, value in enumerate(values):
                if isinstance(value, str):
                    row.set_cell_text(c, value)
                    continue
                if value is None:
                    continue
                style = _XLS_PLAIN
                if isinstance(value, ExcelDate):
                    style = _XLS_MOMENT if value.with_time else _XLS_DAY
                    value = value.serial
                row.set_cell_blank(c, style)  # registers the column and style
                row.insert_cell(c, _FloatCell(r, c, styles[style], float(value)))
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
