"""The plant's free-text spec cells, read in the column they describe.

The model-reference workbook QA imports holds cells written for people:
`± 0.5% (Absolute)` in the linearity column, `950 - 1,050 Ω` in the
resistance column, `1.31" ± .005"` or `340° ± 2°` in the angle column. Each
parser turns one such cell into the numbers of one or more spec fields and
raises ValueError with words QA can act on when it cannot. A cell that is a
bare number stays a bare number, so a file this program exported (one number
per cell) reads back unchanged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

MAX_FREE_TEXT = 120  # longer cells are not a spec someone typed

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?"
_PLUS_MINUS = r"(?:±|\+/-|\+-|\+ / -)"
_UNIT_SCALE = {
    "": 1.0,
    "ω": 1.0,
    "ohm": 1.0,
    "ohms": 1.0,
    "k": 1e3,
    "kω": 1e3,
    "kohm": 1e3,
    "kohms": 1e3,
    "m": 1e6,
    "mω": 1e6,
    "mohm": 1e6,
    "mohms": 1e6,
}


def number(text: str) -> float:
    """'1,050' -> 1050.0, '.005' -> 0.005; ValueError for anything else (inf, nan, words)."""
    cleaned = text.strip().replace(",", "")
    if not cleaned or not re.fullmatch(_NUMBER, cleaned):
        raise ValueError(f"'{text.strip()[:40]}' is not a number")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(f"'{text.strip()[:40]}' is not a finite number")
    return value


def _bounded(text: str) -> str:
    if len(text) > MAX_FREE_TEXT:
        raise ValueError(f"is over {MAX_FREE_TEXT} characters")
    # Non-breaking and thin spaces come with text pasted from Word and PDFs.
    return " ".join(text.replace("\u00a0", " ").replace("\u2009", " ").split())


@dataclass(frozen=True)
class Linearity:
    """A linearity cell: the half band (None for text such as 'See Chart'), its unit, type."""

    value: float | None
    unit: str | None  # "%" (of the test voltage) or "V"; None for a bare number
    kind: str | None  # the linearity type written in brackets: Absolute, Independent, ...
    note: str | None  # text kept as written when the cell holds no number


_LINEARITY = re.compile(
    rf"^(?:{_PLUS_MINUS})?\s*(?P<value>{_NUMBER})\s*(?P<unit>%|v|volts?)?\s*"
    r"(?:\((?P<kind>[A-Za-z][A-Za-z .-]{0,40})\))?\s*(?P<kind2>[A-Za-z][A-Za-z .-]{0,40})?$",
    re.IGNORECASE,
)


def parse_linearity(text: str) -> Linearity:
    """'± 0.5% (Absolute)' -> 0.5 %, Absolute; '0.01' -> 0.01; 'See Chart' -> a note."""
    cell = _bounded(text)
    match = _LINEARITY.match(cell)
    if match is None or not re.search(r"\d", match.group("value") or ""):
        if re.search(r"\d", cell):
            raise ValueError(f"'{cell[:40]}' is not a linearity like '± 0.5% (Absolute)'")
        return Linearity(None, None, None, cell)
    value = abs(number(match.group("value")))
    if value <= 0.0:
        raise ValueError(f"'{cell[:40]}': the linearity spec must be above 0")
    unit = match.group("unit")
    shown_unit = None if unit is None else ("%" if unit == "%" else "V")
    kind = match.group("kind") or match.group("kind2")
    return Linearity(value, shown_unit, kind.strip().title() if kind else None, None)


_RANGE = re.compile(
    rf"^(?P<low>{_NUMBER})\s*(?P<lu>[kKmM]?\s*(?:Ω|ohms?)?)\s*(?:-|\u2013|\u2014|to)\s*"
    rf"(?P<high>{_NUMBER})\s*(?P<hu>[kKmM]?\s*(?:Ω|ohms?)?)$",
    re.IGNORECASE,
)
_AROUND = re.compile(
    rf"^(?P<mid>{_NUMBER})\s*(?P<mu>[kKmM]?\s*(?:Ω|ohms?)?)\s*{_PLUS_MINUS}\s*"
    rf"(?P<tol>{_NUMBER})\s*(?P<tu>%|[kKmM]?\s*(?:Ω|ohms?)?)$",
    re.IGNORECASE,
)
_SINGLE = re.compile(rf"^(?P<value>{_NUMBER})\s*(?P<unit>[kKmM]?\s*(?:Ω|ohms?)?)$", re.IGNORECASE)


def _scale(unit: str | None) -> float:
    key = (unit or "").replace(" ", "").lower()
    if key not in _UNIT_SCALE:
        raise ValueError(f"'{unit}' is not a resistance unit")
    return _UNIT_SCALE[key]


def parse_resistance(text: str) -> tuple[float, float | None]:
    """'950 - 1,050 Ω' -> (950, 1050); '10K ± 10%' -> (9000, 11000); '950' -> (950, None)."""
    cell = _bounded(text)
    match = _RANGE.match(cell)
    if match:
        high_scale = _scale(match.group("hu"))
        low_scale = _scale(match.group("lu")) if match.group("lu").strip() else high_scale
        low = number(match.group("low")) * low_scale
        high = number(match.group("high")) * high_scale
        if low > high:
            raise ValueError(f"'{cell[:40]}' runs from high to low")
        return low, high
    match = _AROUND.match(cell)
    if match:
        mid = number(match.group("mid")) * _scale(match.group("mu"))
        tol = number(match.group("tol"))
        tol = mid * tol / 100.0 if match.group("tu") == "%" else tol * _scale(match.group("tu"))
        return mid - abs(tol), mid + abs(tol)
    match = _SINGLE.match(cell)
    if match:
        return number(match.group("value")) * _scale(match.group("unit")), None
    raise ValueError(f"'{cell[:40]}' is not a resistance like '950 - 1,050 Ω'")


_ANGLE_UNIT = r"(?:°|deg(?:rees?)?|\"|''|in(?:ch(?:es)?)?|”|″)?"
_ANGLE = re.compile(
    rf"^(?P<nominal>{_NUMBER})\s*{_ANGLE_UNIT}\s*(?:{_PLUS_MINUS}\s*(?P<tol>{_NUMBER})\s*"
    rf"{_ANGLE_UNIT})?$",
    re.IGNORECASE,
)


def parse_angle(text: str) -> tuple[float, float | None]:
    """'1.31" ± .005"' -> (1.31, 0.005); '340° ± 2°' -> (340, 2); '340' -> (340, None)."""
    cell = _bounded(text)
    match = _ANGLE.match(cell)
    if match is None:
        raise ValueError(f"'{cell[:40]}' is not an angle like '340° ± 2°' or '1.31\" ± .005\"'")
    nominal = number(match.group("nominal"))
    tol = match.group("tol")
    return nominal, None if tol is None else abs(number(tol))
