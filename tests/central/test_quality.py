"""The spec-aware quality picture (/quality) on real station files stored through the real
ingest: governing vs strict pass rate, the adjustment that rescued each unit, first-pass
vs final yield, element type and product class from the spec table."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta

import numpy as np

from central.auth.audit import CLI
from central.db import Database
from central.queries.filters import Filters
from central.specs import quality, store
from central.specs.record import SpecRow
from shared.models import FileResult, Status, TrackCurve
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    signed_in,
)
from tests.central.data_helpers import batch_of, ingest, renamed
from tests.real_truth import REPO

REAL = REPO / "tests" / "data" / "real"


def real_results() -> list[FileResult]:
    from agent.analysis.file import analyse_file

    paths = sorted([*REAL.glob("*.xls"), *(REAL / "rules").glob("*.xls")])
    return [r for r in (analyse_file(p) for p in paths) if r.status is not Status.ERROR]


def _truth() -> dict[str, list[dict[str, object]]]:
    """spec_truth.json's reading of each file: a strict, b rotation alone, c rotation + ignored."""
    found: dict[str, list[dict[str, object]]] = {}
    for path in (REAL / "spec_truth.json", REAL / "rules" / "spec_truth.json"):
        for entry in json.loads(path.read_text(encoding="utf-8"))["files"]:
            found[entry["file"]] = entry.get("tracks", [])
    return found


def _offset_only_passes(curve: TrackCurve, left_out: list[int]) -> bool:
    """Reference: k = 0 with the points left out; an offset exists iff the intervals meet."""
    errors = np.array(curve.errors)
    upper = np.array([np.nan if v is None else v for v in curve.upper])
    lower = np.array([np.nan if v is None else v for v in curve.lower])
    judged = np.ones(errors.size, dtype=bool)
    judged[left_out] = False
    low = np.where(np.isnan(lower), -np.inf, lower - errors)[judged]
    high = np.where(np.isnan(upper), np.inf, upper - errors)[judged]
    return bool(low.max() <= high.min())


def expected(results: list[FileResult]) -> dict[str, int]:
    """The same counts from spec_truth.json and a plain numpy reference, not from SQL."""
    truth = _truth()
    counts = {"passed": 0, "strict": 0, "rotation": 0, "excluded": 0, "both": 0}
    for r in results:
        passed = r.status is not Status.FAIL
        tracks = truth[r.file_name]
        strict = passed and all(t["a"]["feasible"] for t in tracks)  # type: ignore[index]
        counts["passed"] += passed
        counts["strict"] += strict
        if not passed or strict:
            continue
        needing = [(i, t) for i, t in enumerate(tracks) if not t["a"]["feasible"]]  # type: ignore[index]
        rotation = all(t["b"]["feasible"] for _, t in needing)  # type: ignore[index]
        excluded = all(
            _offset_only_passes(r.tracks[i].curve, r.tracks[i].adjustment.excluded_points)  # type: ignore[union-attr,arg-type]
            for i, _ in needing
        )
        counts["rotation"] += rotation
        counts["excluded"] += excluded
        counts["both"] += not (rotation or excluded)
    return counts


def first_and_last_passes(units: list[FileResult]) -> tuple[int, int]:
    """Serials whose first result passed, and whose last did, counted here by hand."""
    by_serial: dict[str, list[FileResult]] = {}
    for u in units:
        if u.status in (Status.PASS, Status.WARNING, Status.FAIL):
            by_serial.setdefault(u.serial or u.file_name, []).append(u)
    ordered = [sorted(v, key=lambda u: u.test_date or u.analysed_at) for v in by_serial.values()]
    return (
        sum(v[0].status is not Status.FAIL for v in ordered),
        sum(v[-1].status is not Status.FAIL for v in ordered),
    )


def later(result: FileResult, tag: str, status: Status) -> FileResult:
    """The same serial measured again an hour later with another verdict."""
    shift = timedelta(hours=1)
    return renamed(
        result,
        tag,
        status=status,
        tracks=[],
        analysed_at=result.analysed_at + shift,
        test_date=None if result.test_date is None else result.test_date + shift,
    )


def test_governing_vs_strict_rescues_and_yields(central_db: Database, accounts: Accounts) -> None:
    results = real_results()
    today = date.today()
    results = [r.model_copy(update={"test_date": None}) for r in results]
    want = expected(results)
    # The rule files cover each rescue: rotation alone, the ignored rows alone, both needed.
    assert want["rotation"] and want["excluded"] and want["both"], want
    ingest(central_db, batch_of(results, "line-a"))
    store.save_specs(
        central_db,
        [SpecRow(model="6607", element_type="Carbon", product_class="Aerospace")],
        CLI,
        "test",
    )
    window = Filters(today - timedelta(days=2), today + timedelta(days=1))
    rows = quality.quality(central_db, window)
    total = quality.totals(rows)
    assert total.units == len(results)
    assert (total.passed, total.strict_passed) == (want["passed"], want["strict"])
    assert (total.by_rotation, total.by_excluded, total.by_both) == (
        want["rotation"],
        want["excluded"],
        want["both"],
    )
    # A unit either adjustment alone rescues counts for both (7 rescued, 3 + 4 + 1 counts).
    assert total.rescued == want["passed"] - want["strict"]
    assert total.unjudged == 0

    # A serial trimmed twice: failed first, passed second. It counts once, for final yield only.
    first = next(r for r in results if r.status is Status.FAIL and r.serial)
    again = later(first, "retrim", Status.PASS)
    ingest(central_db, batch_of([again], "line-a"))
    model_rows = quality.quality(central_db, window.with_models(first.model or ""), "model")
    (row,) = model_rows
    assert row.units == 2 and row.serials == 1 and row.first_pass == 0 and row.final_pass == 1
    # A serial that passed first and failed a re-test: first-pass (its first result passed,
    # shared/quality.py), not a final pass.
    passed = next(r for r in results if r.status is Status.PASS and r.serial)
    retest = later(passed, "retest", Status.FAIL)
    ingest(central_db, batch_of([retest], "line-a"))
    (row,) = quality.quality(central_db, window.with_models(passed.model or ""), "model")
    stored = [r for r in [*results, again, retest] if r.model == passed.model]
    assert (row.first_pass, row.final_pass) == first_and_last_passes(stored)

    classed = quality.quality(central_db, window, "product_class", product_class="Aerospace")
    assert [r.keys["product_class"] for r in classed] == ["Aerospace"]
    assert classed[0].units == sum(1 for r in results if r.model == "6607")

    viewer = signed_in(central_db, VIEWER, VIEWER_PASSWORD)
    page = html.unescape(viewer.get("/quality").get_data(as_text=True))
    assert 'id="quality-total"' in page and "Yield (strict)" in page
    by_class = viewer.get("/quality?group=element_type&element=Carbon").get_data(as_text=True)
    assert 'data-key="Carbon"' in by_class
    assert viewer.get("/quality?from=nope").status_code == 400
    assert signed_in(central_db, ADMIN, ADMIN_PASSWORD).get("/quality?group=x").status_code == 200
