"""One way to write a percentage, a flag and a time on every page of both programs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, render_template_string

from central.web import format as central_format
from shared.formats import pct, yesno


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (12.345, 0, "12 %"),
        (12.345, 1, "12.3 %"),
        (100.0, 1, "100.0 %"),
        (0.0, 1, "0 %"),  # too small to show has no sign and no decimals
        (-0.004, 2, "0 %"),
        (-1.5, 1, "-1.5 %"),
        (None, 1, "—"),
        (math.nan, 0, "—"),
        (math.inf, 0, "—"),
    ],
)
def test_percentages(value: float | None, decimals: int, expected: str) -> None:
    assert pct(value, decimals) == expected


def test_flags_keep_unknown_apart_from_no() -> None:
    assert (yesno(True), yesno(False), yesno(None)) == ("yes", "no", "—")


def test_every_dashboard_template_gets_the_same_helpers() -> None:
    app = Flask(__name__)
    central_format.register(app)
    when = datetime(2025, 3, 6, 5, 22, 7, tzinfo=UTC)
    with app.app_context():
        text = render_template_string(
            "{{ pct(x, 1) }}|{{ num(0.0123456) }}|{{ when | utc }}|{{ when | utc(seconds=True) }}"
            "|{{ utc_time(when) }}|{{ made(when) }}|{{ p_phrase(0.02134) }}|{{ p_phrase(1e-9) }}"
            "|{{ status_class('Pass') }}|{{ ago(none) }}|{{ span(5400) }}",
            x=99.94,
            when=when,
        )
    assert text.split("|") == [
        "99.9 %",
        "0.0123",
        "2025-03-06 05:22",
        "2025-03-06 05:22:07",
        "2025-03-06 05:22:07 UTC",
        "2025-03-06 05:22",
        "p = 0.0213",
        "p &lt; 0.0001",  # escaped like every value a page shows
        "pass",
        "never",
        "1.5 h",
    ]


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(5, "5 s ago"), (600, "10 min ago"), (7200, "2 h ago"), (3 * 86400, "3 days ago")],
)
def test_ago(seconds: int, expected: str) -> None:
    assert central_format.ago(datetime.now(UTC) - timedelta(seconds=seconds)) == expected
