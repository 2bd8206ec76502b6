"""Templates both web apps render: shared/templates, reachable as "shared/<name>".

One idea, one place: the blocks both unit pages show are the same on the
station's unit page and central's, so both apps load them from here: how a
track's verdict was reached (_adjustment.html, its words from shared/explain.py
as the global `explain_track`), the trim history (_trim_history.html, with the
chart of every measurement from shared/trim_history.py as the global
`trim_history_chart`) and the station's own spec (_station_spec.html). Their
numbers and flags go through the globals `shared_num`, `shared_signed` and
`shared_yesno`, never either app's helpers. The definitions' numbers
(shared/quality.py) are globals too, so no page restates them: `near_miss_pct`
(the near-miss cutoff) and `min_rated` (tracks a Cpk rating needs).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader

from shared.charts.numbers import format_number, signed
from shared.explain import explain
from shared.formats import yesno
from shared.quality import MIN_RATED_SAMPLE, NEAR_MISS_MARGIN_PCT
from shared.trim_history import history_chart

FOLDER = Path(__file__).with_name("templates")


def install(app: Flask) -> None:
    """Add the shared templates (behind the app's own) and their global to an app."""
    shared = PrefixLoader({"shared": FileSystemLoader(FOLDER)})
    own = app.jinja_loader
    loaders: list[BaseLoader] = [own, shared] if own is not None else [shared]
    app.jinja_loader = ChoiceLoader(loaders)
    app.add_template_global(explain, "explain_track")
    app.add_template_global(format_number, "shared_num")
    app.add_template_global(signed, "shared_signed")
    app.add_template_global(yesno, "shared_yesno")
    app.add_template_global(history_chart, "trim_history_chart")
    app.jinja_env.globals.update(
        near_miss_pct=f"{NEAR_MISS_MARGIN_PCT:g}", min_rated=MIN_RATED_SAMPLE
    )
