"""Compare analysed real files with the independent reading in truth.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
IN_REPO = REPO / "tests" / "data" / "real"
# Real files kept for the station's verdict rules (angle-window states, rescues); apart from
# the layout files, whose folder the simulator's look-alike tests compare against.
IN_REPO_RULES = IN_REPO / "rules"
SHARED_SAMPLES = REPO.parent / "shared" / "real-samples"
SIGMA_RTOL = 1e-6


def load_truth(folder: Path) -> dict[str, dict[str, Any]]:
    files = json.loads((folder / "truth.json").read_text())["files"]
    return {entry["file"]: entry for entry in files}


def mismatches(result: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Every way a result (as `analyze --json` prints it) differs from its truth entry."""
    found: list[str] = []
    name = truth["file"]
    if result["status"] in ("Error", "Skipped"):
        return [f"{name}: status {result['status']} {result.get('error')}"]
    if result.get("system") != truth.get("system"):
        found.append(f"{name}: system {result.get('system')} != {truth.get('system')}")
    tracks = {t["track_id"]: t for t in result["tracks"]}
    if sorted(tracks) != sorted(t["track_id"] for t in truth["tracks"]):
        found.append(f"{name}: tracks {sorted(tracks)}")
    for expected in truth["tracks"]:
        got = tracks.get(expected["track_id"])
        if got is None:
            continue
        label = f"{name} {expected['track_id']}"
        pairs = [
            ("sheet", got["sheet"], expected["sheet"]),
            ("points", got["points"], expected["points"]),
            ("strict.linearity_pass", got["strict"]["linearity_pass"], expected["exact_feasible"]),
            ("strict.fail_points", got["strict"]["fail_points"], expected["min_fail_points"]),
            ("raw_fail_points", got["raw_fail_points"], expected["raw_fail_points"]),
        ]
        found += [f"{label}: {k} {a!r} != {b!r}" for k, a, b in pairs if a != b]
        if expected["computed_errors"] == 0:
            sigma, want = got["sigma_gradient"], expected["sigma_gradient"]
            if sigma is None or abs(sigma - want) > SIGMA_RTOL * abs(want):
                found.append(f"{label}: sigma {sigma} != {want}")
    return found


def load_spec_truth(folder: Path) -> dict[str, dict[str, Any]]:
    files = json.loads((folder / "spec_truth.json").read_text())["files"]
    return {entry["file"]: entry for entry in files}


def spec_mismatches(result: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Every way the default (station) verdict differs from spec_truth.json's reading `c`.

    Verdict, fail count, window and its state, the ignored rows, the k bounds,
    and a chosen k inside the feasible range when the track passes.
    """
    found: list[str] = []
    tracks = {t["track_id"]: t for t in result["tracks"]}
    for expected in truth["tracks"]:
        got = tracks.get(expected["track_id"])
        label = f"{truth['file']} {expected['track_id']}"
        if got is None or got.get("adjustment") is None:
            found.append(f"{label}: no adjustment")
            continue
        adjustment, verdict = got["adjustment"], expected["c"]
        window = adjustment["window"]
        pairs = [
            ("policy", adjustment["policy"], "station"),
            ("linearity_pass", got["linearity_pass"], verdict["feasible"]),
            ("fail_points", got["fail_points"], verdict["min_fail"]),
            ("window_status", adjustment["window_status"], expected["window_status"]),
            ("window", None if window is None else list(window), expected["window"]),
            ("angle_nominal", adjustment["angle_nominal"], expected["angle_nominal_used"]),
            (
                "ignored",
                [adjustment["excluded_start"], adjustment["excluded_end"]],
                expected["ignored"],
            ),
            ("k_bounds", list(adjustment["k_bounds"]), verdict["k_bounds"]),
        ]
        found += [f"{label}: {k} {a!r} != {b!r}" for k, a, b in pairs if a != b]
        feasible_k = verdict["feasible_k"]
        if feasible_k is not None and not feasible_k[0] <= adjustment["k"] <= feasible_k[1]:
            found.append(f"{label}: k {adjustment['k']} outside {feasible_k}")
    return found
