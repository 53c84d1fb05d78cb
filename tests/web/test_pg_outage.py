"""Issue 12, item 2 under a real outage: PostgreSQL is stopped while people work, then
started again. While it is down every page is the Dutch 503 page (a failed save shows
what was typed); after it is back the same app serves normally, without a restart.

``.ci/run`` exports ``MELDROUTE_TEST_PGCTL``: the pg_ctl command line for the test
database's cluster (``-D`` data folder, ``-l`` log, ``-o`` server options), to which the
test adds ``stop`` or ``start``. Without it the test is skipped, except under CI=true.
"""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest
from flask import Flask

from .conftest import BASE, SIGNALEREN, TOKEN, Browser, records
from .test_outage import assert_unavailable_page

PGCTL = os.environ.get("MELDROUTE_TEST_PGCTL")


def pg_ctl(*action: str) -> None:
    assert PGCTL is not None
    subprocess.run([*shlex.split(PGCTL), *action], check=True, capture_output=True,
                   timeout=120)


def test_postgresql_outage_gives_503_and_service_comes_back(
        app: Flask, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("PostgreSQL only (stops its server)")
    if not PGCTL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but MELDROUTE_TEST_PGCTL is not set (see .ci/run)")
        pytest.skip("MELDROUTE_TEST_PGCTL not set: cannot stop and start PostgreSQL")
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    browser.login("ib")
    dossier = browser.new_dossier()
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    form = {**SIGNALEREN, "action": "save", "interpretatie": "Getypt tijdens de storing",
            "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
            "base_version": BASE.search(html).group(1)}  # type: ignore[union-attr]
    pg_ctl("-m", "fast", "-w", "stop")
    try:
        assert_unavailable_page(browser.client.get("/dossiers"))
        page = assert_unavailable_page(browser.client.post(
            f"/dossiers/{dossier}/stap/signaleren", data=form))
        assert "Getypt tijdens de storing" in page and "niet opgeslagen" in page
        assert_unavailable_page(app.test_client().get("/inloggen"))  # not signed in
    finally:
        pg_ctl("-w", "start")
    assert "Getypt" not in browser.get("/dossiers")  # the same app, no restart
    before = records(app)
    response = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data=form)
    assert response.status_code == 302
    assert records(app) == before + 1
