"""Who may read the API: a signed-in dashboard user, or a live read token.

A browser that is signed in reads the API with its session cookie (any role:
the figures are what a viewer sees on the pages). A tool sends
`Authorization: Bearer ltar_...`, a read token an admin issued
(central/auth/read_tokens.py). Anything else is a 401 with a JSON body that
says what to send: no redirect to the sign-in page, which a script cannot
follow. A station token is refused with a message naming the mistake, since
a station token in a reporting tool is the likely one.

Tokens are rate-limited per token with the ingest's token bucket (its own
keys, so a busy report never slows a station); sessions are people at a
browser and are not limited here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import request

from central.auth import read_tokens
from central.web.auth import current_session
from central.web.context import context

P = ParamSpec("P")
R = TypeVar("R")


class ApiRefusal(Exception):  # noqa: N818 - an answer to send, not a fault
    """An answer other than 200 that the API sends as {"error": {code, message}}."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


HOW = (
    "Sign in to the dashboard, or send a read token as 'Authorization: Bearer ltar_...' "
    "(an admin issues one under Admin > Read tokens)."
)


def _check_token(header: str) -> None:
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise ApiRefusal(401, "unauthorized", HOW)
    if not read_tokens.looks_like_read_token(secret):
        raise ApiRefusal(
            401,
            "not_a_read_token",
            "This is not a read token: station tokens only send results. " + HOW,
        )
    found = read_tokens.holder(context().db, secret)
    if found is None:
        raise ApiRefusal(401, "unauthorized", "Unknown read token. " + HOW)
    if found.revoked:
        raise ApiRefusal(
            401, "token_revoked", f"The read token {found.name!r} has been revoked. " + HOW
        )
    wait = context().limiter.acquire(f"read-token:{found.pk}")
    if wait > 0:
        raise ApiRefusal(429, "rate_limited", "Too many requests with this token; slow down.", wait)


def read_access(view: Callable[P, R]) -> Callable[P, R]:
    """The view runs for a session or a live read token; others get a JSON 401."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        header = request.headers.get("Authorization", "")
        if header:
            _check_token(header)
        elif current_session() is None:
            raise ApiRefusal(401, "unauthorized", HOW)
        return view(*args, **kwargs)

    return guarded
