"""WSGI entry point for several processes, e.g. ``gunicorn -w 4 meldroute.webapp.wsgi:app``.

Configuration comes from the environment (MELDROUTE_DATABASE_URL, MELDROUTE_SECRET_KEY,
MELDROUTE_INSTANCE, MELDROUTE_SCHOOLS); run ``meldroute db upgrade`` first. Behind a
reverse proxy set MELDROUTE_TRUSTED_PROXY: ``create_app`` applies werkzeug's ProxyFix to
requests from those proxies only (``hardening.TrustedProxyFix``), as under ``serve``.

When the app cannot start (a setting, the database, the keys, a school file), the reason
is logged as one Dutch line, not a traceback, and the process exits: under gunicorn with
its "app failed to load" status (4), so that gunicorn stops instead of restarting workers
that fail the same way; elsewhere with 2.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask

from meldroute.webapp.startup import explain


def _load() -> Flask:
    from meldroute.webapp.app import create_app

    try:
        return create_app()
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise
        lines, status = explained
        under_gunicorn = "gunicorn" in sys.modules
        log = logging.getLogger("gunicorn.error" if under_gunicorn else __name__)
        for line in lines:
            if log.hasHandlers():
                log.error("Meldroute start niet: %s", line)
            else:
                print(f"Meldroute start niet: {line}", file=sys.stderr)
        raise SystemExit(4 if under_gunicorn else status) from None


app = _load()
