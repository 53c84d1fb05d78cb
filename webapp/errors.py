"""Error pages: Dutch, generic, never a traceback."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Ongeldig verzoek", "Het verzoek kon niet worden verwerkt."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina."),
    404: ("Niet gevonden", "Deze pagina of dit dossier bestaat niet."),
    405: ("Niet toegestaan", "Deze handeling is hier niet toegestaan."),
    413: ("Te groot", "Het formulier is te groot om te verwerken."),
    500: ("Er ging iets mis", "Er ging iets mis aan onze kant. Er is niets opgeslagen."),
}


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
        title, message = MESSAGES.get(code, (error.name, error.description or ""))
        return render_template("error.html", title=title, message=message), code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        app.logger.exception("unhandled error: %s", error.__class__.__name__)
        title, message = MESSAGES[500]
        return render_template("error.html", title=title, message=message), 500
