"""The whole real corpus (`../shared/real-samples`) through `lta-agent analyze --json`.

This is the product's promise: on the files real stations write, the final
sheet, the point count and the strict linearity figures of every track equal
the independent reading in truth.json, sigma equals it to 1e-6, and the
default verdict (the station's own rules) equals spec_truth.json's reading
`c`: verdict, fail points, angle window and its state, ignored rows, k.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.real_truth import (
    SHARED_SAMPLES,
    load_spec_truth,
    load_truth,
    mismatches,
    spec_mismatches,
)

pytestmark = pytest.mark.skipif(
    not SHARED_SAMPLES.is_dir() and os.environ.get("CI") != "true",
    reason="../shared/real-samples is not beside this checkout",
)


def test_every_real_sample_matches_the_reference_reading() -> None:
    assert SHARED_SAMPLES.is_dir(), "CI must have ../shared/real-samples beside the checkout"
    truth = load_truth(SHARED_SAMPLES)
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "analyze", str(SHARED_SAMPLES), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    by_name = {r["file_name"]: r for r in results}
    assert sorted(by_name) == sorted(truth), "every real file is read exactly once"
    problems = [p for name, entry in truth.items() for p in mismatches(by_name[name], entry)]
    assert problems == []
    spec_truth = load_spec_truth(SHARED_SAMPLES)
    assert sorted(spec_truth) == sorted(truth)
    problems = [p for n, entry in spec_truth.items() for p in spec_mismatches(by_name[n], entry)]
    assert problems == []
    tracks = sum(len(entry["tracks"]) for entry in truth.values())
    assert tracks == sum(len(r["tracks"]) for r in results)
