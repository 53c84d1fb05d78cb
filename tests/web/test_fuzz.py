"""Whatever is posted to a step form: never a 500, and escaped on the page."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import TOKEN, records, walk_to_afwegen

NAMES = ["observaties-0-datum", "observaties-0-feit", "observaties-0-waargenomen_door",
         "observaties-7-feit", "observaties-99-bron", "observaties-x-feit", "interpretatie",
         "signaleren_checklist", "sterk_vermoeden", "actie_nodig", "base_version", "action",
         "geconsulteerd", "onbekend", "observaties-", "observaties--1-feit"]
values = st.one_of(st.text(max_size=300), st.sampled_from(
    ["ja", "nee", "twijfel", "2026-11-20", "2099-01-01", "0", "-1", "add:observaties",
     "add:interpretatie", "add:bestaat_niet", "<script>alert(1)</script>", "9" * 40]))
posts = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(fields=posts, step=st.sampled_from(["signaleren", "afwegen", "beslissen", "x"]))
def test_no_post_gives_a_500(browser, fields, step):
    if not getattr(browser, "dossier", None):
        browser.login("ib")
        browser.dossier = browser.new_dossier()
        walk_to_afwegen(browser, browser.dossier)
    html = browser.get(f"/dossiers/{browser.dossier}/stap/afwegen")
    data: dict[str, list[str]] = {"csrf_token": [TOKEN.search(html).group(1)]}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    response = browser.client.post(f"/dossiers/{browser.dossier}/stap/{step}", data=data)
    assert response.status_code in (200, 302, 400, 404, 409), response.status_code
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert not re.search(r"Traceback|sqlalchemy\.", body)


def test_too_large_a_post_is_refused(app, browser):
    browser.login("ib")
    dossier = browser.new_dossier()
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    response = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data={
        "csrf_token": TOKEN.search(html).group(1), "interpretatie": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert records(app) == 0


FORM_ROUTES = ["/inloggen", "/dossiers/nieuw", "/account", "/beheer/gebruikers",
               "/inloggen/code", "/inloggen/tweestapsverificatie"]
FORM_NAMES = ["username", "password", "pupil_initials", "pupil_group", "pupil_name",
              "pupil_birthdate", "current", "code", "new", "repeat", "display_name",
              "membership", "user", "extra"]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=st.sampled_from(FORM_ROUTES),
       fields=st.lists(st.tuples(st.sampled_from(FORM_NAMES), values), max_size=10))
def test_no_form_post_gives_a_500(app, route, fields):
    from .conftest import make_user, sign_in_as

    if not getattr(app, "_fuzz_user", None):
        app._fuzz_user = make_user(app, "fuzz.admin", "regenboog", "ib", admin=True)
    client = app.test_client()
    sign_in_as(app, client, app._fuzz_user.id, "regenboog")
    page = client.get("/dossiers/nieuw").get_data(as_text=True)
    data: dict[str, list[str]] = {"csrf_token": [TOKEN.search(page).group(1)]}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    response = client.post(route, data=data)
    body = response.get_data(as_text=True)
    assert response.status_code in (200, 302, 400, 401, 404, 409, 429), response.status_code
    assert "<script>alert(1)</script>" not in body
    assert "Traceback" not in body
    too_long = client.post("/dossiers/nieuw", data={
        "csrf_token": TOKEN.search(page).group(1), "pupil_initials": "A" * 11,
        "pupil_group": "1", "pupil_name": "x"})
    assert too_long.status_code == 400
