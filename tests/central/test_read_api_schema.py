"""The read API against its own OpenAPI document, with schemathesis.

Schemathesis reads /api/v1/openapi.json from the real app and calls every
documented operation with parameters it generates from the document (valid
ones, and invalid ones that must be refused with a 4xx), over real HTTP
through the WSGI app, against a real seeded PostgreSQL. Every answer must be
documented (status and content type), match its body schema, never be a 5xx,
and without the read token be a 401; a request outside the document must be
refused.

Left out: schemathesis' "positive data acceptance" (every schema-valid request
answers 2xx). Some refusals are rules JSON Schema cannot state: `from` after
`to`, a calendar day that does not exist, an element type the spec table does
not have, a NUL in a name. Those are documented 400s with a message, and
tests/central/test_read_api.py asks for each one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from central.auth import read_tokens
from central.auth.audit import CLI
from central.db import Database
from central.seed import SeedPlan, seed
from central.web import create_app
from central.web.context import CentralContext
from tests.central.auth_helpers import AUTH, NO_RATE_LIMIT
from tests.conftest import migrated_database

PLAN = SeedPlan(tracks=300, stations=2, models=3, days=10, seed=21, batch_results=100)


@pytest.fixture(scope="module")
def seeded(
    postgres_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, str]]:
    for db in migrated_database(postgres_admin_url, tmp_path_factory.mktemp("schema")):
        seed(db, PLAN)
        yield db, read_tokens.issue(db, "schemathesis", CLI).secret


@pytest.fixture(scope="module")
def app(seeded: tuple[Database, str]) -> Flask:
    app = create_app(CentralContext(db=seeded[0], limits=NO_RATE_LIMIT, auth=AUTH))
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


# Schemathesis' own pytest plugin (schema.parametrize) does not run under pytest 9 here
# ("'Function' object has no attribute '_nodeid'"): the cases are drawn from its
# per-operation Hypothesis strategies instead, which is what the plugin does too.
OPERATIONS = [
    "/api/v1/overview",
    "/api/v1/quality",
    "/api/v1/stations",
    "/api/v1/alarms",
    "/api/v1/models",
    "/api/v1/models/{model}",
    "/api/v1/models/{model}/stations",
    "/api/v1/models/{model}/compare",
    "/api/v1/units",
    "/api/v1/units/{result_id}",
    "/api/v1/priorities",
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("path", OPERATIONS)
def test_every_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema,
    seeded: tuple[Database, str],
    path: str,
    mode: GenerationMode,
) -> None:
    (operation,) = [
        found.ok() for found in api_schema.get_all_operations() if found.ok().path == path
    ]
    strategy = operation.as_strategy(generation_mode=mode)
    headers = {"Authorization": f"Bearer {seeded[1]}"}

    @given(case=strategy)
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def answers(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    answers()


def test_the_document_covers_every_read_route(app: Flask) -> None:
    documented = set(app.test_client().get("/api/v1/openapi.json").get_json()["paths"])
    routed = {
        rule.rule.replace("<path:model>", "{model}").replace("<uuid:result_id>", "{result_id}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("read_api.") and rule.endpoint != "read_api.openapi"
    }
    assert routed == documented == set(OPERATIONS)
