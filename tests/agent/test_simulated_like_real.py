"""Simulated station files look like real ones: sheets, order, headers, labels, cell kinds.

The real files are the authority (DOMAIN.md "File formats"). They are read from
tests/data/real/ when the project ships copies there, else from the shared
`../shared/real-samples` folder beside the repository; without either the test
is skipped. Every rule below is asserted on the real files too, so a rule that
no longer describes what stations write fails loudly instead of passing vacuously.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from python_calamine import CalamineWorkbook

from agent.simulate import simulate_unit, write_unit
from agent.simulate.units import UnitSpec

REPO = Path(__file__).resolve().parents[2]
START = dt.datetime(2024, 11, 22, 8, 0)

Book = dict[str, list[list[Any]]]

A_PREFIX = [
    "Model Parameters", "Track Parameters", "Trim Parameters", "Notes", "Process", "ref",
    "Stats", "Report", "Report Data",
]  # fmt: skip
B_PREFIX = [
    "Model Parameters",
    "Trim Parameters",
    "Lin Error",
    "Lin Chart",
    "test",
    "hold",
    "Sheet1",
]
B_SUFFIX = ["VOLTAGES", "ERRORS", "TRIMDATA"]
A_DATA = re.compile(r"^SEC1 TRK(\d) (?:0|(\d+) TRM1)$")


def _real_folder() -> Path | None:
    for folder in (REPO / "tests" / "data" / "real", REPO.parent / "shared" / "real-samples"):
        if folder.is_dir() and any(folder.glob("*.xls*")):
            return folder
    return None


def _read(path: Path) -> Book:
    book = CalamineWorkbook.from_path(str(path))
    return {
        name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in book.sheet_names
    }


def _is_system_a(book: Book) -> bool:
    return any("SEC1 TRK" in name for name in book)


def _alike(simulated: set[Any], real: set[Any]) -> bool:
    """Same variants as the full real corpus; with only a few copied files, a superset."""
    return simulated == real if FULL_CORPUS else real <= simulated


FULL_CORPUS = False  # set by the `real` fixture: True when all 62 shared samples are read


@pytest.fixture(scope="module")
def real() -> dict[str, list[Book]]:
    global FULL_CORPUS
    folder = _real_folder()
    if folder is None:
        pytest.skip("no real station files (tests/data/real or ../shared/real-samples)")
    FULL_CORPUS = len(list(folder.glob("*.xls*"))) >= 60
    books: dict[str, list[Book]] = {"A": [], "B": []}
    for path in sorted(folder.glob("*.xls*")):
        book = _read(path)
        if _is_system_a(book):
            books["A"].append(book)
        elif "test" in book or "Lin Error" in book:
            books["B"].append(book)
    assert books["A"] and books["B"], f"{folder} lacks System A or System B files"
    return books


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Book]]:
    """Files of every model, pass count and track count the simulator draws."""
    folder = tmp_path_factory.mktemp("simulated")
    rng = np.random.default_rng(7)
    units = [simulate_unit(rng, i, START) for i in range(1200)]
    chosen = _variety(units)
    assert any(u.outcome == "aborted" for u in chosen)
    books: dict[str, list[Book]] = {"A": [], "B": []}
    for k, unit in enumerate(chosen):
        fmt = "xls" if k % 2 else "xlsx"
        path = folder / f"unit{k}.{fmt}"
        write_unit(unit, path, fmt)
        books[unit.system].append(_read(path))
    return books


def _variety(units: list[UnitSpec]) -> list[UnitSpec]:
    """One unit per (model, pass counts, template-metadata sheets), in draw order."""
    seen: dict[tuple[object, ...], UnitSpec] = {}
    for unit in units:
        key = (
            unit.model,
            tuple(len(t.pass_errors) for t in unit.tracks),
            tuple(t.template_metadata for t in unit.tracks),
        )
        seen.setdefault(key, unit)
    return list(seen.values())


# --- sheet names and order ---


def _system_a_shape(names: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fixed sheets, then one `0` / `0+TRM` token per track; asserts the pass numbering."""
    prefix = tuple(names[:9])
    tracks: dict[int, list[int]] = defaultdict(list)
    for name in names[9:]:
        match = A_DATA.match(name)
        assert match, f"unexpected data sheet name {name!r}"
        tracks[int(match.group(1))].append(int(match.group(2) or 0))
    assert list(tracks) == list(range(1, len(tracks) + 1)), names
    tokens = []
    for passes in tracks.values():
        assert passes == list(range(len(passes))), names  # 0, then passes 1..N in order
        tokens.append("0" if len(passes) == 1 else "0+TRM")
    return prefix, tuple(tokens)


def _system_b_shape(names: list[str]) -> tuple[str, ...]:
    """Sheet names with the pass numbers checked (1..N, volts before each pass)."""
    middle = names[len(B_PREFIX) : len(names) - len(B_SUFFIX)]
    passes = len(middle) // 2
    expected = [n for k in range(1, passes + 1) for n in (f"TrimVolts{k}", f"Trim {k}")]
    assert middle == expected, names
    return (*names[: len(B_PREFIX)], "<passes>", *names[len(names) - len(B_SUFFIX) :])


def test_system_a_sheet_names_and_order(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    real_shapes = [_system_a_shape(list(book)) for book in real["A"]]
    assert {prefix for prefix, _ in real_shapes} == {tuple(A_PREFIX)}
    real_tokens = {token for _, tokens in real_shapes for token in tokens}
    assert real_tokens <= {"0", "0+TRM"}  # untrimmed-only tracks occur in real files
    sim_shapes = [_system_a_shape(list(book)) for book in simulated["A"]]
    assert {prefix for prefix, _ in sim_shapes} == {tuple(A_PREFIX)}
    assert {token for _, tokens in sim_shapes for token in tokens} == {"0", "0+TRM"}
    assert {len(tokens) for _, tokens in sim_shapes} == {1, 2}
    assert {len(tokens) for _, tokens in real_shapes} <= {1, 2}
    passes = {name.split()[2] for book in simulated["A"] for name in book if name.endswith("TRM1")}
    assert passes == {"1", "2", "3", "4"}


def test_system_b_sheet_names_and_order(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    real_shapes = {_system_b_shape(list(book)) for book in real["B"]}
    assert {_system_b_shape(list(book)) for book in simulated["B"]} == real_shapes
    assert real_shapes == {(*B_PREFIX, "<passes>", *B_SUFFIX)}
    passes = {len(book) - len(B_PREFIX) - len(B_SUFFIX) for book in simulated["B"]}
    assert passes == {2, 4, 6}  # TrimVolts<k> and Trim <k> for 1, 2 and 3 passes
    for books in (real["B"], simulated["B"]):
        assert all(book["hold"] == [] and book["Sheet1"] == [] for book in books)


# --- headers and labels ---


def _data_sheets(book: Book) -> Iterable[tuple[str, list[list[Any]]]]:
    return ((name, rows) for name, rows in book.items() if A_DATA.match(name))


def _column(rows: list[list[Any]], col: int, count: int | None = None) -> list[Any]:
    cells = [row[col] if col < len(row) else "" for row in rows]
    cells = cells[:count] if count is not None else cells
    while cells and cells[-1] == "":
        cells.pop()
    return cells


def test_system_a_header_rows(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    def headers(books: list[Book]) -> set[tuple[Any, ...]]:
        return {
            (rows[0][0], *rows[0][2:20])
            for book in books
            for name, rows in [*_data_sheets(book), ("ref", book["ref"])]
        }

    assert headers(simulated["A"]) == headers(real["A"])
    assert len(headers(real["A"])) == 1


def test_system_a_metadata_labels(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    def labels(books: list[Book], sheet: str | None) -> set[tuple[Any, ...]]:
        found = set()
        for book in books:
            sheets = _data_sheets(book) if sheet is None else [(sheet, book[sheet])]
            found |= {tuple(_column(rows, 0, 26)) for _, rows in sheets}
        return found

    for sheet in (None, "ref"):  # the data sheets, then the template sheet
        assert labels(simulated["A"], sheet) == labels(real["A"], sheet), sheet
        assert len(labels(real["A"], sheet)) == 1


@pytest.mark.parametrize(
    "sheet",
    ["Model Parameters", "Track Parameters", "Trim Parameters", "Notes", "Process", "Stats"],
)
def test_system_a_parameter_labels(
    sheet: str, real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    real_labels = {tuple(_column(book[sheet], 0)) for book in real["A"]}
    sim_labels = {tuple(_column(book[sheet], 0)) for book in simulated["A"]}
    assert _alike(sim_labels, real_labels), (
        sim_labels ^ real_labels
    )  # e.g. Length Maximum / Mamimum


def test_system_a_parameter_headers_name_each_track(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    def headers(books: list[Book]) -> set[tuple[Any, ...]]:
        return {
            (tuple(_column([book["Track Parameters"][0]], 0)[:1]),
             tuple(c for c in book["Track Parameters"][0][1:] if c != ""),
             tuple(c for c in book["Trim Parameters"][0] if c != ""))
            for book in books
        }  # fmt: skip

    assert _alike(headers(simulated["A"]), headers(real["A"]))


def test_system_b_labels(real: dict[str, list[Book]], simulated: dict[str, list[Book]]) -> None:
    for sheet, col in (("Model Parameters", 1), ("Trim Parameters", 0)):
        real_labels = {tuple(_column(book[sheet], col)) for book in real["B"]}
        assert {tuple(_column(book[sheet], col)) for book in simulated["B"]} == real_labels, sheet
        assert len(real_labels) == 1
    ignored = [row[1] for row in simulated["B"][0]["Model Parameters"][22:24]]
    assert ignored == ["Initial Points Ignored", "Ending points Ignored"]


# --- what kind of value sits in each metadata cell ---


def _kind(value: Any) -> str:
    if value == "":
        return "blank"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return "number"


def _kinds(
    sheets: Iterable[list[list[Any]]], cells: list[tuple[int, int]]
) -> dict[tuple[int, int], set[str]]:
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    for rows in sheets:
        for r, c in cells:
            row = rows[r] if r < len(rows) else []
            found[(r, c)].add(_kind(row[c] if c < len(row) else ""))
    return found


def _assert_kinds_like_real(
    sim: dict[tuple[int, int], set[str]],
    real: dict[tuple[int, int], set[str]],
    extra: dict[tuple[int, int], set[str]] | None = None,
) -> None:
    """Full corpus: no kind of value where real files never have one. A few copied
    files: every kind those files show also occurs in simulated files."""
    for cell, kinds in sim.items():
        allowed = real[cell] | (extra or {}).get(cell, set())
        if FULL_CORPUS:
            assert kinds <= allowed, (cell, kinds, real[cell])
        else:
            assert real[cell] <= kinds, (cell, kinds, real[cell])


def test_system_a_metadata_cells(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    cells = [(r, 1) for r in range(26)] + [(r, 20) for r in (24, 25, 26, 33, 34, 35)]

    def kinds(books: list[Book], trimmed: bool) -> dict[tuple[int, int], set[str]]:
        sheets = [
            rows
            for b in books
            for name, rows in _data_sheets(b)
            if name.endswith("TRM1") == trimmed
        ]
        return _kinds(sheets, cells)

    # DOMAIN.md: `meas value` (B9) and `Calc. Angle` are sometimes the text "NaN".
    nan_text = {(8, 1): {"text"}, (25, 1): {"text"}}
    for trimmed in (False, True):
        real_kinds = kinds(real["A"], trimmed)
        _assert_kinds_like_real(kinds(simulated["A"], trimmed), real_kinds, nan_text)
        assert real_kinds[(5, 1)] == {"date"}  # B6: an Excel date
        assert real_kinds[(2, 1)] <= {"text", "number"}
    sim_trimmed = kinds(simulated["A"], True)
    assert sim_trimmed[(4, 1)] == {"text"} and kinds(simulated["A"], False)[(4, 1)] == {"blank"}


def test_system_b_metadata_cells(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    cells = [(0, c) for c in range(20)] + [(1, c) for c in range(12, 20)]
    blank_first_error = {(0, 3): {"blank"}}  # DOMAIN.md: stations often leave it empty
    for sheet in ("test", "Lin Error", "Trim 1"):
        _assert_kinds_like_real(
            _kinds((b[sheet] for b in simulated["B"]), cells),
            _kinds((b[sheet] for b in real["B"]), cells),
            blank_first_error,
        )
    params = [(r, 0) for r in range(62)] + [(1, 3)]
    _assert_kinds_like_real(
        _kinds((b["Model Parameters"] for b in simulated["B"]), params),
        _kinds((b["Model Parameters"] for b in real["B"]), params),
    )


# --- data columns mean the same in both ---


def _points(rows: list[list[Any]], first: int, position: int) -> int:
    count = 0
    for row in rows[first:]:
        if not isinstance(row[position], float):
            break
        count += 1
    return count


def test_system_a_data_columns(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    """K holds the error of points outside the band (else blank), O the zero-based travel."""
    tails = {}
    for label, books in (("real", real["A"]), ("simulated", simulated["A"])):
        tails[label] = False
        for book in books:
            for name, rows in _data_sheets(book):
                n = _points(rows, 1, 7)
                assert n >= 10, name
                data = rows[1 : n + 1]
                first = data[0][7]
                phase = rows[6][1]  # a rotated final pass writes G = D - F + phase
                for row in data:
                    assert row[10] == "" or row[10] == pytest.approx(row[6]), (label, name)
                    assert row[14] == pytest.approx(row[7] - first, abs=1e-6), (label, name)
                    if row[6] != "":
                        expected = row[3] - row[5] + phase
                        assert row[6] == pytest.approx(expected, abs=1e-9), (label, name)
                # Rows after the last point: blank position, metadata and captions go on.
                tails[label] |= len(rows) > n + 1 and all(r[7] == "" for r in rows[n + 1 :])
    assert tails == {"real": True, "simulated": True}


def test_system_b_lin_error_has_more_rows_than_points(
    real: dict[str, list[Book]], simulated: dict[str, list[Book]]
) -> None:
    for books in (real["B"], simulated["B"]):
        for book in books:
            test, final = book["test"], book["Lin Error"]
            n = _points(test, 0, 4)
            assert _points(final, 0, 4) == n
            assert len(final) > len(test) >= n
            assert all(row[4] == "" for row in final[n:]), [r[:9] for r in final[n:] if r[4] != ""]
            assert all(row[7] == 1.0 for row in final[:n])
