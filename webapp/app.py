"""The app factory: ``create_app(config)`` loads and checks every protocol and school
configuration and the database revision before it serves a request (a broken file stops
the start with the same file:line message ``meldroute check`` prints).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect

from meldroute.engine import ConfigError, Problem

from . import (
    admin,
    audit_anchor,
    auth,
    board,
    crypto,
    daily,
    dossiers,
    errors,
    exports,
    filters,
    hardening,
    key_check,
    oidc,
    reset,
    routepicture,
    settings,
    startup,
    timeline,
)
from . import schooladmin as school_settings
from .context import DB_ENGINE, DB_SESSIONS, REGISTRY, close_db, db_engine_of, db_sessions_of
from .db import current_revision, head_revision, make_db_engine, make_sessionmaker
from .filters import SCHOOL_TIME
from .registry import Registry
from .web_sessions import WebSessionInterface

csrf = CSRFProtect()


class DatabaseNotReady(ConfigError):
    pass


def defaults(instance: Path) -> dict[str, Any]:
    """The settings before ``create_app(config)`` overrides them."""
    return {
        "DATABASE_URL": settings.database_url(instance),
        "DEMO": False,
        "SCHOOL_PATHS": settings.school_paths(),
        # the school's date (Europe/Amsterdam), not the server's: just after midnight
        # Dutch time a UTC server still says yesterday
        "CLOCK": lambda: dt.datetime.now(SCHOOL_TIME).date(),
        "NOW": lambda: dt.datetime.now(dt.UTC),
        "CHECK_DB": True,
        "IDLE_TIMEOUT_MINUTES": settings.int_env("MELDROUTE_IDLE_TIMEOUT_MINUTES", 30),
        "ABSOLUTE_TIMEOUT_HOURS": settings.int_env("MELDROUTE_ABSOLUTE_TIMEOUT_HOURS", 10),
        "KEPT_PAGES": settings.kept_pages(),  # dossier pages kept per process (pagecache)
        # __Host- cookie, Secure; only plain-HTTP development (serve --demo on localhost)
        # turns this off
        "SESSION_COOKIE_SECURE": True,
        "WTF_I18N_ENABLED": False,  # WTForms' own Dutch messages (Meta.locales)
        "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as the session
        "WTF_CSRF_SSL_STRICT": False,  # the proxy terminates TLS; SameSite and the token hold
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "KEYRING": None,
        # the reverse proxies whose X-Forwarded-For/-Proto are believed (hardening.py)
        "TRUSTED_PROXIES": os.environ.get("MELDROUTE_TRUSTED_PROXY", ""),
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    config = dict(config or {})
    instance = Path(config.get("INSTANCE_PATH") or settings.instance_path())
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=False)
    app.config.update(defaults(instance))
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key(instance)
    if not app.config["KEYRING"]:  # start-up checks: one Dutch line instead of a traceback
        startup.check_keys(instance)
    startup.check_database_folder(app.config["DATABASE_URL"])
    hardening.register_early(app)  # the proxy setting checked, the int converter: no route yet
    app.session_interface = WebSessionInterface()
    if not app.config["CHECK_DB"]:
        crypto.configure(app.config["KEYRING"] or crypto.load_keyring(instance))
    _open_data(app)
    if app.config["CHECK_DB"]:
        _check_keys(app, instance)
    audit_anchor.install(app, instance)  # the audit key and the anchor (audit.py)
    _register_web(app)
    return app


def _check_keys(app: Flask, instance: Path) -> None:
    """Keys that read this database, or none made for a database with encrypted data."""
    ring = app.config["KEYRING"] or crypto.find_keyring(instance)
    try:
        ring = key_check.verify(db_engine_of(app), ring,
                                lambda: crypto.load_keyring(instance),
                                str(crypto.key_file(instance)))
    except ConfigError:
        db_engine_of(app).dispose()
        raise
    crypto.configure(ring)


def _open_data(app: Flask) -> None:
    """Protocols and schools checked, the database at the expected revision, seeded."""
    registry = Registry.load(app.config["SCHOOL_PATHS"])
    db_engine = make_db_engine(app.config["DATABASE_URL"])
    if app.config["CHECK_DB"]:
        current, head = current_revision(db_engine), head_revision()
        if current != head:
            db_engine.dispose()
            raise DatabaseNotReady([Problem(
                app.config["DATABASE_URL"].split("@")[-1], 1, 1,
                f"de database staat op revisie {current or '(leeg)'}, de app verwacht "
                f"{head}: voer eerst 'meldroute db upgrade' uit", "database")])
    app.extensions[REGISTRY] = registry
    app.extensions[DB_ENGINE] = db_engine
    app.extensions[DB_SESSIONS] = make_sessionmaker(db_engine)
    registry.bind(db_sessions_of(app))
    if app.config["CHECK_DB"]:
        with db_sessions_of(app)() as db:
            registry.seed(db)


def _register_web(app: Flask) -> None:
    csrf.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dossiers.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(school_settings.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(reset.bp)
    for extra in (timeline.bp, exports.bp, routepicture.bp):  # issue 14: timeline, exports
        app.register_blueprint(extra)
    daily.register(app)  # issue 14: Mijn taken, named people, dossier numbers
    oidc.init_app(app)  # the schools' identity providers (instance/oidc.yaml)

    @app.context_processor
    def admin_links() -> dict[str, Any]:
        user = g.get("user")
        school_id = g.get("school_id")
        admin_here = bool(user and school_id and school_settings.can_admin(user, school_id))
        # the director confirms role grants too (an admin finds them under Instellingen)
        confirms = bool(user and school_id and not admin_here
                        and school_settings.may_confirm_at(user, school_id))
        return {"can_admin_school": admin_here, "can_confirm_grants": confirms}

    errors.register(app)
    filters.register(app)
    hardening.register(app)
    app.teardown_appcontext(close_db)
