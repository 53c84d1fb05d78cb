"""WSGI entry point for several processes, e.g. ``gunicorn -w 4 meldroute.webapp.wsgi:app``.

Configuration comes from the environment (MELDROUTE_DATABASE_URL, MELDROUTE_SECRET_KEY,
MELDROUTE_INSTANCE, MELDROUTE_SCHOOLS); run ``meldroute db upgrade`` first.
"""

from meldroute.webapp.app import create_app

app = create_app()
