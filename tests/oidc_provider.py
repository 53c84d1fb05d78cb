"""A small, real OpenID Connect provider for the tests, on loopback.

It serves what a school's identity provider serves: a discovery document
(``/.well-known/openid-configuration``), its signing keys (``/jwks``, RS256), an
authorization endpoint that shows a sign-in page with one button (the person who "signed
in at the school" is set by the test), a token endpoint (client secret by HTTP Basic or
in the form; the code once only, bound to the redirect URI, PKCE S256 checked) that
returns an ID token signed with its key, and an end-session endpoint.

A test can make it misbehave the way a real provider or an attacker would: a tampered ID
token (the payload changed after signing), a wrong nonce, an expired token, a clock that
runs ahead. Built on werkzeug and joserfc (Authlib's JOSE library); not a mock of the
client: the app talks to it over HTTP like to any provider.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    claims: dict[str, Any]
    used: bool = False


@dataclass
class Provider:
    """Clients: client id -> (secret, redirect URI prefix)."""

    clients: dict[str, tuple[str, str]] = field(default_factory=dict)
    person: dict[str, Any] = field(default_factory=lambda: {"sub": "p-1"})
    fault: str | None = None  # tamper, nonce, expired, future
    lifetime: int = 300
    grants: dict[str, Grant] = field(default_factory=dict)
    url: str = ""

    # --- the endpoints ---------------------------------------------------------------------

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        route = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                 "/authorize": self.authorize, "/token": self.token,
                 "/logout": self.logout}.get(request.path)
        response = route(request) if route else Response("not found", 404)
        return response(environ, start_response)

    def discovery(self, _request: Request) -> Response:
        return _json({
            "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/logout",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "scopes_supported": ["openid", "profile", "email"]})

    def jwks(self, _request: Request) -> Response:
        return _json({"keys": [_KEY.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        args = request.form if request.method == "POST" else request.args
        client = self.clients.get(args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if client is None or not redirect_uri.startswith(client[1]):
            return Response("unknown client or redirect_uri", 400)
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            return Response("unsupported request", 400)
        if request.method == "GET":  # the provider's own sign-in page
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                             f'value="{html.escape(v)}">' for k, v in args.items())
            return Response(
                '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Test-IdP'
                '</title></head><body><main><h1>Inloggen bij de school (test)</h1>'
                f'<form method="post" action="/authorize">{hidden}'
                '<button type="submit">Doorgaan</button></form></main></body></html>',
                content_type="text/html; charset=utf-8")
        code = secrets.token_urlsafe(24)
        method = args.get("code_challenge_method")
        self.grants[code] = Grant(args["client_id"], redirect_uri, args.get("nonce"),
                                  args.get("code_challenge") if method == "S256" else None,
                                  dict(self.person))
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{redirect_uri}?{query}"})

    def token(self, request: Request) -> Response:
        client_id, secret = _client_auth(request)
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client[0], secret):
            return _json({"error": "invalid_client"}, 401)
        grant = self.grants.get(request.form.get("code", ""))
        if request.form.get("grant_type") != "authorization_code" or grant is None \
                or grant.used or grant.client_id != client_id \
                or grant.redirect_uri != request.form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        grant.used = True  # a code is good for one exchange only
        verifier = request.form.get("code_verifier", "")
        if grant.challenge is None or _s256(verifier) != grant.challenge:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        return _json({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                      "expires_in": 300, "id_token": self.id_token(grant)})

    def logout(self, request: Request) -> Response:
        back = request.args.get("post_logout_redirect_uri")
        if back:
            return Response(status=302, headers={"Location": back})
        return Response("<!doctype html><title>Uitgelogd</title><p>Uitgelogd bij de school.",
                        content_type="text/html; charset=utf-8")

    # --- the ID token ----------------------------------------------------------------------

    def id_token(self, grant: Grant) -> str:
        moment = int(time.time())
        if self.fault == "expired":
            moment -= self.lifetime + 600  # issued and expired well before now
        if self.fault == "future":
            moment += 3600  # the provider's clock an hour ahead
        claims = {"iss": self.url, "aud": grant.client_id, "iat": moment,
                  "exp": moment + self.lifetime, "auth_time": moment, **grant.claims}
        if grant.nonce is not None:
            claims["nonce"] = "een-andere-nonce" if self.fault == "nonce" else grant.nonce
        token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, _KEY)
        if self.fault == "tamper":  # another person, with the signature of the first
            header, _payload, signature = token.split(".")
            changed = _b64(json.dumps({**claims, "sub": "iemand-anders"}).encode())
            token = f"{header}.{changed}.{signature}"
        return token

    # --- running ---------------------------------------------------------------------------

    def start(self) -> Provider:
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _client_auth(request: Request) -> tuple[str, str]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username or "", request.authorization.password or ""
    return request.form.get("client_id", ""), request.form.get("client_secret", "")
