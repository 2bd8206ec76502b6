"""What keeps other web pages out of the station page: a Host allow-list and headers.

The station page has no sign-in (the operator just looks at it), so any page a
browser on the plant network opens could read it by DNS rebinding: an
attacker's name that first points at the attacker, then at 127.0.0.1 or the
station PC. The browser then sends that name as `Host`. So the page answers
only to names of this PC, to `localhost`, to IP addresses (rebinding needs a
name), and to the names IT lists in `web.allowed_hosts`; anything else gets
400 before a view runs. The headers keep the page out of other sites' frames
and its scripts to its own files (docs/security.md).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from flask import Flask, Response, jsonify, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def machine_names() -> set[str]:
    """The names this PC answers to by itself: localhost, its host name, its full name."""
    names = {"localhost"}
    for name in (socket.gethostname(), socket.getfqdn()):
        name = name.strip().rstrip(".").lower()
        if name:
            names.update({name, name.split(".", 1)[0]})
    return names


def _host_name(host: str) -> str:
    """The name part of a Host header: no port, no brackets, no trailing dot, lower case."""
    host = host.strip().lower()
    if host.startswith("["):  # [IPv6]:port
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostAllowList:
    """Names the page answers to; an entry starting with "." allows every name under it."""

    def __init__(self, extra: Iterable[str] = (), machine: Iterable[str] | None = None) -> None:
        names = {n.strip().rstrip(".").lower() for n in extra if n.strip()}
        names |= machine_names() if machine is None else set(machine)
        self.exact = frozenset(n for n in names if not n.startswith("."))
        self.suffixes = tuple(sorted(n for n in names if n.startswith(".")))

    def allows(self, host: str | None) -> bool:
        if not host:  # an HTTP/1.0 client without Host: not a browser, nothing to rebind
            return True
        name = _host_name(host)
        return (
            _is_ip(name)
            or name in self.exact
            or name.endswith(self.suffixes)
            or name.endswith(".localhost")
        )


def init_app(app: Flask, allowed: HostAllowList) -> None:
    """Refuse foreign Host names before any view; add the security headers to every answer."""

    @app.before_request
    def _check_host() -> Response | None:
        host = request.headers.get("Host")
        if allowed.allows(host):
            return None
        message = (
            f"This station page answers to its own names only, not to {_host_name(host or '')!r}. "
            "IT: to open it by that name, add the name to web.allowed_hosts in the agent's "
            "config file."
        )
        response = (
            jsonify({"error": {"code": "host_not_allowed", "message": message}})
            if request.path.startswith("/api/")
            else Response(message, mimetype="text/plain")
        )
        response.status_code = 400
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
