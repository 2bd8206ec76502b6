"""Element type and product class (from the spec table) filter /models and the overview.

A seeded database whose models QA has classified: the filters narrow every query
the model filter narrows (through Filters.where), a model matched by an alias in
another case counts, the /models breakdown adds each group's models up, and a
value the spec table does not hold is a 400 that says so, never a 500.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from central.alarms.rows import AlarmKind, Finding, apply_findings
from central.auth.audit import CLI
from central.db import Database
from central.queries import models, spec_groups
from central.queries.filters import Filters, QueryError
from central.seed import SeedPlan, seed
from central.specs import store
from central.specs.record import SpecRow
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, Accounts, signed_in

PLAN = SeedPlan(tracks=300, stations=2, models=4, days=10, seed=8)


@pytest.fixture
def classified(central_db: Database) -> tuple[Database, list[str]]:
    seed(central_db, PLAN)
    with central_db.pool.connection() as conn:
        names = [r[0] for r in conn.execute("SELECT DISTINCT model FROM results ORDER BY 1")]
    assert len(names) == 4
    store.save_specs(
        central_db,
        [
            SpecRow(model=names[0], element_type="Carbon", product_class="Aerospace"),
            # Known by an alias written in another case: still this model's class.
            SpecRow(
                model="MAIN-B",
                aliases=(names[1].lower() + "",),
                element_type="Carbon",
                product_class="Industrial",
            ),
            SpecRow(model=names[2], element_type="Cermet", product_class="Industrial"),
        ],
        CLI,
        "classify the seeded models",
    )
    return central_db, names


def _listed(page: str) -> list[str]:
    return re.findall(r'<tr data-model="([^"]*)"', page)


def test_filters_narrow_the_model_summaries(classified: tuple[Database, list[str]]) -> None:
    db, names = classified
    everything = {s.model for s in models.model_summaries(db, Filters())}
    assert everything == set(names)
    carbon = models.model_summaries(db, Filters(element_type="Carbon"))
    assert [s.model for s in carbon] == sorted(names[:2])
    both = Filters(element_type="Carbon", product_class="Industrial")
    assert [s.model for s in models.model_summaries(db, both)] == [names[1]]
    assert models.model_summaries(db, Filters(product_class="Industrial", models=(names[0],))) == []
    assert models.latest_tracks_per_model(db, Filters(element_type="Cermet"), 5).keys() == {
        names[2]
    }


def test_models_page_filters_and_groups_by_the_spec_table(
    classified: tuple[Database, list[str]], accounts: Accounts
) -> None:
    db, names = classified
    viewer = signed_in(db, VIEWER, VIEWER_PASSWORD)
    page = viewer.get("/models").get_data(as_text=True)
    assert sorted(_listed(page)) == sorted(names)
    groups = page[page.index('id="by-element-type"') :]
    assert re.search(r'data-group="Carbon">.*?<td class="num">2</td>', groups, re.S)
    assert 'data-group=""' in groups  # the model without a spec row
    assert 'id="by-product-class"' in page and 'data-group="Industrial"' in page

    carbon = viewer.get("/models?element=Carbon").get_data(as_text=True)
    assert sorted(_listed(carbon)) == sorted(names[:2])
    assert '<option value="Carbon" selected>' in carbon
    industrial = viewer.get("/models?cls=Industrial&element=Cermet").get_data(as_text=True)
    assert _listed(industrial) == [names[2]]
    # Links from the list keep the filter (model pages, the next view).
    assert "element=Cermet" in industrial and "cls=Industrial" in industrial

    unknown = viewer.get("/models?element=Plastic")
    assert unknown.status_code == 400
    text = html.unescape(unknown.get_data(as_text=True))
    assert "No model in the spec table has the element type 'Plastic'" in text
    assert "Known: Carbon, Cermet." in text
    hostile = viewer.get("/models?cls=%3Cscript%3Ealert(1)%3C/script%3E")
    assert hostile.status_code == 400 and "<script>alert" not in hostile.get_data(as_text=True)
    assert viewer.get("/models?element=Carbon&element=Cermet").status_code == 400
    assert viewer.get("/models?element=" + "x" * 300).status_code == 400


def test_overview_filters_by_element_type_and_product_class(
    classified: tuple[Database, list[str]], accounts: Accounts
) -> None:
    db, names = classified
    with db.pool.connection() as conn:
        pk = conn.execute("SELECT min(id) FROM stations").fetchone()
        assert pk is not None
        findings = [
            Finding(AlarmKind.DRIFT, int(pk[0]), name, f"sigma of {name} drifting up")
            for name in (names[0], names[2])
        ]
        apply_findings(conn, findings, datetime.now(UTC))
    viewer = signed_in(db, VIEWER, VIEWER_PASSWORD)
    every = viewer.get("/").get_data(as_text=True)
    assert f"sigma of {names[0]}" in every and f"sigma of {names[2]}" in every
    page = viewer.get("/?element=Carbon&cls=Aerospace").get_data(as_text=True)
    assert f"sigma of {names[0]}" in page and f"sigma of {names[2]}" not in page
    cermet = viewer.get("/?element=Cermet&cls=Aerospace").get_data(as_text=True)
    assert 'id="no-open-alarms"' in cermet and "for these filters" in cermet
    assert '<option value="Carbon" selected>' in page
    assert '<option value="Aerospace" selected>' in page
    assert 'id="scope-element">Carbon<' in page
    links = html.unescape(page)
    assert re.search(r'href="/models\?station=[^"]*element=Carbon&cls=Aerospace"', links)
    export = re.search(r'href="(/export\.xlsx\?[^"]*)"', links)
    assert export and "element=Carbon" in export.group(1)
    assert viewer.get("/?cls=Nope").status_code == 400
    assert viewer.get("/?element=%00").status_code == 400


def test_spec_filters_round_trip_through_the_url() -> None:
    filters = Filters.from_query([("element", " Carbon "), ("cls", "Industrial"), ("cls", "")])
    assert (filters.element_type, filters.product_class) == ("Carbon", "Industrial")
    assert Filters.from_query(filters.to_query()) == filters
    assert filters.with_models("X").element_type == "Carbon"
    today = date(2025, 3, 1)
    assert filters.with_dates(today - timedelta(days=1), today).product_class == "Industrial"
    with pytest.raises(QueryError):
        Filters.from_query([("element", "A"), ("element", "B")])
    with pytest.raises(QueryError):
        Filters(element_type="")
    classes = spec_groups.SpecClasses({"m": ("Carbon", None)}, ["Carbon"], [])
    assert classes.matches("M", Filters(element_type="Carbon"))
    assert not classes.matches("other", Filters(element_type="Carbon"))
    with pytest.raises(QueryError, match="gives none yet"):
        spec_groups.check(Filters(product_class="Any"), classes)
