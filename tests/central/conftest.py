"""Fixtures of the central tests: an emptied database, dashboard accounts, a test client.

Creating and migrating a database costs a third of a second, so each module
shares tests/conftest.py's `module_db` and every test starts from its tables
emptied (`central_db` here overrides the root's database of its own). Nothing
is mocked: the app is central's real `create_app`, the database a real
PostgreSQL. Plain helpers (sign-in, batches, alarm series) are in
tests/central/*_helpers.py.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from central.auth.audit import CLI
from central.auth.users import Role, add_user
from central.db import Database
from tests.central.auth_helpers import (
    ADMIN,
    ADMIN_PASSWORD,
    VIEWER,
    VIEWER_PASSWORD,
    Accounts,
    make_client,
)
from tests.conftest import emptied


@pytest.fixture
def central_db(module_db: Database) -> Database:
    """The module's database emptied: what a fresh database holds."""
    return emptied(module_db)


@pytest.fixture
def accounts(central_db: Database) -> Accounts:
    """One admin and one viewer, added the way `lta-central user add` adds them."""
    add_user(central_db, ADMIN, Role.ADMIN, ADMIN_PASSWORD, CLI)
    add_user(central_db, VIEWER, Role.VIEWER, VIEWER_PASSWORD, CLI)
    return Accounts()


@pytest.fixture
def client(central_db: Database) -> FlaskClient:
    """The dashboard with sign-in and ingest limits no test meets by accident."""
    return make_client(central_db)
