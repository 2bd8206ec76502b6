"""File names as the stations write them, so the name parser sees production variety.

System A (DLTS) stations write `6828_43_TEST DATA_3-6-2025_6-38 AM.xls`; System B
(LTS) stations write `8340-1_82_TA_Test Data_4-17-2025_5-59 AMTrimmed Correct.xls`
(the operator types the shop number as `82_TA`; the program appends `Trimmed
Correct` to the clock). A few files are renamed by hand to the short form
`8340sn209.xls`.
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
    if rng.random() > 0.95 and _DIGITS.fullmatch(spec.serial):
        return f"{spec.model.split('-')[0]}sn{spec.serial}"
    if spec.system == "A":
        return f"{spec.model}_{spec.serial}_TEST DATA_{_date(when)}_{_clock(when)}"
    return f"{spec.model}_{spec.shop}_Test Data_{_date(when)}_{_clock(when)}Trimmed Correct"


def _date(when: datetime) -> str:
    """M-D-YYYY without leading zeros."""
    return f"{when.month}-{when.day}-{when.year}"


def _clock(when: datetime) -> str:
    """12-hour clock as the stations write it: `9-08 AM`."""
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    return f"{hour}-{when.minute:02d} {half}"
