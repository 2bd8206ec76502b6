"""Model, serial and test date from a station's file name.

Names look like `8340-1_SN12345_TA_Test Data_11-22-2024_9-08 AM.xls`,
`8340sn209.xls` or `8444-shop0_12-7-2021 10-14-41 AM.xlsx`: parts are split on
`_` and spaces (never hyphens, which belong to model numbers and dates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

NOT_TRIM_WORDS = ("scrap", "noise", "smoothness")
EXCEL_SUFFIXES = (".xlsx", ".xls", ".xlsm")

_MODEL = re.compile(r"^(\d{4,}(?:-[A-Za-z0-9]{1,3}(?=-|$|[^A-Za-z0-9]))*)(.*)$")
_US_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME = re.compile(r"^(\d{1,2})-(\d{2})(?:-(\d{2}))?(AM|PM)?$", re.IGNORECASE)
# Real System B names glue the next word on: `..._2-16 PMTrimmed Correct.xls`.
# Upper case only when glued, so `am`/`pm` starting an ordinary word is not a time.
_MERIDIEM = re.compile(r"^(?:([AaPp][Mm])$|(AM|PM)(?=[A-Z]))")
_NOISE_PARTS = {"ta", "test", "data", "date", "am", "pm"}


@dataclass(frozen=True)
class NameInfo:
    model: str | None
    serial: str | None
    test_date: datetime | None


def is_candidate(path: PurePath) -> bool:
    """Excel files a station wrote (not Office lock files `~$...`)."""
    return path.suffix.lower() in EXCEL_SUFFIXES and not path.name.startswith("~$")


def not_trim_reason(file_name: str) -> str | None:
    """Why a name marks a file that is not trim data, or None."""
    lowered = file_name.lower()
    for word in NOT_TRIM_WORDS:
        if word in lowered:
            return f"File name contains '{word}': {word} files are not trim results."
    return None


def _split(stem: str) -> list[str]:
    return [p for p in re.split(r"[_\s]+", stem) if p]


def _model_and_rest(part: str) -> tuple[str, str] | None:
    match = _MODEL.match(part)
    if not match:
        return None
    model, rest = match.group(1), match.group(2)
    return model, rest.lstrip("-")


def _serial_from_rest(rest: str) -> str | None:
    """What follows the model inside the same part: `sn209` gives 209, `-shop0` gives shop0."""
    if not rest:
        return None
    match = re.match(r"^sn[-_]?(.+)$", rest, flags=re.IGNORECASE)
    return match.group(1) if match else rest


def _is_date_or_time(part: str) -> bool:
    return bool(_US_DATE.match(part) or _ISO_DATE.match(part) or _TIME.match(part))


def _parse_date(parts: list[str]) -> datetime | None:
    for i, part in enumerate(parts):
        us = _US_DATE.match(part)
        iso = _ISO_DATE.match(part)
        try:
            if us:
                day = datetime(int(us.group(3)), int(us.group(1)), int(us.group(2)))
            elif iso:
                day = datetime(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            else:
                continue
        except ValueError:
            continue
        return _with_time(day, parts[i + 1 : i + 3])
    return None


def _with_time(day: datetime, following: list[str]) -> datetime:
    if not following:
        return day
    match = _TIME.match(following[0])
    if not match:
        return day
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    meridiem = (match.group(4) or "").upper()
    if not meridiem and len(following) > 1:
        glued = _MERIDIEM.match(following[1])
        meridiem = (glued.group(1) or glued.group(2)).upper() if glued else ""
    if meridiem == "PM" and hour < 12:
        hour += 12
    elif meridiem == "AM" and hour == 12:
        hour = 0
    try:
        return day.replace(hour=hour, minute=minute, second=second)
    except ValueError:
        return day


def parse_file_name(file_name: str) -> NameInfo:
    """Best-effort model, serial and date; any of them may be None."""
    parts = _split(PurePath(file_name).stem)
    model = serial = None
    for i, part in enumerate(parts):
        if _is_date_or_time(part):
            continue
        found = _model_and_rest(part)
        if found is None:
            continue
        model, rest = found
        serial = _serial_from_rest(rest)
        if serial is None:
            serial = next(
                (
                    p
                    for p in parts[i + 1 :]
                    if p.lower() not in _NOISE_PARTS and not _is_date_or_time(p)
                ),
                None,
            )
        break
    return NameInfo(model=model, serial=serial, test_date=_parse_date(parts))
