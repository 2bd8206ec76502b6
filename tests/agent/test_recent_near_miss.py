"""The recent-units list marks near misses (the one cutoff in shared/band.py) and shows
numbers without float noise."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from agent.analysis.file import analyse_file
from agent.store.store import Store
from agent.web.deciding import verdict_detail
from shared.band import NEAR_MISS_MARGIN_PCT
from tests.conftest import STATION
from tests.real_truth import IN_REPO

# A real unit that passes with 5.6 % of its band to spare.
CLOSE_CALL = "8340-3_3_TA_Test Data_9-4-2024_11-59 AMTrimmed Correct.xls"


def track(status: str, margin: float | None, fails: int = 0) -> dict[str, object]:
    return {
        "track_id": "TRK1",
        "status": status,
        "fail_points": fails,
        "margin_to_spec": margin,
        "max_violation": 0.01 if fails else 0.0,
        "sigma_gradient": 1e-4,
        "sigma_threshold": 2e-4,
    }


def test_detail_says_near_miss_by_the_shared_cutoff() -> None:
    assert NEAR_MISS_MARGIN_PCT == 20.0
    detail = verdict_detail([track("Pass", 7.0)])
    assert detail is not None and detail["near_miss"] and detail["margin"] == 7.0
    assert not verdict_detail([track("Pass", 20.0)])["near_miss"]  # type: ignore[index]
    assert not verdict_detail([track("Fail", None, fails=3)])["near_miss"]  # type: ignore[index]
    assert not verdict_detail([track("Pass", None)])["near_miss"]  # type: ignore[index]


def test_a_real_close_call_is_marked_and_its_numbers_are_clean(
    client: FlaskClient, store: Store
) -> None:
    result = analyse_file(IN_REPO / CLOSE_CALL)
    (only,) = result.tracks
    assert only.margin_to_spec is not None and 5 < only.margin_to_spec < 7
    assert only.margin_to_spec == round(only.margin_to_spec, 6)  # no float noise stored
    store.record(result, STATION, datetime.now(UTC), None)
    html = client.get("/partials/recent").get_data(as_text=True)
    row = re.search(r'<a class="recent-row.*?</a>', html, re.S)
    assert row is not None
    assert '<span class="mark mark-near-miss"' in row.group(0)
    text = re.sub(r"<[^>]+>", " ", row.group(0))
    assert "margin 6 %" in text
    assert not re.search(r"\d\.\d{5,}", text)  # no float noise


def test_every_real_margin_is_free_of_float_noise() -> None:
    for path in sorted(IN_REPO.glob("*.xls")):
        for t in analyse_file(path).tracks:
            if t.margin_to_spec is not None:
                assert t.margin_to_spec == round(t.margin_to_spec, 6), path.name
                assert str(t.margin_to_spec) != "-0.0", path.name
