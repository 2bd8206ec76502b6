"""Seeded units carry a real station's rules and are judged by them as the agent would.

The seeder writes each track's angle window and ignored rows (StationSpec),
judges the stored arrays under the station policy with the agent's kernels and
reports the strict figures beside: so re-judging the stored curve with the
agent's own functions gives the very same `adjustment` and `strict` blocks, and
/quality shows units that pass under the station's rules but fail strictly.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

import numpy as np
import pytest

from agent.analysis.judgement import judge, strict_figures
from agent.analysis.policy import station_plan
from agent.parsing.layout import SheetData
from central import seed_rules
from central.db import Database
from central.queries.filters import Filters
from central.seed import SeedPlan, seed
from central.specs.quality import quality, totals
from shared.curves import unpack_curve
from shared.models import FileResult, WindowStatus
from tests.central.auth_helpers import VIEWER, VIEWER_PASSWORD, Accounts, signed_in

PLAN = SeedPlan(tracks=1500, stations=3, models=14, days=10, seed=5, batch_results=400)


@pytest.fixture
def seeded(central_db: Database) -> Database:
    seed(central_db, PLAN)
    return central_db


def _rows(db: Database) -> list[tuple[Any, ...]]:
    with db.pool.connection() as conn:
        return conn.execute(
            "SELECT r.document, t.track_id, t.curve FROM results r "
            "JOIN tracks t ON t.result_id = r.result_id"
        ).fetchall()


def test_adjustment_and_strict_blocks_are_the_agents_on_the_stored_curves(
    seeded: Database,
) -> None:
    states: Counter[str] = Counter()
    rescued = 0
    for document, track_id, blob in _rows(seeded):
        result = FileResult.model_validate(document)  # what the agent itself reports
        (track,) = [t for t in result.tracks if t.track_id == track_id]
        curve = unpack_curve(bytes(blob))
        spec = track.station_spec
        assert spec is not None and track.adjustment is not None and track.strict is not None
        arrays = [np.array(v, dtype=float) for v in (curve.positions, curve.errors)]
        upper = np.array(curve.upper, dtype=float)
        lower = np.array(curve.lower, dtype=float)
        assert curve.theory is not None
        sheet = SheetData(
            positions=arrays[0],
            errors=arrays[1],
            upper=upper,
            lower=lower,
            resistance=None,
            theory=np.array(curve.theory),
        )
        # The plan from the cells a station file has: nominal, window, ignored rows.
        plan = station_plan(
            spec.angle_nominal, spec.angle_min, spec.angle_max, spec.ignored_start, spec.ignored_end
        )
        again = judge(sheet, upper, lower, plan)
        assert again.adjustment.model_dump() == track.adjustment.model_dump()
        assert (again.c, again.fails, again.linearity_error) == (
            track.optimal_offset,
            track.fail_points,
            track.linearity_error,
        )
        assert strict_figures(sheet, upper, lower).figures == track.strict
        assert track.linearity_pass == again.passes
        states[track.adjustment.window_status] += 1
        rescued += track.linearity_pass and not track.strict.linearity_pass
        for entry in track.passes[:-1]:  # every pass is judged under the same policy
            assert entry.adjustment is not None and entry.strict is not None
    assert rescued > 0
    assert states[WindowStatus.OK] > 0 and len(states) >= 3


def test_a_seeded_fleet_passes_more_under_station_rules_than_strictly(
    seeded: Database, accounts: Accounts
) -> None:
    total = totals(quality(seeded, Filters(), "model"))
    assert total.passed > total.strict_passed
    assert total.by_rotation > 0 and total.by_excluded > 0
    assert total.by_rotation + total.by_excluded + total.by_both >= total.rescued
    # Most strict failures stay failures, as on the real samples (24 of 40).
    assert total.rescued < total.units - total.strict_passed - total.rescued

    page = signed_in(seeded, VIEWER, VIEWER_PASSWORD).get("/quality")
    text = html.unescape(page.get_data(as_text=True))
    footer = text[text.index('id="quality-total"') :]
    governing = re.search(r'class="pass-governing">([\d.]+)', footer)
    strict = re.search(r'class="pass-strict">([\d.]+)', footer)
    assert governing and strict
    assert float(governing.group(1)) > float(strict.group(1))


def test_window_states_and_ignored_rows_follow_the_real_files() -> None:
    rng = np.random.default_rng(9)
    drawn = [seed_rules.draw_rules(rng, "A") for _ in range(3000)]
    states = Counter(rules.window_state for rules in drawn)
    share = states["ok"] / len(drawn)
    assert 0.63 < share < 0.75  # 501 of 726 real System A tracks
    assert states["zero_width"] > states["nominal_outside"] > states["wide"]
    assert Counter(rules.ignored for rules in drawn).most_common(1)[0][0] == (1, 1)
    plans = [seed_rules.plan(r, 340.0, 340.0) for r in drawn]
    by_state = {r.window_state: p.window_status.value for r, p in zip(drawn, plans, strict=True)}
    assert by_state == {state: state for state in seed_rules.A_WINDOWS}
    systems_b = [seed_rules.draw_rules(rng, "B") for _ in range(500)]
    assert sum(r.window is None for r in systems_b) > 450  # 66 of 69 real System B files
