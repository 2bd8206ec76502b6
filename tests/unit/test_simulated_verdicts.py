"""Simulated units: the kernels agree with the scipy reference, and verdicts match intent."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from agent.analysis.sigma import sigma_gradient
from agent.analysis.track import analyse_track
from agent.parsing.layout import SheetData, TrackData
from agent.simulate import simulate_unit
from shared.models import Status
from tests.reference import sigma_reference

START = datetime(2024, 11, 22, 8, 0)
EXPECTED = {
    "pass": Status.PASS,
    "near_miss": Status.PASS,
    "warning": Status.WARNING,
    "fail": Status.FAIL,
}


def simulated_tracks(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for index in range(count):
        unit = simulate_unit(rng, index, START)
        for track in unit.tracks:
            yield unit, track


def test_sigma_agrees_with_reference_on_hundreds_of_simulated_tracks() -> None:
    checked = 0
    for _, track in simulated_tracks(300, seed=11):
        errors = track.trimmed_error if track.trimmed_error is not None else track.untrimmed_error
        expected = sigma_reference(track.positions, errors)
        assert sigma_gradient(track.positions, errors) == pytest.approx(expected, rel=1e-9)
        checked += 1
    assert checked >= 300


def test_verdicts_match_what_the_simulator_intended() -> None:
    seen = set()
    for _, track in simulated_tracks(250, seed=12):
        errors = track.trimmed_error if track.trimmed_error is not None else track.untrimmed_error
        sheet = SheetData(track.positions, errors, track.upper, track.lower, track.trimmed_ohms)
        untrimmed = SheetData(
            track.positions, track.untrimmed_error, track.upper, track.lower, track.untrimmed_ohms
        )
        data = TrackData(
            "TRK1",
            trimmed=sheet if track.trimmed_error is not None else None,
            untrimmed=untrimmed,
        )
        result = analyse_track(data, include_curve=False)
        seen.add(track.outcome)
        if track.outcome in EXPECTED:
            assert result.status is EXPECTED[track.outcome], track.outcome
        if track.outcome == "near_miss":
            assert result.near_miss
        if track.outcome == "anomaly":
            assert result.is_anomaly
        if track.outcome == "aborted":
            assert result.untrimmed_only
    assert {"pass", "fail", "warning", "near_miss"} <= seen
