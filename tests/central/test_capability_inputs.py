"""Capability you can trust, through HTTP on a real PostgreSQL (docs/decisions/0021).

- untrimmed and aborted tracks (shared/quality.py) stay out of Cpk/Ppk and their
  charts, and are counted apart on the model page and the model list;
- under the minimum sample an index has its interval and no rating word or colour;
- /models sorts by Cpk, yield, volume and failures, with the filters kept.

Units are real analysed station files (tests/data/real) sent again with new
hashes, dates and metrics, as a station would send other units of the model.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient

from central.auth.audit import CLI
from central.auth.users import Role, add_user
from central.db import Database, migration_scripts
from central.spc.capability import IndexEstimate, SpecLimits, capability
from central.web.format import format_number
from central.web.model_order import ORDERS
from shared import quality
from shared.models import FileResult, Status
from tests.central.alarm_helpers import FAILING, PASSING, real, send
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, signed_in
from tests.central.data_helpers import renamed
from tests.conftest import emptied, migrated_database

UNTRIMMED_REAL = "7844_256A_TEST DATA_9-13-2024_5-59 AM.xls"  # no TRM sheet: never trimmed
DAY = date.today() - timedelta(days=3)


def spec() -> SpecLimits:
    """The template's linearity spec: every unit of these models has it."""
    limit = real(PASSING).tracks[0].linearity_spec
    assert limit is not None
    return SpecLimits(upper=limit)


def made(i: int) -> datetime:
    return datetime.combine(DAY, time(6, 0)) + timedelta(minutes=i)


def like(
    template: FileResult,
    tag: str,
    i: int,
    *,
    model: str,
    linearity: float | None = None,
    status: Status | None = None,
    untrimmed_only: bool = False,
    is_anomaly: bool = False,
) -> FileResult:
    """Another unit of `model` like the template's first track."""
    changes: dict[str, object] = {"untrimmed_only": untrimmed_only, "is_anomaly": is_anomaly}
    if linearity is not None:
        changes["linearity_error"] = linearity
    if status is not None:
        changes["status"] = status
    track = template.tracks[0].model_copy(update=changes)
    return renamed(
        template,
        f"{model}-{tag}-{i}",
        model=model,
        serial=f"{tag}{i}",
        test_date=made(i),
        status=status or template.status,
        tracks=[track],
    )


@dataclass(frozen=True)
class World:
    db: Database
    units: list[FileResult]
    trimmed: dict[str, list[float]]  # per model, the linearity errors capability must use


@pytest.fixture(scope="module")
def world(module_db: Database) -> World:
    db = emptied(module_db)
    good, bad = real(PASSING), real(FAILING)
    rng = np.random.default_rng(17)
    units: list[FileResult] = []
    trimmed: dict[str, list[float]] = {"BIG": [], "SMALL": [], "FAILS": []}
    for i, value in enumerate(rng.normal(0.009, 0.0015, 60)):
        units.append(like(good, "t", i, model="BIG", linearity=float(value)))
        trimmed["BIG"].append(float(value))
    # Aborted and never-trimmed units of BIG: far outside, failing, but not the process.
    units += [
        like(
            good, "u", 100 + i, model="BIG", linearity=0.25, status=Status.FAIL, untrimmed_only=True
        )
        for i in range(3)
    ]
    units += [
        like(good, "a", 200 + i, model="BIG", linearity=0.3, status=Status.FAIL, is_anomaly=True)
        for i in range(2)
    ]
    for i, value in enumerate(rng.normal(0.009, 0.001, 13)):  # too few for a rating
        units.append(like(good, "s", 300 + i, model="SMALL", linearity=float(value)))
        trimmed["SMALL"].append(float(value))
    for i in range(35):  # many fails, few units of volume
        units.append(like(bad, "f", 400 + i, model="FAILS", status=Status.FAIL if i % 3 else None))
        trimmed["FAILS"].append(bad.tracks[0].linearity_error or 0.0)
    untrimmed = real(UNTRIMMED_REAL)
    units.append(renamed(untrimmed, "real-untrimmed", test_date=made(500)))
    send(db, "line-1", units)
    return World(db, units, trimmed)


@pytest.fixture(scope="module")
def viewer(world: World) -> FlaskClient:
    add_user(world.db, VIEWER, Role.VIEWER, VIEWER_PASSWORD, CLI)
    return signed_in(world.db, VIEWER, VIEWER_PASSWORD)


def body(client: FlaskClient, path: str, status: int = 200) -> str:
    got = client.get(path)
    assert got.status_code == status, got.get_data(as_text=True)[:400]
    return html.unescape(got.get_data(as_text=True))


def test_the_stored_flag_is_the_shared_rule(world: World) -> None:
    """track_series.untrimmed (SQL) says what shared.quality.untrimmed_or_aborted says."""
    with world.db.pool.connection() as conn:
        stored = {
            (str(row[0]), row[1]): bool(row[2])
            for row in conn.execute("SELECT serial, track_id, untrimmed FROM track_series")
        }
    expected = {
        (u.serial, t.track_id): quality.untrimmed_or_aborted(t.untrimmed_only, t.is_anomaly)
        for u in world.units
        for t in u.tracks
    }
    assert stored == expected
    assert sum(expected.values()) == 6  # 3 untrimmed, 2 aborted, the real untrimmed file
    assert real(UNTRIMMED_REAL).tracks[0].untrimmed_only


def test_untrimmed_units_are_out_of_capability_and_counted(
    world: World, viewer: FlaskClient
) -> None:
    page = body(viewer, "/models/BIG")
    expected = capability(
        world.trimmed["BIG"], SpecLimits(upper=real(PASSING).tracks[0].linearity_spec)
    )
    cpk = expected.cpk
    assert isinstance(cpk, IndexEstimate) and cpk.rating is not None
    score = re.search(r'id="score-cpk">(.*?)</span>\s*<span class="muted">(.*?)</span>', page, re.S)
    assert score
    assert format_number(cpk.value, 3) in score.group(1) and cpk.rating in score.group(1)
    assert "5 untrimmed/aborted left out" in score.group(2)
    note = re.search(r'id="untrimmed-linearity">([^<]+)<', page)
    assert note and note.group(1).startswith("5 untrimmed/aborted track(s)")
    row = re.search(r'<tr id="cap-linearity">(.*?)</tr>', page, re.S)
    assert row and f'<td class="num">{len(world.trimmed["BIG"])}</td>' in row.group(1)
    # ...but they are units: in the yield, as fails.
    assert re.search(r'id="score-yield">([^<]+)<', page).group(1) == f"{100 * 60 / 65:.1f} %"  # type: ignore[union-attr]

    listing = body(viewer, "/models")
    big = re.search(r'<tr data-model="BIG">(.*?)</tr>', listing, re.S)
    assert big and "5 untrimmed/aborted left out" in big.group(1)


def test_no_rating_under_the_minimum_sample_and_the_interval_always(
    world: World, viewer: FlaskClient
) -> None:
    listing = body(viewer, "/models")
    small = re.search(r'<tr data-model="SMALL">(.*?)</tr>', listing, re.S)
    assert small
    cell = re.search(r'<td class="nowrap cpk-cell">(.*?)</td>', small.group(1), re.S)
    assert cell
    assert "n = 13: too few for a rating" in cell.group(1)
    assert "rating-" not in cell.group(1)  # no rating colour either
    assert not any(
        f">{word}<" in cell.group(1) for word in ("excellent", "capable", "marginal", "incapable")
    )
    expected = capability(
        world.trimmed["SMALL"], SpecLimits(upper=real(PASSING).tracks[0].linearity_spec)
    ).cpk
    assert isinstance(expected, IndexEstimate) and expected.rating is None
    low, high = format_number(expected.ci_low, 2), format_number(expected.ci_high, 2)
    assert f"[{low}, {high}]" in cell.group(1)

    page = body(viewer, "/models/SMALL")
    row = re.search(r'<tr id="cap-linearity">(.*?)</tr>', page, re.S)
    assert row and "n = 13: too few for a rating" in row.group(1)
    assert (
        f"{format_number(expected.ci_low, 3)} to {format_number(expected.ci_high, 3)}"
        in row.group(1)
    )

    big = re.search(r'<tr data-model="BIG">(.*?)</tr>', listing, re.S)
    assert big and "too few" not in big.group(1) and "rating-" in big.group(1)


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-model="([^"]*)">', page)


def test_the_model_list_sorts_by_each_order(world: World, viewer: FlaskClient) -> None:
    models = ["7844", "BIG", "FAILS", "SMALL"]
    by_name = listed(body(viewer, "/models"))
    assert by_name == models

    units = {m: [u for u in world.units if u.model == m] for m in models}
    volume = sorted(models, key=lambda m: (-len(units[m]), m))
    assert listed(body(viewer, "/models?sort=volume")) == volume
    fails = sorted(models, key=lambda m: (-sum(u.status == Status.FAIL for u in units[m]), m))
    assert listed(body(viewer, "/models?sort=failures")) == fails

    def yield_of(m: str) -> float:
        judged = [u for u in units[m] if u.status in ("Pass", "Warning", "Fail")]
        return sum(u.status != "Fail" for u in judged) / len(judged)

    assert listed(body(viewer, "/models?sort=yield")) == sorted(
        models, key=lambda m: (yield_of(m), m)
    )

    page = body(viewer, "/models?sort=cpk")
    cpks = {}
    for m in models:
        cell = re.search(
            rf'<tr data-model="{re.escape(m)}">.*?class="cpk[^"]*">([^<]+)<', page, re.S
        )
        cpks[m] = float(cell.group(1)) if cell else None
    with_cpk = sorted((m for m in models if cpks[m] is not None), key=lambda m: (cpks[m], m))
    assert listed(page) == with_cpk + sorted(m for m in models if cpks[m] is None)
    assert 'id="sorted-by" data-sort="cpk"' in page


def test_sorting_keeps_the_filters_and_refuses_unknown_orders(viewer: FlaskClient) -> None:
    start, end = DAY - timedelta(days=5), DAY
    page = body(viewer, f"/models?from={start}&to={end}&station=line-1&sort=yield")
    link = re.search(r'<a class="sort-link" data-sort="volume" href="([^"]+)"', page)
    assert link and link.group(1) == f"?from={start}&to={end}&station=line-1&sort=volume"
    assert '<input type="hidden" name="sort" value="yield">' in page
    for key in ORDERS:
        assert body(viewer, f"/models?sort={key}")
    refused = body(viewer, "/models?sort=name;DROP", 400)
    assert "'sort' is one of model, cpk, yield, volume, failures" in refused


def test_migration_012_finds_the_untrimmed_tracks_stored_before_it(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    """Results stored before the flag columns existed get them from their documents."""
    script = dict(migration_scripts())[12]
    good = real(PASSING)
    units = [
        like(good, "m", 0, model="M"),
        like(good, "m", 1, model="M", untrimmed_only=True),
        like(good, "m", 2, model="M", is_anomaly=True),
        renamed(real(UNTRIMMED_REAL), "m-real", test_date=made(3)),
    ]
    for db in migrated_database(postgres_admin_url, tmp_path):
        send(db, "line-1", units)
        with db.pool.connection() as conn:
            conn.execute("ALTER TABLE tracks DROP COLUMN untrimmed_only")
            conn.execute("ALTER TABLE track_series DROP COLUMN untrimmed")
            conn.execute(script.encode())
            flags = dict(
                conn.execute("SELECT serial, untrimmed FROM track_series ORDER BY 1").fetchall()
            )
        assert flags == {
            u.serial: quality.untrimmed_or_aborted(
                u.tracks[0].untrimmed_only, u.tracks[0].is_anomaly
            )
            for u in units
        }
        assert list(flags.values()).count(True) == 3
