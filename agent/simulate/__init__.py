"""Trim-station simulator: result files laid out like real stations write them."""

from agent.simulate.names import file_name, pick_format
from agent.simulate.station import now_dated_start, simulate_station, station_clock
from agent.simulate.units import OUTCOMES, TrackSpec, UnitSpec, simulate_unit
from agent.simulate.writers import unit_sheets, write_unit

__all__ = [
    "OUTCOMES",
    "TrackSpec",
    "UnitSpec",
    "file_name",
    "now_dated_start",
    "pick_format",
    "simulate_station",
    "simulate_unit",
    "station_clock",
    "unit_sheets",
    "write_unit",
]
