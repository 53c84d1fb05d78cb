"""Issue 12, item 2: a database outage answers a Dutch 503 page that needs no database;
a failed save shows what was typed; after the outage the app serves again by itself.

The outage is made by the SQLAlchemy dialect: every statement (or only the ones a test
names) and every new connection raise the driver's own OperationalError, as a database
that went away does (SQLite and PostgreSQL alike). ``test_pg_outage.py`` stops a real
PostgreSQL server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from meldroute.webapp.context import db_engine_of

from .conftest import BASE, SIGNALEREN, TOKEN, Browser, records

Statement = Callable[[str], bool]


class Outage:
    """Makes the app's database fail, and come back."""

    def __init__(self, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine = db_engine_of(app)
        self.monkeypatch = monkeypatch
        self.failing: Statement | None = None
        dialect = self.engine.dialect
        error = dialect.loaded_dbapi.OperationalError
        self.error = error
        for name in ("do_execute", "do_execute_no_params"):
            original = getattr(dialect, name)
            monkeypatch.setattr(dialect, name, self._guard(original))
        original_connect = dialect.connect

        def connect(*args: Any, **kwargs: Any) -> Any:
            if self.failing is not None and self.failing(""):
                raise error("could not connect to server: Connection refused")
            return original_connect(*args, **kwargs)

        monkeypatch.setattr(dialect, "connect", connect)

    def _guard(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def execute(cursor: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
            if self.failing is not None and self.failing(statement):
                raise self.error("server closed the connection unexpectedly")
            return original(cursor, statement, *args, **kwargs)

        return execute

    def start(self, when: Statement = lambda _statement: True, *,
              in_request: bool = False) -> None:
        self.failing = when
        if not in_request:  # pooled connections go too (none is checked out now)
            self.engine.dispose()

    def end(self) -> None:
        self.failing = None


@pytest.fixture
def outage(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Outage]:
    # as in production: an error outside the view reaches the error handlers, not the test
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    found = Outage(app, monkeypatch)
    yield found
    found.end()


def assert_unavailable_page(response: Any) -> str:
    html: str = response.get_data(as_text=True)
    assert response.status_code == 503, html
    assert response.headers["Retry-After"] == "30"
    assert '<html lang="nl">' in html
    assert "Tijdelijk niet beschikbaar" in html and "tijdelijk niet beschikbaar" in html
    assert "Internal Server Error" not in html and "Traceback" not in html
    assert "meldroute.css" in html  # the page itself, not the last-resort fallback
    return html


def test_signed_in_user_sees_the_dutch_503_page(browser: Browser, outage: Outage) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    outage.start()
    for url in ("/dossiers", f"/dossiers/{dossier}", "/dossiers/nieuw", "/inloggen"):
        html = assert_unavailable_page(browser.client.get(url))
        assert "Uitloggen" not in html and "csrf_token" not in html
    signing_in = browser.client.post("/inloggen", data={
        "username": "iemand", "password": "geheim-wachtwoord-123"})
    assert "geheim-wachtwoord-123" not in assert_unavailable_page(signing_in)
    outage.end()
    assert browser.client.get(f"/dossiers/{dossier}").status_code == 200  # no restart


def test_a_failed_save_shows_what_was_typed(app: Flask, browser: Browser,
                                            outage: Outage) -> None:
    browser.login("ib")
    dossier = browser.new_dossier()
    html = browser.get(f"/dossiers/{dossier}/stap/signaleren")
    form = {**SIGNALEREN, "action": "save", "interpretatie": "Mijn eigen zorgen & <vragen>",
            "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
            "base_version": BASE.search(html).group(1)}  # type: ignore[union-attr]
    before = records(app)
    # the database fails half-way: the user is known, the step cannot be stored
    outage.start(lambda statement: statement.lstrip().upper().startswith(
        "INSERT INTO STEP_RECORDS"))
    response = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data=form)
    page = assert_unavailable_page(response)
    assert "niet opgeslagen" in page
    assert "Mijn eigen zorgen &amp; &lt;vragen&gt;" in page  # escaped, to copy
    assert form["observaties-0-feit"] in page
    assert form["csrf_token"] not in page
    # under the labels the step page showed, a group's row counted from 1; the choices
    # (who observed, the checklist's ticks) are not typed words and not shown
    labels = re.findall(r'<label for="typed-\d+">([^<]*)</label>', page)
    assert labels == ["Observaties 1: Datum",
                      "Observaties 1: Wat is gezien of gehoord (feitelijk)",
                      "Observaties 1: Bron", "Interpretatie en zorgen"], labels
    outage.end()
    assert records(app) == before
    again = browser.client.post(f"/dossiers/{dossier}/stap/signaleren", data=form)
    assert again.status_code == 302
    assert records(app) == before + 1


def test_a_server_error_page_needs_no_database(app: Flask, browser: Browser,
                                                outage: Outage) -> None:
    """A bug (500) while the database is gone as well: still the Dutch page."""
    def broken() -> str:
        outage.start(in_request=True)
        raise RuntimeError("a bug")

    app.add_url_rule("/kapot", "broken", broken)
    browser.login("ib")
    response = browser.client.get("/kapot")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Er ging iets mis" in html and "meldroute.css" in html
    assert "Uitloggen" not in html
    outage.end()
    assert browser.client.get("/dossiers").status_code == 200
