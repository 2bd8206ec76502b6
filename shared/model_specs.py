"""QA's model specs: what governs a model's verdict when QA says so.

A spec row is the part as QA defines it (DOMAIN.md "Model specs"): the
verdict policy, the electrical-angle tolerance and how it reads, points to
leave out of the linearity count, the resistance window, the sigma
threshold, and whether resistance and angle join the verdict. The station
agent reads the table from a file today (agent/specs_file.py); central will
own it and push it, so the meaning lives here where both programs see it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

# The most QA may leave out of one track's linearity count; more is a typo.
MAX_EXCLUDED_POINTS = 10_000
# `min`/`max` tolerances: the nominal is a floor (or a ceiling), and the station may
# move the angle up to 5 % beyond it (DOMAIN.md).
ONE_SIDED_K = 0.05

ModelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Policy(StrEnum):
    """Which rules give the verdict (DOMAIN.md "Verdict policies")."""

    STATION = "station"  # the file's own angle window and ignored rows (the default)
    SPEC = "spec"  # QA's angle tolerance and excluded points
    STRICT = "strict"  # offset only, every point


class ToleranceType(StrEnum):
    SYMMETRIC = "symmetric"  # nominal +/- T
    RANGE = "range"  # nominal - T .. nominal + T, written as a range
    BILATERAL = "bilateral"  # +/- T about the nominal
    MIN = "min"  # the nominal is a floor
    MAX = "max"  # the nominal is a ceiling


_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_exclude_points(text: str) -> tuple[int, ...]:
    """'0-1, 48-50' -> (0, 1, 48, 49, 50): zero-based data-row indices, sorted, once each.

    Raises ValueError naming the part it cannot read.
    """
    found: set[int] = set()
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"'{part.strip()[:40]}' is not an index or a range like 48-50")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) else first
        if last < first:
            raise ValueError(f"range '{part.strip()}' runs backwards")
        if last - first + 1 + len(found) > MAX_EXCLUDED_POINTS:
            raise ValueError(f"more than {MAX_EXCLUDED_POINTS} excluded points")
        found.update(range(first, last + 1))
    return tuple(sorted(found))


class ModelSpec(BaseModel):
    """One model's row of QA's spec table; only `model` is required."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: ModelName
    aliases: tuple[ModelName, ...] = ()
    policy: Policy | None = Field(
        default=None,
        description="Blank: `spec` when the row gives an angle tolerance or excluded points, "
        "else `station`.",
    )
    linearity_spec: PositiveFloat | None = Field(
        default=None, description="Half band width in volts (shown; compared with the file's)."
    )
    linearity_type: ShortText | None = None
    angle_nominal: PositiveFloat | None = None
    angle_tolerance: NonNegativeFloat | None = None
    angle_tolerance_type: ToleranceType | None = None
    resistance_min: NonNegativeFloat | None = None
    resistance_max: NonNegativeFloat | None = None
    exclude_points: tuple[Annotated[int, Field(ge=0)], ...] = Field(
        default=(), max_length=MAX_EXCLUDED_POINTS
    )
    sigma_threshold: PositiveFloat | None = None
    resistance_in_verdict: bool = False
    angle_in_verdict: bool = False
    element_type: ShortText | None = None
    product_class: ShortText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if (
            self.resistance_min is not None
            and self.resistance_max is not None
            and self.resistance_min > self.resistance_max
        ):
            raise ValueError("resistance_min is above resistance_max")
        if (
            self.angle_tolerance_type is not None
            and self.angle_tolerance is None
            and (self.angle_tolerance_type not in (ToleranceType.MIN, ToleranceType.MAX))
        ):
            raise ValueError(
                f"angle_tolerance_type {self.angle_tolerance_type} needs an angle_tolerance"
            )
        if self.angle_in_verdict and not self._angle_is_judgeable():
            raise ValueError("angle_in_verdict needs angle_nominal and a tolerance")
        if (
            self.resistance_in_verdict
            and self.resistance_min is None
            and (self.resistance_max is None)
        ):
            raise ValueError("resistance_in_verdict needs resistance_min or resistance_max")
        return self

    def _angle_is_judgeable(self) -> bool:
        one_sided = self.angle_tolerance_type in (ToleranceType.MIN, ToleranceType.MAX)
        return self.angle_nominal is not None and (one_sided or self.angle_tolerance is not None)

    @property
    def governing_policy(self) -> Policy:
        if self.policy is not None:
            return self.policy
        if self.has_rotation_rule or self.exclude_points:
            return Policy.SPEC
        return Policy.STATION

    @property
    def has_rotation_rule(self) -> bool:
        return self.angle_tolerance is not None or self.angle_tolerance_type in (
            ToleranceType.MIN,
            ToleranceType.MAX,
        )

    def k_bounds(self, nominal: float | None) -> tuple[float, float]:
        """Rotation bounds from the angle tolerance (DOMAIN.md); (0, 0) without one.

        `nominal` is the angle the file's theory was computed with; the spec's
        own nominal wins when it has one.
        """
        kind = self.angle_tolerance_type or ToleranceType.SYMMETRIC
        if kind is ToleranceType.MIN:
            return 0.0, ONE_SIDED_K
        if kind is ToleranceType.MAX:
            return -ONE_SIDED_K, 0.0
        angle = self.angle_nominal or nominal
        tolerance = self.angle_tolerance
        if angle is None or tolerance is None or tolerance <= 0.0 or tolerance >= angle:
            return 0.0, 0.0
        return -tolerance / (angle - tolerance), tolerance / (angle + tolerance)

    def angle_window(self) -> tuple[float | None, float | None]:
        """The measured-angle window the spec allows (for angle_in_verdict)."""
        nominal = self.angle_nominal
        if nominal is None:
            return None, None
        kind = self.angle_tolerance_type or ToleranceType.SYMMETRIC
        if kind is ToleranceType.MIN:
            return nominal, None
        if kind is ToleranceType.MAX:
            return None, nominal
        tolerance = self.angle_tolerance or 0.0
        return nominal - tolerance, nominal + tolerance


def _key(model: str) -> str:
    return " ".join(model.casefold().split())


class SpecTable(BaseModel):
    """The whole table, with its version (recorded on every result it governs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    specs: tuple[ModelSpec, ...] = ()
    _by_name: dict[str, ModelSpec] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique(self) -> SpecTable:
        seen: dict[str, str] = {}
        for spec in self.specs:
            for name in (spec.model, *spec.aliases):
                owner = seen.setdefault(_key(name), spec.model)
                if owner != spec.model:
                    raise ValueError(f"'{name}' names both {owner} and {spec.model}")
        return self

    def spec_for(self, model: str | None) -> ModelSpec | None:
        """Exact model or alias first (case-blind), then the base number (`8340` for `8340-1`)."""
        if not model:
            return None
        index = self._index()
        found = index.get(_key(model))
        if found is None and "-" in model:
            found = index.get(_key(model.split("-", 1)[0]))
        return found

    def _index(self) -> dict[str, ModelSpec]:
        if not self._by_name:
            for spec in self.specs:
                for name in (spec.model, *spec.aliases):
                    self._by_name[_key(name)] = spec
        return self._by_name
