"""The station's local web app: status page, JSON API, health and metrics.

`create_app` builds a fresh app from its collaborators and does nothing at
import time, so tests make as many apps as they like.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from agent.web.context import AgentContext
from shared import page_templates, trim_history
from shared.untrusted import template_text


def create_app(ctx: AgentContext) -> Flask:
    from agent.web import api, health, pages, security

    app = Flask(__name__)
    app.extensions["lta"] = ctx
    # Station text (file names, notes) on the page: control and direction characters shown.
    app.jinja_env.finalize = template_text
    security.init_app(app, security.HostAllowList(ctx.allowed_hosts))
    app.add_template_global(trim_history.pass_views, "trim_passes")
    page_templates.install(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        from flask import request

        if request.path.startswith("/api/"):
            body = {
                "error": {"code": exc.name.lower().replace(" ", "_"), "message": exc.description}
            }
            return jsonify(body), exc.code
        return exc

    return app
