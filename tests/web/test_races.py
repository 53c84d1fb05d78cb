"""Issue 12, item 1: get-or-create is race-free. Several people creating the first
dossiers of a fresh instance at the same moment all succeed (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select

from meldroute.engine import shipped_dir
from meldroute.webapp.context import db_sessions_of, registry_of
from meldroute.webapp.db import make_db_engine, make_sessionmaker, upgrade
from meldroute.webapp.models import ConfigVersion, ProtocolVersion, User
from meldroute.webapp.registry import Registry

from .conftest import TOKEN, count, dossiers, sign_in_as

PEOPLE = 6


def _user_id(app: Flask, username: str) -> int:
    with db_sessions_of(app)() as db:
        found = db.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def test_first_dossiers_created_at_once_all_succeed(app: Flask) -> None:
    assert count(app, ProtocolVersion) == 0  # a fresh instance: nothing pinned yet
    ready = []
    for _ in range(PEOPLE):
        client = app.test_client()
        sign_in_as(app, client, _user_id(app, "regenboog-ib"), "regenboog")
        match = TOKEN.search(client.get("/dossiers/nieuw").get_data(as_text=True))
        assert match
        ready.append((client, match.group(1)))
    barrier = threading.Barrier(PEOPLE)

    def create(number: int) -> int:
        client, token = ready[number]
        barrier.wait()
        response = client.post("/dossiers/nieuw", data={
            "csrf_token": token, "pupil_initials": "A.B.", "pupil_group": f"{number}a",
            "pupil_name": f"Fictieve Leerling {number}"})
        return response.status_code

    with ThreadPoolExecutor(PEOPLE) as pool:
        statuses = list(pool.map(create, range(PEOPLE)))
    assert statuses == [302] * PEOPLE
    assert dossiers(app) == PEOPLE
    assert count(app, ProtocolVersion) == 1


def test_pin_while_another_transaction_pins_the_same_version(app: Flask) -> None:
    """The race made certain: the first pin is not committed when the second starts."""
    app_registry, sessions = registry_of(app), db_sessions_of(app)
    protocol = app_registry.protocols["meldcode-onderwijs"]
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with sessions() as db:
                app_registry.pin(db, protocol)
                db.commit()
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    with sessions() as first:
        app_registry.pin(first, protocol)
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)  # it waits for the first transaction (lock or unique index)
        first.commit()
    thread.join(30)
    assert not thread.is_alive()
    assert errors == []
    assert count(app, ProtocolVersion) == 1


def test_start_up_seeding_from_several_processes_at_once(database_url: str) -> None:
    """gunicorn -w 4 on a fresh database: every worker imports the school files."""
    upgrade(database_url)
    db_engine = make_db_engine(database_url)
    sessions = make_sessionmaker(db_engine)
    workers = 4
    barrier = threading.Barrier(workers)

    def seed(_number: int) -> list[str]:
        app_registry = Registry.load([shipped_dir("schools") / "demo.yaml"])
        app_registry.bind(sessions)
        barrier.wait()
        with sessions() as db:
            return app_registry.seed(db)

    try:
        with ThreadPoolExecutor(workers) as pool:
            imported = list(pool.map(seed, range(workers)))
        assert sorted(imported) == [[]] * (workers - 1) + [["regenboog"]]
        with sessions() as db:
            assert db.scalar(select(func.count()).select_from(ConfigVersion)) == 1
    finally:
        db_engine.dispose()
