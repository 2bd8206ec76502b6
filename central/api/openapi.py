"""The OpenAPI 3.1 document of the read API, generated from what the routes declare.

Each route declares its path, its query parameters (`Param`) and its body
model (central/api/schemas.py) once, in the decorator that registers it
(central/api/routes.py); this module turns those declarations into the
document served at /api/v1/openapi.json. Nothing is written twice, so the
document and the routes cannot disagree; the tests call every documented
operation and validate each answer against the document (schemathesis).

The station protocol (/api/v1/results, heartbeat, token-check, specs) is not
in this document: it is for agents, versioned by shared/protocol.py, and
authenticated by station tokens this API refuses (docs/decisions/0023).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from central.api.schemas import ErrorBody
from shared.version import __version__

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Param:
    """One parameter, in the query unless `in_path`."""

    name: str
    schema: dict[str, Any]
    description: str
    repeated: bool = False
    in_path: bool = False

    def document(self) -> dict[str, Any]:
        schema = {"type": "array", "items": self.schema} if self.repeated else self.schema
        found: dict[str, Any] = {
            "name": self.name,
            "in": "path" if self.in_path else "query",
            "required": self.in_path,
            "description": self.description,
            "schema": schema,
        }
        if self.repeated:
            found.update(style="form", explode=True)
        return found


@dataclass(frozen=True)
class Operation:
    """One GET of the API: its OpenAPI path (`{name}` for path parameters) and body."""

    path: str
    operation_id: str
    summary: str
    body: type[BaseModel]
    params: tuple[Param, ...]
    csv: bool = False  # `format=csv` gives the table as CSV
    not_found: bool = False  # a path parameter may name nothing: 404
    tags: tuple[str, ...] = field(default=())


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorBody")}}},
    }


def _responses(op: Operation) -> dict[str, Any]:
    ok: dict[str, Any] = {
        "application/json": {"schema": {"$ref": REF.format(model=op.body.__name__)}}
    }
    if op.csv:
        ok["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {
        "200": {"description": "The figures.", "content": ok},
        "400": _error("A parameter cannot be used; the message says what to send."),
        "401": _error("Neither a session nor a live read token."),
        "429": _error("Too many requests with this read token; retry after Retry-After s."),
    }
    if op.not_found:
        responses["404"] = _error("Nothing has that name or id.")
    return responses


def document(operations: list[Operation]) -> dict[str, Any]:
    """The whole document for these operations."""
    models = {op.body for op in operations} | {ErrorBody}
    _, schemas = models_json_schema(
        [(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    paths: dict[str, Any] = {}
    for op in operations:
        paths.setdefault(op.path, {})["get"] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": list(op.tags),
            "parameters": [p.document() for p in op.params],
            "responses": _responses(op),
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Laser Trim Analyzer central: read API",
            "version": __version__,
            "description": (
                "Every figure the QA dashboard shows, with the same filters as its pages. "
                "Sign in (the dashboard's session cookie) or send a read token that an admin "
                "issued: 'Authorization: Bearer ltar_...'. Read only. Tables also come as "
                "CSV with format=csv."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "readToken": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "lta_session"},
            },
        },
        "security": [{"readToken": []}, {"session": []}],
    }
