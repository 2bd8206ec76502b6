"""File names as the stations write them, so the name parser sees production variety.

Mostly the long station forms
`8340-1_SN12345_TA_Test Data_11-22-2024_9-08 AM.xls` (System A, always with a time)
and `1844202_10_TA_Test Data_11-22-2024.xlsx` (System B, time optional), sometimes
the short hand-typed forms `8340sn209.xls` and `8444-shop0_12-7-2021 10-14-41 AM.xlsx`.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

from agent.simulate.units import UnitSpec

_DIGITS = re.compile(r"\d+")


def pick_format(rng: np.random.Generator) -> str:
    """About half the stations still save legacy .xls."""
    return "xlsx" if rng.random() < 0.5 else "xls"


def file_name(rng: np.random.Generator, spec: UnitSpec, fmt: str, taken: set[str]) -> str:
    """A station-style name for `spec`, unique (case-insensitively) against `taken`.

    The chosen name is added to `taken`. A re-trimmed unit may repeat model,
    serial and time; the repeat then gets a ` (2)`, ` (3)`, ... suffix, the way
    Windows names a copy.
    """
    stem = _stem(rng, spec)
    name = f"{stem}.{fmt}"
    copy = 2
    while name.lower() in taken:
        name = f"{stem} ({copy}).{fmt}"
        copy += 1
    taken.add(name.lower())
    return name


def _stem(rng: np.random.Generator, spec: UnitSpec) -> str:
    """The name without extension, in one of the forms the stations use."""
    when = spec.tested_at
    draw = rng.random()
    base = spec.model.split("-")[0]
    if spec.serial.startswith("shop") and base == spec.model and draw < 0.5:
        return f"{spec.model}-{spec.serial}_{_date(when)} {_clock(when, seconds=True)}"
    digits = spec.serial.removeprefix("SN")
    if draw > 0.94 and _DIGITS.fullmatch(digits):
        return f"{base}sn{digits}"
    stem = f"{spec.model}_{spec.serial}_TA_Test Data_{_date(when)}"
    if spec.system == "A" or rng.random() < 0.4:
        stem += f"_{_clock(when)}"
    return stem


def _date(when: datetime) -> str:
    """M-D-YYYY without leading zeros."""
    return f"{when.month}-{when.day}-{when.year}"


def _clock(when: datetime, *, seconds: bool = False) -> str:
    """12-hour clock, `9-08 AM` or `10-14-41 AM`."""
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    clock = f"{hour}-{when.minute:02d}"
    if seconds:
        clock += f"-{when.second:02d}"
    return f"{clock} {half}"
