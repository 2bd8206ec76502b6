"""Central's web app: the ingest API for stations, health and metrics.

`create_app` builds a fresh app from its collaborators and does nothing at
import time, so tests make as many apps as they like.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from central.web.context import CentralContext


def create_app(ctx: CentralContext) -> Flask:
    from central.web import health, ingest

    app = Flask(__name__)
    app.extensions["lta-central"] = ctx
    app.config["MAX_CONTENT_LENGTH"] = ctx.limits.max_body_bytes
    app.register_blueprint(ingest.bp)
    app.register_blueprint(health.bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            code = (exc.name or "error").lower().replace(" ", "_")
            return jsonify({"error": {"code": code, "message": exc.description}}), exc.code
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("Unhandled error")
        body = {"error": {"code": "internal_error", "message": "Unexpected server error."}}
        return jsonify(body), 500

    return app
