"""CSRF protection for the dashboard: every state-changing request carries a token.

A signed-in user's token belongs to their session (stored with it in
PostgreSQL, so every central instance knows it). The sign-in form, which has
no session yet, uses a random token kept in a cookie and repeated in the
form: another site can make the browser send the cookie but cannot read it
to fill in the form.

Pages put `{{ csrf_field() }}` inside every `<form method="post">`; scripts
may send the token in the `X-CSRF-Token` header instead. The ingest API
(`/api/`) is exempt: stations authenticate with a bearer token that a browser
never sends by itself, and the API never looks at cookies.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, g, request
from markupsafe import Markup, escape

from central.web.context import context

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
LOGIN_COOKIE = "lta_login_csrf"
LOGIN_ENDPOINT = "auth.login"
LOGIN_COOKIE_MAX_AGE = 8 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_PREFIX = "/api/"


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.after_request(_set_login_cookie)
    app.add_template_global(csrf_token)
    app.add_template_global(csrf_field)


def csrf_token() -> str:
    """The token the page's forms must send back."""
    from central.web.auth import current_session

    session = current_session()
    if session is not None and request.endpoint != LOGIN_ENDPOINT:
        return session.csrf_token
    return login_token()


def csrf_field() -> Markup:
    """The hidden form field holding the token: `{{ csrf_field() }}` in every POST form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(csrf_token()))


def login_token() -> str:
    """The sign-in form's token: the browser's cookie if it has one, else a new one."""
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not _well_formed(token):
        token = g.get("lta_new_login_csrf") or secrets.token_urlsafe(32)
        g.lta_new_login_csrf = token
    return token


def _well_formed(token: str) -> bool:
    return 20 <= len(token) <= 100


def _set_login_cookie(response: Response) -> Response:
    token = g.get("lta_new_login_csrf")
    if token:
        response.set_cookie(
            LOGIN_COOKIE,
            token,
            max_age=LOGIN_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=context().auth.behind_tls_proxy,
        )
    return response


def _expected() -> str | None:
    from central.web.auth import current_session

    if request.endpoint == LOGIN_ENDPOINT:
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        return cookie if _well_formed(cookie) else None
    session = current_session()
    return None if session is None else session.csrf_token


def _check() -> None:
    """Refuse a state-changing dashboard request whose token is missing or wrong (403)."""
    if request.method in SAFE_METHODS or request.path.startswith(EXEMPT_PREFIX):
        return
    expected = _expected()
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if expected is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(
            403,
            description=(
                "This form has expired or did not come from this dashboard, so nothing was "
                "changed. Reload the page (sign in again if asked) and repeat the action. "
                "Your browser must accept cookies from this site."
            ),
        )
