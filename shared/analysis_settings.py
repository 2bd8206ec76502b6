"""Settings that change a verdict: per-model overrides and input caps.

They live in `shared` because the agent reads them from its config today and
central will hand them out later; both must mean the same thing by them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt

from shared.model_specs import ModelSpec, SpecTable

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 100_000


class ModelOverride(BaseModel):
    """Per-model values that replace the ones derived from the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sigma_threshold: PositiveFloat | None = Field(
        default=None, description="Fixed sigma-gradient threshold for this model."
    )
    linearity_spec: PositiveFloat | None = Field(
        default=None,
        description=(
            "Linearity spec (half band width) for this model: used for the sigma threshold "
            "and, when a file carries no limits at all, as a flat +/- band."
        ),
    )


class AnalysisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_overrides: dict[str, ModelOverride] = Field(default_factory=dict)
    max_file_bytes: PositiveInt = DEFAULT_MAX_FILE_BYTES
    max_rows: PositiveInt = DEFAULT_MAX_ROWS
    include_curves: bool = True
    specs: SpecTable | None = Field(
        default=None, description="QA's model specs (agent/specs_file.py, later pushed by central)."
    )

    def spec_for(self, model: str | None) -> ModelSpec | None:
        return self.specs.spec_for(model) if self.specs is not None else None

    def override_for(self, model: str | None) -> ModelOverride | None:
        """Exact model first, then its base number (`8340` configures `8340-1`)."""
        if not model:
            return None
        if model in self.model_overrides:
            return self.model_overrides[model]
        base = model.split("-", 1)[0]
        return self.model_overrides.get(base)
