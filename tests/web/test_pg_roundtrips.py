"""Issue 13 on PostgreSQL: a pooled connection is pinged only after it was idle, and a
connection the server dropped meanwhile still never shows anyone an error page."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from meldroute.webapp.db import IdlePing

from .conftest import BASE, SIGNALEREN, TOKEN, Browser, records


def postgresql_only(app: Flask) -> None:
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("PostgreSQL only (its connections can be dropped by the server)")


def drop_connections(app: Flask) -> int:
    """End every connection of the app from the server's side (as a restart does)."""
    with create_engine(app.config["DATABASE_URL"]).connect() as admin:
        ended = admin.scalar(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        admin.rollback()
    admin.engine.dispose()
    return int(ended or 0)


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def pings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ping of a pooled connection (the dialect's, as the pool's pre-ping)."""
    dialect = app.extensions["meldroute.db_engine"].dialect
    done: list[object] = []
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        done.append(dbapi_connection)
        return bool(real(dbapi_connection))

    monkeypatch.setattr(dialect, "do_ping", counted)
    return done


def step_and_form(browser: Browser) -> tuple[str, dict[str, Any]]:
    browser.login("ib")
    url = f"/dossiers/{browser.new_dossier()}/stap/signaleren"
    html = browser.get(url)
    return url, {**SIGNALEREN, "action": "save",
                 "csrf_token": TOKEN.search(html).group(1),  # type: ignore[union-attr]
                 "base_version": BASE.search(html).group(1)}  # type: ignore[union-attr]


def test_a_busy_connection_is_not_pinged_an_idle_one_is(
        app: Flask, browser: Browser, pings: list[object],
        monkeypatch: pytest.MonkeyPatch) -> None:
    postgresql_only(app)
    clock = Clock()
    monkeypatch.setattr(IdlePing, "clock", clock)
    url, _form = step_and_form(browser)
    for _ in range(5):  # one after the other, a second apart
        clock.seconds += 1
        browser.get(url)
    assert pings == []
    clock.seconds += IdlePing.IDLE + 1  # a quiet spell
    assert drop_connections(app) >= 1  # meanwhile the server went away and came back
    assert "Signaleren" in browser.get(url)  # the ping found out and connected anew
    assert len(pings) == 1


def test_connections_dropped_while_busy_show_no_error_page(
        app: Flask, browser: Browser, pings: list[object],
        monkeypatch: pytest.MonkeyPatch) -> None:
    postgresql_only(app)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    url, form = step_and_form(browser)
    browser.get(url)  # kept
    assert drop_connections(app) >= 1
    assert "Signaleren" in browser.get(url)  # the kept page, on a fresh connection
    before = records(app)
    assert drop_connections(app) >= 1
    response = browser.client.post(url, data=form)
    assert response.status_code == 302
    assert records(app) == before + 1
    assert "opgeslagen" in browser.get(response.headers["Location"])
    assert pings == []  # no pings: the read was run once more
