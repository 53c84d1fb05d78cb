"""Security headers on every response; no caching of anything but static files; the
client's address behind a trusted reverse proxy; URLs and forms that the database cannot
take (NUL bytes, ids beyond its integers) refused before any view sees them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .settings import SettingError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
MAX_ID = 2**31 - 1  # the largest id every database (PostgreSQL's integer) can hold
FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
             "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BoundedInt(IntegerConverter):
    """``<int:...>`` that matches only ids the database can hold: a larger number is a
    page that does not exist (404), not a database error."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def trusted_networks(value: str | Iterable[str] | None) -> list[Network]:
    """MELDROUTE_TRUSTED_PROXY: addresses or networks (``10.0.0.0/8``), comma-separated."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingError(f"MELDROUTE_TRUSTED_PROXY: '{item[:60]}' is geen IP-adres of "
                               "netwerk (bijvoorbeeld 127.0.0.1 of 10.0.0.0/24)") from None
    return networks


class TrustedProxyFix:
    """werkzeug's ProxyFix, applied only to requests that come from a trusted proxy:
    from anyone else, ``X-Forwarded-*`` headers are dropped (ProxyFix alone believes
    whoever sends them)."""

    def __init__(self, wsgi_app: Any, networks: Sequence[Network], hops: int = 1) -> None:
        self.wsgi_app = wsgi_app
        self.networks = list(networks)
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=hops)

    def trusted(self, remote: str | None) -> bool:
        try:
            peer = ipaddress.ip_address((remote or "").split("%")[0])
        except ValueError:
            return False
        return any(peer in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in FORWARDED:
            environ.pop(key, None)
        return self.wsgi_app(environ, start_response)


def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or (isinstance(value, str) and "\x00" in value):
                return True
    return False


def register_early(app: Flask) -> None:
    """Before the blueprints: the bounded ``int`` converter, the trusted proxy."""
    app.url_map.converters["int"] = BoundedInt
    networks = trusted_networks(app.config.get("TRUSTED_PROXIES"))
    if networks:
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, networks)  # type: ignore[method-assign]


def register(app: Flask) -> None:
    def refuse_nul() -> None:
        if _has_nul():
            abort(400)

    def head_as_get() -> None:
        # HEAD is GET without the body (RFC 9110, 9.3.2): views answer it as their GET, so
        # a HEAD never runs a view's write branch (werkzeug still sends no body)
        if request.method == "HEAD":
            request.method = "GET"

    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
    app.before_request_funcs[None].insert(0, head_as_get)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; " \
                                                            "includeSubDomains"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        response.headers.pop("Server", None)
        return response
