"""Sign-in with the school's own account: OpenID Connect (Entree Federatie, Microsoft
Entra ID, Google Workspace, ...), next to password + TOTP.

The providers are installation settings, not school settings: ``instance/oidc.yaml``
(checked against ``schemas/oidc.schema.json`` at start-up; a broken file stops the start
with one Dutch line), kept by whoever runs the installation for the board. A school admin
cannot point a school at another provider. The client secret of provider ``<id>`` comes
from ``MELDROUTE_OIDC_<ID>_CLIENT_SECRET`` (id upper-cased, ``-`` as ``_``) or the file
``instance/oidc-secrets/<id>``; never from the database or a YAML file.

Authlib's Flask client does the protocol: discovery, the authorization code flow with
PKCE (S256), ``state`` and ``nonce`` kept in the web session, the code exchange, and the
ID token's signature (the provider's JWKS) and claims (iss, aud, exp, iat, nonce). This
module decides who that is: an account the school made beforehand (matched once on the
configured claim, then linked), or, where the provider allows it, a new account without
any role. No role ever comes from a claim. Every sign-in, link and refusal is audited
with the provider and an account id, never a claim's content.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    request,
    url_for,
)
from flask import session as web_session
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy import func, or_, select

from meldroute.engine import shipped_dir

from . import security
from .context import db, record
from .models import Membership, OidcLink, RoleGrant, User
from .settings import SettingError

bp = Blueprint("oidc", __name__)
PROVIDERS = "meldroute.oidc.providers"
FORM_SHOWN = "meldroute_oidc_form"  # on flask.g: this page shows the providers' form
OAUTH = "meldroute.oidc.oauth"
MFA_AMR = {"mfa", "otp", "hwk"}  # RFC 8176: more than one factor, a code, a hardware key
LEEWAY = 120  # seconds of clock difference accepted (exp, iat)
TIMEOUT = 10  # seconds for a request to the provider

# what a person sees, by reason (Dutch); the audit trail gets the reason, nothing more
MESSAGES = {
    "unreachable": "De inlogdienst van {name} is nu niet bereikbaar. Probeer het over een "
                   "paar minuten opnieuw.",
    "state": "Deze inlogpoging is verlopen of in een ander venster begonnen. Klik hieronder "
             "opnieuw op 'Inloggen met {name}'.",
    "nonce": "Het antwoord van de inlogdienst hoort niet bij deze inlogpoging. Klik "
             "hieronder opnieuw op 'Inloggen met {name}'.",
    "clock": "Het antwoord van de inlogdienst is verlopen of nog niet geldig: de klok van de "
             "inlogdienst en die van Meldroute lopen uiteen. Probeer het opnieuw; gebeurt dit "
             "weer, meld het dan aan de beheerder van Meldroute.",
    "token": "Het antwoord van de inlogdienst is niet te vertrouwen (de handtekening of de "
             "gegevens kloppen niet). Probeer het opnieuw; gebeurt dit weer, meld het dan aan "
             "de beheerder van Meldroute.",
    "provider": "De inlogdienst van {name} heeft het inloggen geweigerd of afgebroken. "
                "Probeer het opnieuw.",
    "claim": "De inlogdienst van {name} gaf niet door wie je bent. Vraag de schoolbeheerder "
             "om dit na te kijken.",
    "school": "Je school is niet via {name} aangesloten op Meldroute. Vraag de "
              "schoolbeheerder om een account.",
    "unknown": "Je account is niet bekend bij deze school: vraag de schoolbeheerder om een "
               "account.",
    "disabled": "Dit account is uitgeschakeld. Vraag de schoolbeheerder of dat klopt.",
    "admin": "Het platformbeheer logt in met gebruikersnaam, wachtwoord en code, niet via "
             "een inlogdienst van een school.",
}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    issuer: str
    client_id: str
    client_secret: str
    schools: Mapping[str, str]  # school claim value -> school id (one entry: no claim)
    scope: str = "openid profile email"
    claim: str = "sub"
    match: str = "username"
    school_claim: str | None = None
    mfa: str = "provider_or_totp"
    acr_values: tuple[str, ...] = ()
    auto_create: bool = False

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


# --- configuration ---------------------------------------------------------------------------


def secret_name(provider_id: str) -> str:
    return f"MELDROUTE_OIDC_{provider_id.upper().replace('-', '_')}_CLIENT_SECRET"


def _secret(instance: Path, provider_id: str) -> str:
    value = os.environ.get(secret_name(provider_id), "").strip()
    path = instance / "oidc-secrets" / provider_id
    if not value and path.is_file():
        value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise SettingError(f"het clientgeheim van inlogdienst '{provider_id}' ontbreekt: zet "
                           f"{secret_name(provider_id)} of schrijf het in {path}")
    return value


def _read(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise SettingError(f"{path} is niet te lezen als YAML: "
                           f"{str(exc).splitlines()[0][:200]}") from None


def load_providers(instance: Path) -> dict[str, Provider]:
    """The providers of ``instance/oidc.yaml`` (none when the file does not exist)."""
    path = instance / "oidc.yaml"
    if not path.exists():
        return {}
    data = _read(path)
    schema = json.loads((shipped_dir("schemas") / "oidc.schema.json").read_text("utf-8"))
    error = next(iter(Draft202012Validator(schema).iter_errors(data)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(bestand)"
        raise SettingError(f"{path}: {where}: {error.message}")
    found: dict[str, Provider] = {}
    for entry in data["providers"]:
        if entry["id"] in found:
            raise SettingError(f"{path}: inlogdienst '{entry['id']}' staat er twee keer in")
        if "school_claim" not in entry and len(entry["schools"]) != 1:
            raise SettingError(f"{path}: inlogdienst '{entry['id']}' bedient meer scholen: "
                               "noem de claim met de school (school_claim)")
        options = {k: v for k, v in entry.items() if k not in ("schools", "acr_values")}
        found[entry["id"]] = Provider(**options, schools=dict(entry["schools"]),
                                      acr_values=tuple(entry.get("acr_values", ())),
                                      client_secret=_secret(instance, entry["id"]))
    return found


def init_app(app: Flask) -> None:
    """Read the providers and register each with Authlib (discovery happens on first use)."""
    providers = load_providers(Path(app.instance_path))
    oauth = OAuth(app)
    for provider in providers.values():
        oauth.register(  # type: ignore[no-untyped-call]  # (untyped in types-Authlib)
            provider.id, client_id=provider.client_id, client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={"scope": provider.scope, "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT})
    app.extensions[PROVIDERS] = providers
    app.extensions[OAUTH] = oauth
    app.register_blueprint(bp)
    # (after_request runs in reverse order: this one after hardening's, which sets the CSP)
    app.after_request(_allow_provider_forms)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _allow_provider_forms(response: Response) -> Response:
    """A page with the providers' form may send the browser on to them: the CSP's
    ``form-action 'self'`` also governs where the form's redirect goes (Chromium)."""
    policy = response.headers.get("Content-Security-Policy", "")
    if not g.get(FORM_SHOWN) or "form-action 'self'" not in policy:
        return response
    origins: list[str] = []
    for p in providers():
        metadata = getattr(_client(p), "server_metadata", None) or {}
        for url in (p.issuer, metadata.get("authorization_endpoint")):
            if isinstance(url, str) and _origin(url) not in origins:
                origins.append(_origin(url))
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", " ".join(["form-action 'self'", *origins]))
    return response


def show_form() -> list[Provider]:
    """The providers for the login page (which then may post on to them)."""
    g.setdefault(FORM_SHOWN, True)
    return providers()


def providers() -> list[Provider]:
    found: dict[str, Provider] = current_app.extensions.get(PROVIDERS, {})
    return sorted(found.values(), key=lambda p: p.name.lower())


def provider(provider_id: str | None) -> Provider | None:
    found: dict[str, Provider] = current_app.extensions.get(PROVIDERS, {})
    return found.get(provider_id or "")


def _client(p: Provider) -> Any:
    return current_app.extensions[OAUTH].create_client(p.id)


def end_session_url(provider_id: str | None) -> tuple[Provider, str] | None:
    """Where the person also signs out at the provider (when it has an endpoint)."""
    p = provider(provider_id)
    if p is None:
        return None
    try:
        result = _client(p).create_logout_url(
            post_logout_redirect_uri=url_for("auth.login", _external=True), client_id=p.client_id)
    except (requests.RequestException, RuntimeError, ValueError):
        return None
    return p, str(result["url"])


# --- the flow --------------------------------------------------------------------------------


def _refuse(p: Provider, reason: str, user: User | None = None, status: int = 401) -> Any:
    record("oidc.login", result="refused", user=user,
           actor=None if user else f"oidc:{p.id}", detail=f"{p.id} {reason}")
    db().commit()
    flash(MESSAGES[reason].format(name=p.name), "error")
    from .auth import login_page  # the login page with its form (auth imports this module)

    return login_page(status)


@bp.route("/inloggen/oidc", methods=["POST"])
def start() -> Any:
    """To the provider's sign-in page (``provider``: a button or the school picker)."""
    p = provider(request.form.get("provider"))
    if p is None:
        flash("Kies je school of bestuur uit de lijst.", "error")
        from .auth import login_page

        return login_page(400)
    client = _client(p)
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        return _refuse(p, "unreachable", status=503)
    if metadata.get("issuer") != p.issuer:  # a discovery document of another issuer
        return _refuse(p, "token", status=502)
    for key in [k for k in web_session if k.startswith("_state_")]:
        web_session.pop(key)  # one attempt at a time
    return client.authorize_redirect(url_for("oidc.callback", provider_id=p.id,
                                             _external=True))


def _token(p: Provider) -> tuple[dict[str, Any] | None, str | None]:
    """The validated ID token's claims, or why not."""
    try:
        token = _client(p).authorize_access_token(leeway=LEEWAY)
    except MismatchingStateError:
        return None, "state"
    except OAuthError:
        return None, "provider"
    except requests.RequestException:
        return None, "unreachable"
    except ExpiredTokenError:
        return None, "clock"
    except ClaimError as exc:  # (joserfc names the claim; iat/nbf ahead: the clocks)
        claim = getattr(exc, "claim", "")
        return None, "nonce" if claim == "nonce" else \
            "clock" if claim in ("exp", "iat", "nbf") else "token"
    except (JoseError, ValueError):  # a bad signature, a token that does not decode
        return None, "token"
    claims = token.get("userinfo")
    return (dict(claims), None) if claims else (None, "token")


def _school_of(p: Provider, claims: Mapping[str, Any]) -> str | None:
    if p.school_claim is None:
        return next(iter(p.schools.values()))
    value = claims.get(p.school_claim)
    values = value if isinstance(value, list) else [value]
    found = [p.schools[v] for v in values if isinstance(v, str) and v in p.schools]
    return found[0] if found else None


def subject_hash(p: Provider, subject: str) -> str:
    """What the link keeps of the claim value: a hash (the value itself is not needed)."""
    return hashlib.sha256(f"{p.id}\0{subject}".encode()).hexdigest()


def _known(p: Provider, school_id: str, subject: str) -> User | None:
    """An account the school made beforehand, matched on the configured claim."""
    field = User.email if p.match == "email" else User.username
    at_school = or_(User.id.in_(select(Membership.user_id).where(
        Membership.school_id == school_id)), User.id.in_(select(RoleGrant.user_id).where(
            RoleGrant.school_id == school_id, RoleGrant.status == "pending")))
    # equality, case ignored (never LIKE: a claim with % or _ must match no one else)
    found = db().scalars(select(User).where(
        func.lower(field) == subject.strip().lower(), User.demo.is_(False), at_school)).all()
    return found[0] if len(found) == 1 else None


def _new_account(p: Provider, claims: Mapping[str, Any]) -> User:
    name = claims.get("name")
    email = claims.get("email")
    # an address only when it is one by the admin page's rules (``security``): never one
    # with a line break (a mail header) or cut to another address
    email = email.strip() if isinstance(email, str) else None
    user = User(username=f"{p.id}-{secrets.token_hex(5)}"[:64],
                display_name=(name if isinstance(name, str) and name.strip() else
                              "Nieuw account")[:200],
                email=email if email and security.valid_email(email) else None,
                password_hash=None)
    db().add(user)
    db().flush()
    return user


def _account(p: Provider, school_id: str, subject: str, claims: Mapping[str, Any]
             ) -> User | None:
    """The linked account; else link (or make) one. Audited; the caller commits."""
    key = subject_hash(p, subject)
    link = db().scalar(select(OidcLink).where(OidcLink.provider_id == p.id,
                                              OidcLink.subject_hash == key))
    if link is not None:
        return db().get(User, link.user_id)
    # a first link on an e-mail address only when the provider does not say it is
    # unverified (an address a person could set themselves matches nobody)
    unverified = p.match == "email" and claims.get("email_verified") is False
    user = None if unverified else _known(p, school_id, subject)
    action = "oidc.link"
    if user is None and p.auto_create:
        user, action = _new_account(p, claims), "oidc.create"
    if user is None or user.is_admin:
        return user
    db().add(OidcLink(provider_id=p.id, subject_hash=key, user_id=user.id,
                      school_id=school_id))
    record(action, user=user, school_id=school_id, detail=f"{p.id} user {user.id}")
    return user


def mfa_asserted(p: Provider, claims: Mapping[str, Any]) -> bool:
    if p.mfa != "provider_or_totp":
        return False
    amr = claims.get("amr")
    methods = set(amr) if isinstance(amr, list) else set()
    return bool(methods & MFA_AMR) or (claims.get("acr") in p.acr_values)


@bp.route("/inloggen/oidc/<provider_id>/terug")
def callback(provider_id: str) -> Any:
    """The provider sends the person back here with a code (the redirect URI)."""
    p = provider(provider_id)
    if p is None:
        abort(404)
    claims, why = _token(p)
    if claims is None:
        return _refuse(p, why or "token")
    subject = claims.get(p.claim)
    if not isinstance(subject, str | int) or not str(subject).strip():
        return _refuse(p, "claim")
    school_id = _school_of(p, claims)
    if school_id is None:
        return _refuse(p, "school", status=403)
    user = _account(p, school_id, str(subject), claims)
    if user is None:
        return _refuse(p, "unknown", status=403)
    if user.is_admin:
        return _refuse(p, "admin", user, status=403)
    if not user.active or user.demo:
        return _refuse(p, "disabled", user, status=403)
    from .auth import oidc_signed_in

    return oidc_signed_in(user, p.id, school_id, mfa_asserted(p, claims))
