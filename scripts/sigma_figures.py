"""Figures of the learned sigma threshold (docs/decisions/0020-central-model-specs.md).

    python scripts/sigma_figures.py --database-url URL    # a central database (e.g. seeded)
    lta-agent analyze ../shared/real-samples --json > real.json
    python scripts/sigma_figures.py --analysed real.json  # the real samples

Per model: tracks that passed linearity, warning rate against the thresholds the tracks
were judged by, the proposal (central/specs/sigma.py) and the warning rate under it.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from central.specs.sigma import MIN_SAMPLES, learned_threshold


def _line(name: str, sigmas: np.ndarray, judged_by: np.ndarray) -> str:
    now = 100.0 * float(np.mean(sigmas > judged_by))
    text = f"{name:<16} n={sigmas.size:>5}  warn now {now:5.1f} %"
    if sigmas.size < MIN_SAMPLES:
        return text + f"  no proposal (< {MIN_SAMPLES})"
    proposed, _, _ = learned_threshold(sigmas)
    with_ = 100.0 * float(np.mean(sigmas > proposed))
    formula = f"{judged_by.min():.3g}-{judged_by.max():.3g}"
    return text + f"  judged by {formula}  proposal {proposed:.4g}  warn with {with_:4.1f} %"


def from_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT r.model, t.sigma_gradient, t.sigma_threshold FROM results r "
            "JOIN tracks t ON t.result_id = r.result_id WHERE t.linearity_pass "
            "AND t.sigma_gradient > 0 AND r.status <> 'Error'"
        ).fetchall()
    by: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for model, value, threshold in rows:
        by[str(model)].append((float(value), float(threshold)))
    for model, items in sorted(by.items(), key=lambda kv: -len(kv[1])):
        array = np.array(items)
        print(_line(model, array[:, 0], array[:, 1]))


def from_analysed(path: Path) -> None:
    by: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        for track in result.get("tracks", []):
            if track.get("linearity_pass") and (track.get("sigma_gradient") or 0) > 0:
                item = (track["sigma_gradient"], track["sigma_threshold"])
                by[str(result.get("model"))].append(item)
                by[f"System {result.get('system')}"].append(item)
    for model, items in sorted(by.items(), key=lambda kv: -len(kv[1])):
        array = np.array(items)
        print(_line(model, array[:, 0], array[:, 1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--analysed", type=Path)
    args = parser.parse_args()
    if args.database_url:
        from_database(args.database_url)
    if args.analysed:
        from_analysed(args.analysed)


if __name__ == "__main__":
    main()
