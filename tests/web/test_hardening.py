"""Security headers on every route; no caching of authenticated pages; cookie flags."""

from __future__ import annotations

import re

import pytest

from .conftest import ROUTES, make_user, sign_in_as

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize("signed_in", [False, True])
def test_headers_on_every_route(app, signed_in):
    client = app.test_client()
    if signed_in:
        user = make_user(app, "juf.a", "regenboog", "ib", admin=True)
        sign_in_as(app, client, user.id, "regenboog")
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == {name.split(":")[0] for name in ROUTES}
    for name, (method, template) in ROUTES.items():
        url = template.format(d=1, u=1, s="regenboog", b="stichting")
        response = client.open(url, method=method)
        response.close()
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "unsafe-inline" not in csp
        for header, value in HEADERS.items():
            assert response.headers.get(header) == value, (url, header)
        if name != "static":
            assert response.headers.get("Cache-Control") == "no-store", url
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_over_https(app):
    response = app.test_client().get("/inloggen", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_production_cookie_is_host_prefixed_secure_httponly_lax(app):
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    response = client.get("/inloggen", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-meldroute=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_no_inline_script_or_style_in_pages(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    for url in ("/inloggen", "/dossiers", f"/dossiers/{dossier}", "/contacten"):
        html = browser.get(url)
        # a script only as a file of our own (CSP script-src 'self'), never inline
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
        assert all(not body.strip() for body in scripts)
        assert all(re.fullmatch(r'<script src="/static/[a-z]+\.js" defer>', tag)
                   for tag in re.findall(r"<script[^>]*>", html))
        assert "style=" not in html and "<style" not in html


def test_error_pages_are_generic(app, browser):
    browser.login("ib")
    page = browser.get("/dossiers/12345", status=404)
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()
