"""The Meldroute web app: dossiers led through the route, forms generated from the rules.

``create_app(config)`` loads and checks every protocol and school configuration and the
database revision before it serves a request (a broken file stops the start with the same
file:line message ``meldroute check`` prints).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect

from meldroute.engine import ConfigError, Problem

from . import config as settings
from . import crypto
from .db import current_revision, head_revision, make_engine, make_sessionmaker
from .registry import Registry
from .sessions import DatabaseSessionInterface

csrf = CSRFProtect()
log = logging.getLogger("meldroute")


class DatabaseNotReady(ConfigError):
    pass


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    instance = Path(config.get("INSTANCE_PATH") or settings.instance_path())
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=False)
    app.config.update(
        DATABASE_URL=settings.database_url(instance),
        DEMO=False,
        SCHOOL_PATHS=settings.school_paths(),
        CLOCK=dt.date.today,
        NOW=lambda: dt.datetime.now(dt.UTC),
        CHECK_DB=True,
        IDLE_TIMEOUT_MINUTES=settings.int_env("MELDROUTE_IDLE_TIMEOUT_MINUTES", 30),
        ABSOLUTE_TIMEOUT_HOURS=settings.int_env("MELDROUTE_ABSOLUTE_TIMEOUT_HOURS", 10),
        # __Host- cookie, Secure; only plain-HTTP development (serve --demo on localhost)
        # turns this off
        SESSION_COOKIE_SECURE=True,
        WTF_I18N_ENABLED=False,  # WTForms' own Dutch messages (Meta.locales)
        WTF_CSRF_TIME_LIMIT=None,  # a token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,  # the proxy terminates TLS; SameSite and the token hold
        MAX_CONTENT_LENGTH=1024 * 1024,
        KEYRING=None,
    )
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(instance)
    crypto.configure(app.config["KEYRING"] or crypto.load_keyring(instance))
    app.session_interface = DatabaseSessionInterface()

    registry = Registry.load(app.config["SCHOOL_PATHS"])
    engine = make_engine(app.config["DATABASE_URL"])
    if app.config["CHECK_DB"]:
        current, head = current_revision(engine), head_revision()
        if current != head:
            engine.dispose()
            raise DatabaseNotReady([Problem(
                app.config["DATABASE_URL"].split("@")[-1], 1, 1,
                f"de database staat op revisie {current or '(leeg)'}, de app verwacht "
                f"{head}: voer eerst 'meldroute db upgrade' uit", "database")])
    app.extensions["meldroute.registry"] = registry
    app.extensions["meldroute.engine"] = engine
    app.extensions["meldroute.sessions"] = make_sessionmaker(engine)
    registry.bind(app.extensions["meldroute.sessions"])
    if app.config["CHECK_DB"]:
        with app.extensions["meldroute.sessions"]() as db:
            registry.seed(db)

    csrf.init_app(app)
    from . import admin, auth, board, dossiers, errors, filters, hardening
    from . import schooladmin as school_settings

    app.register_blueprint(auth.bp)
    app.register_blueprint(dossiers.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(school_settings.bp)
    app.register_blueprint(board.bp)

    @app.context_processor
    def admin_links() -> dict[str, Any]:
        user = g.get("user")
        school_id = g.get("school_id")
        return {"can_admin_school": bool(user and school_id and school_settings.can_admin(
            user, school_id))}
    errors.register(app)
    filters.register(app)
    hardening.register(app)

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    return app


def registry_of(app: Flask) -> Registry:
    registry: Registry = app.extensions["meldroute.registry"]
    return registry


def clock_of(app: Flask) -> Callable[[], dt.date]:
    clock: Callable[[], dt.date] = app.config["CLOCK"]
    return clock
