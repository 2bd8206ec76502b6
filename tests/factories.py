"""Real Excel files for tests, written cell by cell (openpyxl for .xlsx, xlwt for .xls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import xlwt

Sheets = dict[str, list[list[Any]]]


def write_workbook(path: Path, sheets: Sheets) -> Path:
    """Write rows as given: None leaves a cell empty, strings stay text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xls":
        book = xlwt.Workbook()
        for name, rows in sheets.items():
            sheet = book.add_sheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value is not None:
                        sheet.write(r, c, value)
        book.save(str(path))
    else:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, rows in sheets.items():
            ws = wb.create_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if value is not None:
                        ws.cell(row=r, column=c, value=value)
        wb.save(str(path))
    return path


def track_arrays(
    n: int = 200,
    spec: float = 0.01,
    noise: float = 0.001,
    seed: int = 0,
    travel: float = 300.0,
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    positions = np.linspace(0.0, travel, n)
    theory = np.linspace(0.0, 10.0, n)
    errors = noise * np.sin(positions / 25.0) + rng.normal(0, noise / 10, n)
    return {
        "positions": positions,
        "theory": theory,
        "measured": theory + errors,
        "errors": errors,
        "upper": np.full(n, spec),
        "lower": np.full(n, -spec),
    }


def system_a_sheet(
    arrays: dict[str, np.ndarray],
    model: Any = "8340-1",
    serial: Any = "SN100",
    date_serial: Any = 45618.375,
    resistance: Any = 10000.0,
    header: list[Any] | None = None,
    labels: dict[int, str] | None = None,
) -> list[list[Any]]:
    """As real System A data sheets: row 0 header (D..O), metadata in A/B, data from row 1.

    `header` and `labels` replace the real header texts and metadata labels
    (the isolation test rebuilds the exact bytes a fuzzer once crashed on).
    """
    n = arrays["positions"].size
    rows: list[list[Any]] = [[None] * 15 for _ in range(max(n + 1, 14))]
    rows[0][3:15] = header or [
        "Meas Volts",
        "Index",
        "Theory Volts",
        "Lin Error",
        "Position",
        "Upper Lin Lim",
        "Lower Lin Lim",
        "pass/fail?",
        "trim target",
        "initial trim value",
        "final trim value",
        "Zero-Start",
    ]
    meta = {
        0: ("model#", model),
        1: ("shop#", serial),
        2: ("sectionID", "SEC1"),
        3: ("trackID", "TRK1"),
        4: ("trimID", "TRM1"),
        5: ("date", date_serial),
        6: ("phase value", 0.0),
        7: ("length value", 340.0),
        8: ("meas value", "NaN"),
        9: ("resistance", resistance),
        12: ("test volts", 10.0),
        13: ("#ofLinPoints", n),
    }
    if labels is not None:
        meta = {r: (labels[r], value) for r, (_, value) in meta.items() if r in labels}
    for r, (label, value) in meta.items():
        rows[r][0], rows[r][1] = label, value
    for i in range(n):
        row = rows[i + 1]
        row[3] = _cell(arrays["measured"][i])
        row[4] = i
        row[5] = _cell(arrays["theory"][i])
        row[6] = _cell(arrays["errors"][i])
        row[7] = _cell(arrays["positions"][i])
        row[8] = _cell(arrays["upper"][i])
        row[9] = _cell(arrays["lower"][i])
        row[10] = 1
        row[14] = _cell(arrays["positions"][i] - arrays["positions"][0])
    return rows


def system_b_sheet(arrays: dict[str, np.ndarray], resistance: Any = 5000.0) -> list[list[Any]]:
    """No header: data from row 0, R1 resistance."""
    n = arrays["positions"].size
    rows: list[list[Any]] = []
    for i in range(n):
        row: list[Any] = [None] * 18
        row[0] = _cell(arrays["measured"][i])
        row[1] = i
        row[2] = _cell(arrays["theory"][i])
        row[3] = _cell(arrays["errors"][i])
        row[4] = _cell(arrays["positions"][i])
        row[5] = _cell(arrays["upper"][i])
        row[6] = _cell(arrays["lower"][i])
        row[7] = 1.0
        row[8] = _cell(arrays["positions"][i])
        rows.append(row)
    rows[0][17] = resistance
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return float(value) if isinstance(value, np.floating | float | int) else value


def system_a_file(path: Path, tracks: int = 1, trimmed: bool = True, **kw: Any) -> Path:
    sheets: Sheets = {}
    for t in range(1, tracks + 1):
        untrimmed = track_arrays(seed=10 + t, noise=0.05)
        sheets[f"SEC1 TRK{t} 0"] = system_a_sheet(untrimmed, resistance=9500.0)
        if trimmed:
            sheets[f"SEC1 TRK{t} 1 TRM1"] = system_a_sheet(track_arrays(seed=t), **kw)
    return write_workbook(path, sheets)


def system_b_file(path: Path, arrays: dict[str, np.ndarray] | None = None) -> Path:
    sheets: Sheets = {
        "test": system_b_sheet(track_arrays(seed=5, noise=0.05), resistance=4800.0),
        "Lin Error": system_b_sheet(arrays or track_arrays(seed=6)),
    }
    return write_workbook(path, sheets)


def known_files(inbox: Path, store: Any, count: int, folders: int = 1) -> list[Path]:
    """`count` tiny result files under `inbox` (over `folders` sub-folders when > 1), each
    already recorded in `store` by path, size and mtime, as years of analysed files are."""
    from datetime import UTC, datetime

    rows, paths = [], []
    seen = datetime.now(UTC).isoformat()
    for i in range(count):
        folder = inbox / f"day{i % folders:03d}" if folders > 1 else inbox
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"unit-{i:06d}.xlsx"
        path.write_bytes(b"x" * 64)
        st = path.stat()
        paths.append(path)
        rows.append(
            (f"{i:064x}", str(path), path.name, st.st_size, st.st_mtime_ns, seen, seen, "pass")
        )
    store.writer.call(
        lambda conn: conn.executemany(
            "INSERT INTO files (sha256, path, file_name, size_bytes, mtime_ns, seen_at, "
            "analysed_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    )
    return paths
