"""The Meldroute web app: dossiers led through the route, forms generated from the rules.

The app factory is ``meldroute.webapp.app.create_app``; importing this package imports
neither Flask nor SQLAlchemy, so that the ``meldroute`` command (``webapp/cli.py``) runs
the engine's commands without them.
"""
