"""Error pages: Dutch, generic, never a traceback.

A server error (500), a database outage (503, "tijdelijk niet beschikbaar") and a clash
with a colleague's write that PostgreSQL ended (409, "tegelijk gewijzigd": a deadlock or a
serialization failure, ``db.is_clash``; a step's save shows its own conflict page) render
``error_server.html`` without the app's context processors, without flashed messages,
the signed-in user or a CSRF token: nothing on that page touches the database, whose
session may be the thing that failed. A failed POST shows what the user typed (read-only,
to copy, under the labels of their page: ``typed.py``), since nothing of it was saved.
Should even that page fail, a fixed Dutch page is the answer, never the WSGI server's bare
English one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .db import is_clash
from .typed import typed_by_user

MESSAGES = {
    400: ("Ongeldig verzoek", "Het verzoek kon niet worden verwerkt."),
    403: ("Geen toegang", "Je hebt geen toegang tot deze pagina."),
    404: ("Niet gevonden", "Deze pagina of dit dossier bestaat niet."),
    405: ("Niet toegestaan", "Deze handeling is hier niet toegestaan."),
    409: ("Tegelijk gewijzigd",
          "Iemand anders legde op hetzelfde moment iets vast dat hiermee botste. Er is "
          "niets opgeslagen. Open de pagina opnieuw, controleer wat er nu staat en probeer "
          "het nog eens."),
    413: ("Te groot", "Het formulier is te groot om te verwerken."),
    500: ("Er ging iets mis", "Er ging iets mis aan onze kant. Er is niets opgeslagen."),
    503: ("Tijdelijk niet beschikbaar",
          "Meldroute is tijdelijk niet beschikbaar: de database is niet bereikbaar. "
          "Er is niets opgeslagen. Probeer het over een paar minuten opnieuw."),
}
# the database cannot be reached (down, restarting, locked too long, disk gone)
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
           sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 30
FALLBACK = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{title} · Meldroute</title></head>
<body><main><h1>{title}</h1><p>{message}</p>
<p>Ga met de terugknop van je browser terug naar je formulier als je iets had ingevuld.</p>
</main></body></html>
"""


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGES)


def _keep_web_session_untouched() -> None:
    """Nothing of a failed request is saved, not even the web session's last-seen time
    (which would ask the database that just failed): the session stays as it was."""
    try:
        ctx: Any = request_ctx._get_current_object()  # type: ignore[attr-defined]
        null = current_app.session_interface.make_null_session(current_app)
        # Flask 3.1 keeps the opened session in ``_session`` (``session`` is read-only)
        setattr(ctx, "_session" if hasattr(ctx, "_session") else "session", null)
    except Exception:  # outside a request: nothing to keep
        pass


def server_error_page(code: int) -> Any:
    """The 500/503 (or 409) page, rendered without touching the database."""
    _keep_web_session_untouched()
    title, message = MESSAGES[code]
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if code == 503 else {}
    try:
        template = current_app.jinja_env.get_template("error_server.html")
        # no render_template: its context processors (admin links, CSRF, the user) could
        # query the database, and that session may be the one that failed
        html = template.render(title=title, message=message, typed=typed_by_user(),
                               code=code, config=current_app.config)
    except Exception as err:
        current_app.logger.error("error page failed: %s", err.__class__.__name__)
        html = FALLBACK.format(title=title, message=message)
    return html, code, {"Content-Type": "text/html; charset=utf-8", **headers}


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> Any:
        return render_template(
            "error.html", title="Formulier verlopen",
            message="Het formulier is verlopen of mist zijn beveiligingscode. Er is niets "
                    "opgeslagen; laad de pagina opnieuw en probeer het nog eens."), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        code = error.code or 500
        if code >= 500:
            # an error before the view (opening the web session) arrives here wrapped
            original = getattr(error, "original_exception", None)
            if original is not None and is_clash(original):
                return server_error_page(409)
            outage = code == 503 or (original is not None and is_outage(original))
            return server_error_page(503 if outage else 500)
        title, message = MESSAGES.get(code, (error.name, error.description or ""))
        return render_template("error.html", title=title, message=message), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        if is_clash(error):  # before is_outage: it is an OperationalError too
            app.logger.warning("write clash: %s", error.__class__.__name__)
            return server_error_page(409)
        if is_outage(error):
            # one line, no traceback: an outage is not a bug; never the statement or values
            app.logger.warning("database unavailable: %s", error.__class__.__name__)
            return server_error_page(503)
        app.logger.exception("unhandled error: %s", error.__class__.__name__)
        return server_error_page(500)
