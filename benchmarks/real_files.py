"""Real station files on one core: our whole analysis beside the bare read of the same sheets.

The limit of any analyser built on python-calamine is opening the workbook
and reading every sheet it needs; the figure that matters is how close the
full path (read, every pass analysed, results built) gets to it. The corpus is
`../shared/real-samples` (62 real files; `tests/data/real` when it is absent),
read several rounds over so the figures settle. Contents are read into memory
first, so the disk is out of both measurements.
"""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from agent.analysis.file import analyse_content
from agent.batch import analyse_paths
from agent.parsing.reader import parse_workbook
from agent.parsing.workbook import Workbook
from shared.analysis_settings import AnalysisSettings
from tests.real_truth import IN_REPO, SHARED_SAMPLES

ROUNDS = 8


def corpus() -> list[Path]:
    folder = SHARED_SAMPLES if SHARED_SAMPLES.is_dir() else IN_REPO
    return sorted(folder.glob("*.xls*"))


def sheets_read(path: Path, content: bytes) -> list[str]:
    """The sheets our reader reads for this file (what the limit must read too)."""
    opened: list[str] = []
    original = Workbook.rows

    def recording(self: Workbook, name: str) -> list[list[object]]:
        if name not in opened:
            opened.append(name)
        return original(self, name)

    Workbook.rows = recording  # type: ignore[method-assign]
    try:
        parse_workbook(path, content, 100_000)
    finally:
        Workbook.rows = original  # type: ignore[method-assign]
    return opened


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:7.1f} files/s ({seconds * 1e3 / count:5.2f} ms/file)"


def _analyse_rounds(contents: list[tuple[Path, bytes]], settings: AnalysisSettings) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for path, content in contents:
            analyse_content(path, content, settings)
    return time.perf_counter() - start


def _worker_rounds(files: list[Path], settings: AnalysisSettings) -> float:
    """One worker for every round, as `analyze` runs it; its start is not counted."""
    results = analyse_paths([files[0], *files * ROUNDS], settings, workers=1)
    next(results)  # the worker has started and analysed one file
    start = time.perf_counter()
    for _ in results:
        pass
    return time.perf_counter() - start


def run() -> list[tuple[str, str]]:
    files = corpus()
    contents = [(p, p.read_bytes()) for p in files]
    needed = [sheets_read(p, c) for p, c in contents]
    sheet_count = sum(len(n) for n in needed)
    total = len(files) * ROUNDS
    plain = AnalysisSettings(include_curves=False)  # what `analyze --json` computes
    curves = AnalysisSettings(include_curves=True)  # what the station service stores

    start = time.perf_counter()
    for _ in range(ROUNDS):
        for (_, content), names in zip(contents, needed, strict=True):
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            for name in names:
                book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    limit = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for _, content in contents:
            hashlib.sha256(content).hexdigest()
    hashing = time.perf_counter() - start

    rows = [
        (
            f"real files: {len(files)} x {ROUNDS} rounds, {sheet_count} sheets a round",
            f"mean {sum(len(c) for _, c in contents) / len(files) / 1024:.0f} KiB",
        ),
        ("read limit: calamine open + every needed sheet", _rate(total, limit)),
        ("SHA-256 of the same bytes (the result's identity)", _rate(total, hashing)),
    ]
    for label, settings in (("analyze --json", plain), ("with curves, as the service", curves)):
        for where, seconds in (
            ("in-process", _analyse_rounds(contents, settings)),
            ("supervised worker", _worker_rounds(files, settings)),
        ):
            rows.append((f"{label}, {where}", _rate(total, seconds)))
            rows.append(("  share of the read limit", f"{100.0 * limit / seconds:5.1f} %"))
    return rows
