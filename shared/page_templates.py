"""Templates both web apps render: shared/templates, reachable as "shared/<name>".

One idea, one place: the blocks both unit pages show, the one that says how a
track's verdict was reached (shared/templates/_adjustment.html, its words
from shared/explain.py as the template global `explain_track`) and the trim
history (_trim_history.html, numbers through `shared_num` and
`shared_signed`), are the same on the station's unit page and central's, so
both apps load them from here.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, PrefixLoader

from shared.explain import explain
from shared.plot import format_number, signed

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
