"""What stops the app or a web command from starting, as one Dutch line each.

``check_keys`` and ``check_database_folder`` look at the key material and the SQLite
folder before the app uses them; ``explain`` turns every failure that is not a bug (a
setting, a file, the database, the keys, the instance folder) into the lines to print and
the exit status (2: could not run; 1: problems found in a file that could be read). The
commands (``cli_common.reporting``) and the WSGI entry (``wsgi.py``) print those lines
instead of a traceback. Flask is not imported here.
"""

from __future__ import annotations

import binascii
import errno
import os
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from meldroute.engine import ConfigError, SettingError, exit_status, format_problem

from . import crypto, settings

KEYS_FIX = ("zet de sleutel(s) terug uit je back-up; alleen bij een nieuwe installatie "
            "zonder gegevens mag je het bestand verwijderen (Meldroute maakt dan een nieuwe)")


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key.encode("utf-8", "replace"))
    except (ValueError, binascii.Error):
        return False
    return True


def _key_file_keys(path: Path) -> list[str] | None:
    """The keys in the key file; None when there is no file yet (one will be made)."""
    if not path.exists():
        if path.is_symlink():
            raise settings.SettingError(f"het sleutelbestand {path} is een symbolische link naar "
                                        f"een bestand dat niet bestaat: {KEYS_FIX}")
        settings.writable_folder(path.parent, "de map van het sleutelbestand")
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "geen tekst"
        raise settings.SettingError(f"het sleutelbestand {path} is niet leesbaar ({why}): "
                                    "herstel het bestand of de rechten erop") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_keys(instance: Path) -> None:
    """Empty or garbage key material (MELDROUTE_KEYS or the key file) stops the start."""
    env = os.environ.get("MELDROUTE_KEYS")
    if env:
        keys: list[str] | None = [k.strip() for k in env.split(",") if k.strip()]
        where = "MELDROUTE_KEYS"
        fix = "zet er de sleutel(s) uit je back-up in, gescheiden door komma's"
    else:
        path = crypto.key_file(instance)
        keys, where, fix = _key_file_keys(path), f"het sleutelbestand {path}", KEYS_FIX
    if keys is None:
        return
    if not keys:
        raise settings.SettingError(f"{where} is leeg: {fix}")
    bad = [number for number, key in enumerate(keys, 1) if not _is_fernet_key(key)]
    if bad:
        raise settings.SettingError(f"{where}: sleutel {bad[0]} is geen geldige Fernet-sleutel "
                                    f"(44 tekens base64): {fix}")


def check_database_folder(url: str) -> None:
    """SQLite writes next to its file (-wal, -shm): that folder must exist and be writable."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        raise settings.SettingError(_bad_url(url)) from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    database = Path(parsed.database or "")
    settings.writable_folder(database.parent.resolve(), "de map van de database")
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        raise settings.SettingError(f"de database {database} is niet schrijfbaar: geef "
                                    "Meldroute lees- en schrijfrechten op dat bestand")


def shown_url(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "(ongeldige URL)"


def _bad_url(url: str) -> str:
    try:
        shown = f" ({make_url(url).render_as_string(hide_password=True)})"
    except sa_exc.ArgumentError:
        shown = ""
    return (f"MELDROUTE_DATABASE_URL is geen bruikbare database-URL{shown}: bijvoorbeeld "
            "postgresql+psycopg://gebruiker:wachtwoord@host:5432/meldroute")


_DB_REASONS = (  # a piece of the driver's message -> what it means, in Dutch
    ("connection refused", "verbinding geweigerd"),
    ("could not translate host name", "onbekende host"),
    ("name or service not known", "onbekende host"),
    ("timeout", "geen antwoord (time-out)"),
    ("timed out", "geen antwoord (time-out)"),
    ("password authentication failed", "gebruikersnaam of wachtwoord geweigerd"),
    ("does not exist", "de database of gebruiker bestaat niet"),
    ("unable to open database file", "het databasebestand kan niet worden geopend"),
    ("readonly database", "de database is alleen-lezen"),
    ("database is locked", "de database is bezet (vergrendeld)"),
    ("server closed the connection", "de verbinding werd verbroken"),
    ("terminating connection", "de verbinding werd verbroken"),
)


def database_message(exc: BaseException, url: str | None = None) -> str:
    text = str(getattr(exc, "orig", None) or exc).lower()
    reason = next((nl for part, nl in _DB_REASONS if part in text), None)
    if reason is None:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        reason = first if len(first) <= 120 else first[:119] + "…"
    return (f"database niet bereikbaar ({shown_url(url or settings.database_url())}): {reason}; "
            "controleer MELDROUTE_DATABASE_URL en of de database draait")


def _os_message(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"{where}geen schrijf- of leesrechten ({exc.strerror}): herstel de rechten of "
                "kies een andere map met MELDROUTE_INSTANCE")
    return f"{where}{exc.strerror or exc.__class__.__name__}"


def explain(exc: BaseException) -> tuple[list[str], int] | None:
    """The lines to print and the exit status for a failure that is not a bug; None for
    anything else (that one keeps its traceback)."""
    if isinstance(exc, ConfigError):
        # the database's revision, keys that do not fit it: could not run, not a file problem
        status = 2 if any(p.check in ("database", "keys") for p in exc.problems) \
            else exit_status(exc.problems)
        return [format_problem(p) for p in exc.problems], status
    if isinstance(exc, (settings.SettingError, SettingError)):
        return [str(exc)], 2
    if isinstance(exc, crypto.KeyError_):
        return [f"encryptiesleutels niet bruikbaar ({exc}): controleer MELDROUTE_KEYS of het "
                f"sleutelbestand; {KEYS_FIX}"], 2
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return [database_message(exc)], 2
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return [_bad_url(settings.database_url())], 2
    if isinstance(exc, ImportError) and exc.name in ("psycopg", "psycopg2"):
        return ["het PostgreSQL-stuurprogramma ontbreekt: installeer 'meldroute[board]' "
                "(psycopg)"], 2
    if isinstance(exc, OSError):
        return [_os_message(exc)], 2
    return None
