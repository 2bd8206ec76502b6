"""The spec table as central hands it to stations (GET /api/v1/specs).

Stations ask on their sync timer with the ETag of the copy they hold; central
answers 304 while the table has not moved, so only a changed version travels.
Both programs validate the body with this model: a station never judges by a
table it could not read whole.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.model_specs import SpecTable

SPECS_PATH = "/api/v1/specs"
#: The most a station reads of one answer (20,000 models fit with room to spare).
MAX_SPECS_BYTES = 16 * 1024 * 1024
#: The longest re-analysis window QA may ask stations for.
MAX_REANALYSE_DAYS = 366

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SpecPush(BaseModel):
    """The whole table with its version, and the re-analysis QA asked for with the change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: SpecTable
    reanalyse_days: int = Field(default=0, ge=0, le=MAX_REANALYSE_DAYS)
    reanalyse_models: tuple[ModelName, ...] = Field(default=(), max_length=20_000)


def etag_of(version: str) -> str:
    """The HTTP entity tag of a table version (quoted, as the header wants it)."""
    return '"' + version.replace('"', "") + '"'
