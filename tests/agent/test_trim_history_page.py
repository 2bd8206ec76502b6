"""The unit page shows a real multi-pass unit's trim history and the station's own spec."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from agent.analysis.file import analyse_file
from agent.store.store import Store
from shared.models import TrimPass
from shared.trim_history import pass_label
from tests.real_truth import IN_REPO


def _record(store: Store, prefix: str) -> int:
    (path,) = [p for p in IN_REPO.glob("*.xls") if p.name.startswith(prefix)]
    recorded = store.record(analyse_file(path), "station-test", datetime.now(UTC), None)
    assert recorded.result_pk is not None
    return recorded.result_pk


def test_unit_page_shows_every_pass_with_its_figures_and_curve(
    store: Store, client: FlaskClient
) -> None:
    pk = _record(store, "7844_254A")
    page = client.get(f"/units/{pk}").get_data(as_text=True)
    table = page[page.index('<table class="trim-history"') : page.index("</table>")]
    rows = re.findall(r"<tr[^>]*><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td>", table)
    assert [(label, sheet) for label, sheet, _ in rows] == [
        ("untrimmed", "SEC1 TRK1 0"),
        ("pass 1 (TRM1)", "SEC1 TRK1 1 TRM1"),
        ("pass 2 (TRM1)", "SEC1 TRK1 2 TRM1"),
        ("pass 3 (TRM1)", "SEC1 TRK1 3 TRM1"),
        ("pass 4 (TRM1) · final", "SEC1 TRK1 4 TRM1"),
    ]
    assert page.count('<figure class="pass-chart">') == 5
    # the track's chart, every measurement over one another, and one per pass
    assert page.count("<svg") == 7
    assert page.count('<svg class="plot plot-history"') == 1
    assert "No curve stored" not in page
    assert "4878.0 Ω" in table and "4554.0 Ω" in table
    spec = page[page.index('class="facts station-spec"') :]
    dash = "\u2013"
    assert f"4500.0 {dash} 5500.0 Ω" in spec and f"41.000 {dash} 42.000 (inside)" in spec


def test_two_track_unit_has_a_history_per_track_and_counts_ignored_fails(
    store: Store, client: FlaskClient
) -> None:
    page = client.get(f"/units/{_record(store, '8555_54')}").get_data(as_text=True)
    assert page.count('<table class="trim-history"') == 2
    assert page.count('<figure class="pass-chart">') == 3 + 2
    assert page.count('class="spec-ignored-fails">1 of 2<') == 2


def test_untrimmed_only_unit_has_no_history_table(store: Store, client: FlaskClient) -> None:
    page = client.get(f"/units/{_record(store, '7844_256A')}").get_data(as_text=True)
    assert "trim-history" not in page and "UNTRIMMED ONLY" in page


def test_pass_labels() -> None:
    assert pass_label(TrimPass(number=0, sheet="test")) == "untrimmed"
    assert pass_label(TrimPass(number=2, sheet="Trim 2")) == "pass 2"
    assert pass_label(TrimPass(number=1, sheet="x", trim_set=2, final=True)) == (
        "pass 1 (TRM2) · final"
    )


def test_each_pass_shows_its_strict_fail_count_beside_the_verdicts(
    store: Store, client: FlaskClient
) -> None:
    page = client.get(f"/units/{_record(store, '7844_254A')}").get_data(as_text=True)
    table = page[page.index('<table class="trim-history"') : page.index("</table>")]
    assert "<th>Fail pts</th><th>Strict fail pts</th>" in table
    pairs = re.findall(r'<td>(\d+)</td><td class="strict-fails">(\d+)</td>', table)
    # the station's rules leave its 1 + 1 ignored rows out; strict counts every point
    assert pairs == [("1", "2"), ("1", "2"), ("0", "1"), ("0", "0"), ("0", "0")]
