"""Central's web app: the ingest API for stations, the dashboard, health and metrics.

`create_app` builds a fresh app from its collaborators and does nothing at
import time, so tests make as many apps as they like.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from central.queries.filters import QueryError
from central.web.context import CentralContext
from shared import page_templates
from shared.untrusted import template_text

# No inline script or style anywhere on the dashboard (charts are inline SVG with classes),
# so the browser may refuse both: an injected tag would run nothing (docs/security.md).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _register_specs(app: Flask) -> None:
    """QA's model-spec table: its pages, the stations' GET /api/v1/specs and /quality."""
    from central.specs.api import bp as specs_api
    from central.specs.quality_web import bp as quality_page
    from central.specs.web import bp as specs_pages

    app.register_blueprint(specs_api)
    app.register_blueprint(specs_pages)
    app.register_blueprint(quality_page)


def _register_read_api(app: Flask) -> None:
    """The read API for QA's own tools (/api/v1/overview, /models, ...; central/api)."""
    from central.api.routes import bp as read_api

    app.register_blueprint(read_api)


def create_app(ctx: CentralContext) -> Flask:
    from central.web import (
        admin,
        auth,
        csrf,
        export,
        format,
        health,
        ingest,
        models,
        overview,
        priorities,
        units,
    )

    app = Flask(__name__)
    app.extensions["lta-central"] = ctx
    # Station text on every page: control and direction characters shown, not obeyed.
    app.jinja_env.finalize = template_text
    page_templates.install(app)
    format.register(app)
    app.config["MAX_CONTENT_LENGTH"] = ctx.limits.max_body_bytes
    if ctx.auth.behind_tls_proxy:
        # One proxy hop: its X-Forwarded-For is the client (audit log), -Proto says https.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    app.register_blueprint(ingest.bp)
    app.register_blueprint(health.bp)
    auth.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(admin.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(units.bp)
    app.register_blueprint(models.bp)
    app.register_blueprint(priorities.bp)
    _register_specs(app)
    _register_read_api(app)

    @app.after_request
    def dashboard_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.path.startswith("/api/"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    @app.errorhandler(QueryError)
    def query_error(exc: QueryError) -> Any:
        """A filter, cursor or name no query can use is the request's fault: 400, never 500."""
        return http_error(BadRequest(description=exc.message))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            return jsonify({"error": {"code": code, "message": exc.description}}), exc.code
        if exc.code is not None and exc.code >= 400:
            # The dashboard's own page, keeping headers such as a 405's Allow.
            headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
            return render_template("error.html", error=exc), exc.code, headers
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("Unhandled error")
        body = {"error": {"code": "internal_error", "message": "Unexpected server error."}}
        return jsonify(body), 500

    return app
