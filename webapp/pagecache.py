"""Kept dossier pages: a page is rendered once and served again while nothing it shows
has changed (issue 13).

A dossier page shows what the database holds (the dossier, its versions, decisions, named
people, linked dossiers, people's names, the school's configuration), to whom (the user,
the school they work at), on which day, at which address. The key holds all of these:

* the revisions of the dossier and of the dossiers linked to it, and the site's, read in
  the request's first statement with the user and their roles (``web_sessions``; the
  dossier's afterwards when the address did not name it): what decides
  access and what the page shows is never older than the key it is kept under; every
  write renews them (``revisions``);
* the user's id and school, the day, the address (mount point and path; the host name
  and the query are left out: the pages kept read neither, and leaving them out means
  nobody can push other people's pages out by asking for one page under many names).

So a kept page is served only to the same user, at the same school, for the same state of
everything it shows, on the same day; what they may see is decided by those same inputs
(``access``), and a page is kept only after they were allowed to see it.

Not kept: a page with a message to show (a flash), any response but a plain page. The
CSRF token is rendered as a placeholder and filled in at every serve. Each serve is
audited as a read, with the detail the rendering gave. The pages live in the process's
memory, per app, bounded (least recently used out), like the other memos (``memo``):
``KEPT_PAGES`` of them (``MELDROUTE_KEPT_PAGES``, default 256; 0 keeps none).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from flask_wtf.csrf import generate_csrf

from .context import record_read, today
from .memo import BoundedCache
from .revisions import SITE
from .web_sessions import current_web_session, dossier_revisions

PAGES = "meldroute.pages"

# stands for the CSRF token in a kept page; random, so no content can contain it
PLACEHOLDER = "csrf-placeholder-" + secrets.token_hex(16)


@dataclass(frozen=True)
class Kept:
    html: str
    detail: str  # what the audit entry of a read says (the step shown)


def pages() -> BoundedCache[Hashable, Kept]:
    found: BoundedCache[Hashable, Kept] | None = current_app.extensions.get(PAGES)
    if found is None:
        found = current_app.extensions.setdefault(
            PAGES, BoundedCache(current_app.config["KEPT_PAGES"]))
    return found


def key_of(dossier_id: int) -> tuple[Any, ...] | None:
    """The key of this request's page of the dossier, or None when it cannot be kept (a
    message to show, or no such dossier)."""
    if current_web_session().get("_flashes") or not current_app.config["KEPT_PAGES"]:
        return None
    site = current_web_session().site_revision
    revisions = dossier_revisions(dossier_id) | {(SITE, site)}
    if site is None or dossier_id not in {owner for owner, _ in revisions}:
        return None
    day: dt.date = today()
    # the address: where the app is mounted, and the path; not the query or the host name,
    # which these pages do not read, so that variants of one page (``?1``, ``?2``, ...,
    # ``Host: a.example``, ``b.example``, ...) are one kept page and cannot push other
    # people's pages out
    address = (request.root_path, request.path)
    return (address, g.user.id, g.school_id, day, revisions)


def serve(dossier_id: int, key: tuple[Any, ...] | None) -> str | None:
    """The kept page under ``key``, its read audited and committed (``record_read``), or
    None."""
    if key is None:
        return None
    kept = pages().peek(key)
    if kept is None:
        return None
    record_read(dossier_id=dossier_id, detail=kept.detail)
    return kept.html.replace(PLACEHOLDER, generate_csrf())


def keep(key: tuple[Any, ...] | None, detail: str, render: Callable[..., str]) -> str:
    """The page ``render`` makes, kept under ``key`` (with the CSRF token as a placeholder
    in what is kept) when there is a key."""
    if key is None:
        return render()
    html = render(csrf_token=lambda: PLACEHOLDER)
    pages().put(key, Kept(html, detail))
    return html.replace(PLACEHOLDER, generate_csrf())
