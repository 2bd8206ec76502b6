"""One model's row as central keeps it, and what of it a station receives.

Central's row is the station's ModelSpec (shared/model_specs.py) plus what
only people read: the unit the linearity was written in (a percentage of the
test voltage, or volts), and a linearity that is text only ("See Chart").
A station's verdict uses the linearity spec as a half band in volts, so a
percentage never reaches it as a number: it would be read as volts.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from shared import spec_cells
from shared.model_specs import ModelSpec

NoteText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]

#: The columns of an import or export file, in the order the export writes them: the
#: station's spec-file columns (shared/spec_cells.py), each of central's two shown fields
#: after the column it describes.
_CENTRAL_AFTER = {"linearity_spec": "linearity_unit", "linearity_type": "linearity_note"}
COLUMNS = tuple(
    column
    for station in spec_cells.STATION_COLUMNS
    for column in (station, _CENTRAL_AFTER.get(station))
    if column is not None
)
#: Fields a station's ModelSpec does not have.
CENTRAL_ONLY = ("linearity_unit", "linearity_note")


class SpecRow(ModelSpec):
    """A model's spec at central (validated like the station's, plus the two shown fields)."""

    linearity_unit: Literal["%", "V"] | None = Field(
        default=None, description="How linearity_spec was written: % of test voltage, or volts."
    )
    linearity_note: NoteText | None = Field(
        default=None, description="A linearity written as text only, e.g. 'See Chart'."
    )

    @model_validator(mode="after")
    def _unit_needs_value(self) -> SpecRow:
        if self.linearity_unit is not None and self.linearity_spec is None:
            raise ValueError("linearity_unit needs a linearity_spec")
        return self

    def for_station(self) -> ModelSpec:
        """The ModelSpec a station judges by: a percentage linearity is left out."""
        fields: dict[str, Any] = self.model_dump(exclude=set(CENTRAL_ONLY))
        if self.linearity_unit == "%":
            fields["linearity_spec"] = None
        return ModelSpec.model_validate(fields)

    def cells(self) -> dict[str, Any]:
        """Field values keyed by column, for diffs and the page (tuples as lists)."""
        values = self.model_dump(mode="json")
        return {column: values.get(column) for column in COLUMNS}
