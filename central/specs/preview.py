"""What a spec change would do, before it is saved: the model's recent units judged again.

Central keeps every track's curve (LTC2 blobs: positions, errors, limits and
theory volts) and the file's own rules (`station_spec`: the angle window, the
nominal angle, the ignored rows, the measured angle). That is all the
station's verdict needs, so each recent unit is judged twice here with the
agent's own kernels (agent/analysis: the plan, the exact rotation kernel,
the sigma threshold rule), under the spec in force and under the edited one,
and the two verdicts compared. Recomputed: linearity (with rotation and
excluded points), the sigma threshold, resistance and measured angle when the
spec puts them in the verdict. Taken as stored: the sigma gradient (a spec
does not change it). Not recomputable: a track stored without a curve (the
preview counts and says so).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from central.db import Database
from central.specs.files import name_key
from shared.curves import unpack_arrays
from shared.model_specs import ModelSpec

DEFAULT_UNITS = 500
MAX_UNITS = 5000
_RANK = {"Pass": 0, "Warning": 1, "Fail": 2, "Error": 3}


@dataclass
class Preview:
    model: str
    units: int = 0  # recent units judged again
    skipped: int = 0  # units with a track stored without its curve
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)  # (before, after) -> units
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)

    def changed(self, before: str, after: str) -> int:
        return self.moves[(before, after)]

    def sentences(self) -> list[str]:
        """'This change turns 14 of the last 500 FAILs into PASS', one line per move."""
        if self.units == 0:
            return [f"No stored unit of {self.model} can be judged again: nothing to preview."]
        lines = []
        for (old, new), count in sorted(self.moves.items(), key=lambda m: -m[1]):
            if old == new:
                continue
            lines.append(
                f"This change turns {count} of the {self.before[old]} {old.upper()}s among "
                f"the last {self.units} units into {new.upper()}."
            )
        if not lines:
            lines.append(f"This change turns no verdict of the last {self.units} units.")
        if self.skipped:
            lines.append(f"{self.skipped} unit(s) have no stored curve and were not judged.")
        return lines


def _nan(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def judge_track(
    spec: ModelSpec | None, arrays: list[np.ndarray | None], track: dict[str, Any]
) -> str:
    """The status the station would give this stored track under `spec`."""
    from agent.analysis import sigma
    from agent.analysis.judgement import judge
    from agent.analysis.policy import plan_for
    from agent.analysis.shape import linearity_spec
    from agent.analysis.verdict_rules import extra_reasons
    from agent.parsing.layout import SheetData

    positions, errors, upper, lower = (np.array(a, dtype=np.float64) for a in arrays[:4])
    theory = arrays[6] if len(arrays) > 6 else None
    facts = track.get("station_spec") or {}
    adjustment = track.get("adjustment") or {}
    nominal = adjustment.get("angle_nominal")
    if adjustment.get("policy") == "spec" or nominal is None:
        nominal = facts.get("angle_nominal")
    width = float(linearity_spec(upper, lower))
    if spec is not None and spec.linearity_spec:
        width = spec.linearity_spec
        if not (np.isfinite(upper).any() or np.isfinite(lower).any()):
            upper = np.full_like(errors, width)
            lower = np.full_like(errors, -width)
    sheet = SheetData(
        positions=positions,
        errors=errors,
        upper=upper,
        lower=lower,
        resistance=track.get("trimmed_resistance"),
        theory=None if theory is None else np.array(theory, dtype=np.float64),
        angle_nominal=nominal,
    )
    plan = plan_for(
        spec,
        nominal,
        facts.get("angle_min"),
        facts.get("angle_max"),
        facts.get("ignored_start"),
        facts.get("ignored_end"),
    )
    verdict = judge(sheet, upper, lower, plan)
    extra, _, _ = extra_reasons(spec, track.get("trimmed_resistance"), facts.get("angle_measured"))
    if not verdict.passes or extra:
        return "Fail"
    travel = float(positions.max() - positions.min()) if positions.size else 0.0
    if spec is not None and spec.sigma_threshold is not None:
        threshold = spec.sigma_threshold
    else:
        threshold = float(sigma.sigma_threshold(width, travel))
    value = track.get("sigma_gradient")
    return "Warning" if value is not None and value > threshold else "Pass"


def recent_tracks(
    db: Database, names: list[str], units: int
) -> list[tuple[str, list[tuple[dict[str, Any], bytes | None]]]]:
    """The last `units` results of these model names, each with its tracks and curves."""
    keys = [name_key(n) for n in names]
    with db.pool.connection() as conn:
        rows = conn.execute(
            "SELECT r.result_id, r.document -> 'tracks', "
            "array_agg(t.track_id ORDER BY t.track_id), array_agg(t.curve ORDER BY t.track_id) "
            "FROM (SELECT result_id, document FROM results WHERE lower(model) = ANY(%s) "
            "AND status <> 'Error' ORDER BY analysed_at DESC LIMIT %s) r "
            "JOIN tracks t ON t.result_id = r.result_id GROUP BY r.result_id, r.document "
            "ORDER BY r.result_id",
            (keys, units),
        ).fetchall()
    out = []
    for result_id, documents, track_ids, curves in rows:
        docs = documents if isinstance(documents, list) else json.loads(documents or "[]")
        by_id = {d.get("track_id"): d for d in docs}
        out.append(
            (
                str(result_id),
                [(by_id.get(t, {}), c) for t, c in zip(track_ids, curves, strict=True)],
            )
        )
    return out


def preview_change(
    db: Database,
    model: str,
    names: list[str],
    before: ModelSpec | None,
    after: ModelSpec | None,
    units: int = DEFAULT_UNITS,
) -> Preview:
    """Judge the model's last `units` units under `before` and `after` and count the moves."""
    preview = Preview(model=model)
    for _result_id, tracks in recent_tracks(db, names, min(max(1, units), MAX_UNITS)):
        statuses: list[tuple[str, str]] = []
        for document, blob in tracks:
            if blob is None or document.get("status") == "Error":
                break
            arrays = unpack_arrays(bytes(blob))
            if any(a is None for a in arrays[:4]):
                break
            statuses.append(
                (judge_track(before, arrays, document), judge_track(after, arrays, document))
            )
        if len(statuses) != len(tracks) or not statuses:
            preview.skipped += 1
            continue
        old = max((s[0] for s in statuses), key=_RANK.__getitem__)
        new = max((s[1] for s in statuses), key=_RANK.__getitem__)
        preview.units += 1
        preview.before[old] += 1
        preview.after[new] += 1
        preview.moves[(old, new)] += 1
    return preview
