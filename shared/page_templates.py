"""Templates both web apps render: shared/templates, reachable as "shared/<name>".

One idea, one place: the block that says how a track's verdict was reached
(shared/templates/_adjustment.html) is the same on the station's unit page
and central's, so both apps load it from here, with its words from
shared/explain.py as the template global `explain_track`; so is the trim-history
chart (`trim_history_chart`, shared/trim_history.py), drawn alike on both unit pages.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader

from shared.explain import explain
from shared.trim_history import history_chart

FOLDER = Path(__file__).with_name("templates")


def install(app: Flask) -> None:
    """Add the shared templates (behind the app's own) and their global to an app."""
    shared = PrefixLoader({"shared": FileSystemLoader(FOLDER)})
    own = app.jinja_loader
    loaders: list[BaseLoader] = [own, shared] if own is not None else [shared]
    app.jinja_loader = ChoiceLoader(loaders)
    app.add_template_global(explain, "explain_track")
    app.add_template_global(history_chart, "trim_history_chart")
