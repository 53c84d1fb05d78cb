"""The cost of a request, counted (never timed): SQL statements and transactions of a
step page, the web session's last-seen time, and decisions taken from the memo."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from meldroute.webapp import decisions

from .conftest import BASE, SIGNALEREN, TOKEN, Browser, Now, walk_to_afwegen

MAX_STATEMENTS = 8


class Counted:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.commits = 0

    @property
    def writes(self) -> list[str]:
        return [s for s in self.statements if not s.lstrip().upper().startswith("SELECT")]


@contextmanager
def counting(app: Flask) -> Iterator[Counted]:
    engine = app.extensions["meldroute.db_engine"]
    counted = Counted()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.statements.append(statement)

    def on_commit(_conn: Any) -> None:
        counted.commits += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def a_dossier_with_history(browser: Browser) -> str:
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    url = f"/dossiers/{dossier}/stap/signaleren"
    browser.get(url)  # shows (and so removes) the flash message of the last save
    return url


def test_a_step_page_is_one_transaction_of_few_statements(app: Flask, browser: Browser
                                                          ) -> None:
    url = a_dossier_with_history(browser)
    with counting(app) as counted:
        browser.get(url)
    assert len(counted.statements) <= MAX_STATEMENTS, counted.statements
    assert counted.commits == 1
    assert all("audit_" in s for s in counted.writes), counted.writes  # only the audit row


def test_a_kept_page_is_the_web_session_and_its_read(app: Flask, browser: Browser) -> None:
    url = a_dossier_with_history(browser)
    browser.get(url)  # rendered and kept
    for page in (url, url.rsplit("/", 2)[0]):  # a step, and the dossier's own page
        browser.get(page)
        with counting(app) as counted:
            browser.get(page)
        # one read: the web session with the user, their roles, the site's and the
        # dossier's revisions; then the read's audit entry (take the head, insert, move;
        # on PostgreSQL the insert and the move are one statement)
        reads = [s for s in counted.statements if s not in counted.writes]
        assert len(reads) == 1 and "web_sessions" in reads[0], counted.statements
        audit_statements = 2 if app.config["DATABASE_URL"].startswith("postgresql") else 3
        assert len(counted.writes) == audit_statements
        assert all("audit_" in s for s in counted.writes)
        assert counted.commits == 1


def test_a_save_is_one_transaction(app: Flask, browser: Browser) -> None:
    url = a_dossier_with_history(browser)
    html = browser.get(url)
    form = {"action": "save", "csrf_token": TOKEN.search(html).group(1),  # type: ignore
            "base_version": BASE.search(html).group(1), **SIGNALEREN}  # type: ignore
    with counting(app) as counted:
        response = browser.client.post(url, data=form)
    assert response.status_code == 302
    assert counted.commits == 1  # the version, the audit entry and the message shown next
    # reads: the web session (with the user, roles and the site's revision, which the
    # school's configuration is then looked up under), the dossier, its newest versions
    reads = [s for s in counted.statements if s not in counted.writes]
    assert len(reads) == 3 and "web_sessions" in reads[0], reads
    assert not any("site_revision" in s for s in reads[1:]), reads
    assert "opgeslagen" in browser.get(response.headers["Location"])


def test_the_last_seen_time_is_written_at_most_once_a_minute(app: Flask, browser: Browser,
                                                             now: Now) -> None:
    url = a_dossier_with_history(browser)
    now.advance(seconds=61)
    with counting(app) as counted:
        browser.get(url)
    touches = [s for s in counted.writes if "web_sessions" in s]
    assert len(touches) == 1 and counted.commits == 1  # in the request's one transaction
    now.advance(seconds=30)
    with counting(app) as counted:
        browser.get(url)
    assert not [s for s in counted.writes if "web_sessions" in s]
    assert counted.commits == 1


def test_an_unchanged_dossier_is_not_evaluated_again(app: Flask, browser: Browser,
                                                     monkeypatch: Any) -> None:
    url = a_dossier_with_history(browser)
    calls: list[object] = []
    real = decisions.evaluate

    def counting_evaluate(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(decisions, "evaluate", counting_evaluate)
    decisions.DECISIONS.clear()
    browser.get(url)
    assert len(calls) == 1
    browser.get(url)
    browser.get(url.rsplit("/", 2)[0])  # the dossier's own page: the same decision
    assert len(calls) == 1


def test_a_decision_key_is_its_inputs_in_any_order() -> None:
    assert decisions.freeze({"b": "2", "a": ["x", {"y": 1}]}) == \
        decisions.freeze({"a": ["x", {"y": 1}], "b": "2"})
    assert decisions.freeze({"a": "1"}) != decisions.freeze({"a": "2"})
    cache = decisions.DecisionCache(size=2)
    made: list[dt.date] = []

    def compute(day: dt.date) -> Any:
        made.append(day)
        return object()

    school: Any = object()  # (compared by identity, as a SchoolConfig is)
    keys = [decisions.DecisionKey("p", (1, None), school, dt.date(2026, 1, i), ())
            for i in (1, 2, 3)]
    for key in [*keys, keys[0]]:
        cache.get(key, lambda key=key: compute(key.day))  # type: ignore[misc]
    assert len(made) == 4  # the first key was pushed out by the third


def test_the_overview_shows_a_page_of_dossiers_at_a_time(app: Flask, browser: Browser
                                                         ) -> None:
    from sqlalchemy import select

    from meldroute.webapp.dossiers import PAGE_SIZE
    from meldroute.webapp.models import User
    from meldroute.webapp.services import create_dossier

    registry = app.extensions["meldroute.registry"]
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        owner = db.scalar(select(User).where(User.username == "regenboog-ib"))
        assert owner is not None
        for n in range(PAGE_SIZE + 3):
            create_dossier(db, registry, registry.school("regenboog"), owner, f"P.{n}.", "3",
                           "Verzonnen Kind", app.config["CLOCK"]())
        db.commit()
    browser.login("ib")
    first = browser.get("/dossiers")
    assert first.count('class="dossiers') == 1 and "Pagina 1 van 2" in first
    assert first.count("<tr") == PAGE_SIZE + 1  # the header row and a page of dossiers
    second = browser.get("/dossiers?pagina=2")
    assert second.count("<tr") == 3 + 1 and "Pagina 2 van 2" in second
    assert browser.get("/dossiers?pagina=99").count("<tr") == 3 + 1  # the last page


def test_kept_form_markup_follows_the_values_and_never_carries_a_token(
        app: Flask, browser: Browser) -> None:
    from meldroute.webapp.dossiers import FIELDS_HTML

    from .conftest import SIGNALEREN as SIGNALS

    url = a_dossier_with_history(browser)
    FIELDS_HTML.clear()
    first = browser.get(url)
    assert FIELDS_HTML.hits == 0
    # another person who may see the dossier gets the same fields (kept) with their own
    # token
    colleague = Browser(app, app.test_client())
    colleague.login("directeur")
    theirs = colleague.get(url)
    assert FIELDS_HTML.hits == 1
    mine_token, their_token = (TOKEN.search(p).group(1)  # type: ignore[union-attr]
                               for p in (first, theirs))
    assert mine_token != their_token and mine_token not in theirs
    assert "Zorgen over de thuissituatie." in theirs
    # a new version shows its own values, not the kept markup of the old ones
    dossier = int(url.split("/")[2])
    response = browser.post_step(dossier, "signaleren",
                                 {**SIGNALS, "interpretatie": "Nieuwe zorgen, anders."})
    assert response.status_code == 302
    page = browser.get(url)
    assert "Nieuwe zorgen, anders." in page and "Zorgen over de thuissituatie." not in page
    # a refused save shows the posted values and the message next to the field
    response = browser.post_step(dossier, "signaleren",
                                 {**SIGNALS, "observaties-0-datum": "2099-01-01"})
    assert response.status_code == 400 and 'aria-invalid="true"' in browser.last
    assert len(FIELDS_HTML) <= FIELDS_HTML.size


def test_a_stored_value_is_read_from_the_memo_only_with_keys_that_read_it(app: Flask
                                                                          ) -> None:
    from cryptography.fernet import Fernet

    from meldroute.webapp import crypto

    before = crypto.ring()
    ring = crypto.KeyRing((Fernet.generate_key().decode(),), "env")
    other = crypto.KeyRing((Fernet.generate_key().decode(),), "env")
    column = crypto.EncryptedText()
    token = ring.encrypt("verzonnen tekst")
    try:
        crypto.configure(ring)
        assert column.process_result_value(token, None) == "verzonnen tekst"
        assert column.process_result_value(token, None) == "verzonnen tekst"  # the memo
        crypto.configure(other)  # keys that cannot read it: not from the memo either
        with pytest.raises(crypto.KeyError_):
            column.process_result_value(token, None)
    finally:
        crypto.configure(before)


def test_the_site_revision_read_with_the_web_session_is_used_only_while_it_holds(
        app: Flask) -> None:
    """The school's configuration is looked up under the site's revision read with the web
    session; once the request has written (a configuration saved) or committed, that
    revision may be old, and it is read again."""
    from sqlalchemy import select, text

    from meldroute.webapp.context import db
    from meldroute.webapp.models import SiteRevision
    from meldroute.webapp.web_sessions import current_web_session, site_revision_now

    with app.test_request_context("/"):
        request_db = db()
        read = request_db.scalar(select(SiteRevision.revision))
        web_session = current_web_session()
        web_session.site_revision, web_session.read_in = read, request_db.get_transaction()
        assert site_revision_now(request_db) == read
        request_db.execute(text("UPDATE site_revision SET revision = revision + 1"))
        assert site_revision_now(request_db) is None  # written: read it again
        request_db.rollback()
        request_db.scalar(select(SiteRevision.revision))  # a new transaction
        assert site_revision_now(request_db) is None
        web_session.site_revision = None  # an anonymous visitor's: nothing was read
        assert site_revision_now(request_db) is None


@pytest.mark.parametrize("page, detail", [
    ("/stap/signaleren/versie/1", "signaleren versie 1"),
    ("/stap/signaleren/versies", "signaleren versies"),
    ("/tijdlijn", "tijdlijn"),
    ("/route.svg", "routeplaat"),
    ("/mensen", "betrokken personen"),
])
def test_every_page_that_shows_a_dossier_commits_its_read_before_it_is_sent(
        app: Flask, browser: Browser, page: str, detail: str) -> None:
    """A dossier's timeline, versions and route picture are audited as its step pages are:
    the read is committed (with other threads' reads when the request wrote nothing) and
    the page writes nothing else."""
    from sqlalchemy import select

    from meldroute.webapp.models import AuditEvent

    url = a_dossier_with_history(browser)
    dossier = url.split("/")[2]
    with counting(app) as counted:
        response = browser.client.get(f"/dossiers/{dossier}{page}")
    assert response.status_code == 200
    assert counted.commits == 1 and all("audit_" in s for s in counted.writes), counted.writes
    with app.extensions["meldroute.db_sessions"]() as db:
        last = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and (last.action, last.detail, last.dossier_id) == (
        "dossier.read", detail, int(dossier))


def test_two_databases_with_the_same_version_ids_never_share_a_decision() -> None:
    """Configuration version ids are one database's: a process that meets two (a restored
    database, the tests' one per app) must not take one's decision for the other's."""
    import copy

    import yaml

    from meldroute.engine import data_document, load_protocol, school_config, shipped_dir

    protocols = {p.id: p for p in (load_protocol(shipped_dir("rules") / f"{name}.yaml")
                                   for name in ("meldcode-onderwijs", "meldplicht-medewerker"))}
    protocol = protocols["meldcode-onderwijs"]
    data = yaml.safe_load((shipped_dir("schools") / "demo.yaml").read_text(encoding="utf-8"))
    other = copy.deepcopy(data)
    other["contacts"]["veilig_thuis"]["phone"] = "0800-2000"
    one = school_config(data_document(data, "een.yaml"), protocols)
    two = school_config(data_document(other, "twee.yaml"), protocols)
    answers = {"sterk_vermoeden": "ja", "bevoegd_gezag_ingelicht": "ja"}
    day = dt.date(2026, 11, 27)
    first = decisions.decide(protocol, one, (1, None), day, answers=answers, facts={})
    second = decisions.decide(protocol, two, (1, None), day, answers=answers, facts={})
    assert "0412-673700" in repr(first) and "0412-673700" not in repr(second)
    assert "0800-2000" in repr(second)


def test_saves_whose_redirect_is_never_followed_keep_the_web_session_small(
        app: Flask, browser: Browser) -> None:
    """A client that saves again and again without asking for the next page (a script, a
    load test) gets each message once, the newest few, not a web session that grows with
    every save and is read and written by each of its requests."""
    from sqlalchemy import select

    from meldroute.webapp.models import WebSession
    from meldroute.webapp.web_sessions import MAX_MESSAGES

    url = a_dossier_with_history(browser)
    html = browser.get(url)
    form = {"action": "save", "csrf_token": TOKEN.search(html).group(1),  # type: ignore
            **SIGNALEREN}
    base = int(BASE.search(html).group(1))  # type: ignore[union-attr]
    for n in range(3 * MAX_MESSAGES):
        response = browser.client.post(url, data={**form, "base_version": str(base + n)})
        assert response.status_code == 302
    with app.app_context(), app.extensions["meldroute.db_sessions"]() as db:
        data = db.scalars(select(WebSession.data)).one()
    assert data.count("opgeslagen") == 1, data
    shown = browser.get(response.headers["Location"])
    assert shown.count("Stap 1 (Signaleren) is opgeslagen.") == 1


def test_every_message_of_one_request_is_shown(app: Flask, browser: Browser) -> None:
    """Found in review: the cap on waiting messages (for clients that never ask for the
    next page) must not drop messages the very next page is meant to show: a new dossier
    for a pupil with five open dossiers gets five warnings, each a link, and its own."""
    from meldroute.webapp.web_sessions import MAX_MESSAGES

    browser.login("ib")
    for n in range(MAX_MESSAGES + 1):
        page = browser.client.post("/dossiers/nieuw", data={
            "csrf_token": browser.token(), "pupil_initials": "J.D.", "pupil_group": "5b",
            "pupil_name": "Fictieve Leerling", "pupil_birthdate": "2016-04-01"},
            follow_redirects=True).get_data(as_text=True)
        assert page.count("Let op: er is al een open dossier") == n
        assert "Dossier aangemaakt." in page


def test_this_requests_messages_all_stay_after_five_left_waiting() -> None:
    """Five messages left by requests that never showed them, then one request that
    leaves six (flash() sets the same list again for each): the six are all kept, the
    old ones make way."""
    from meldroute.webapp.web_sessions import MAX_MESSAGES, ServerSession

    waiting = [["ok", f"oud {n}"] for n in range(MAX_MESSAGES)]  # as read back from JSON
    web_session = ServerSession({"_flashes": waiting})
    for n in range(MAX_MESSAGES + 1):  # what flask.flash does
        flashes = web_session.get("_flashes", [])
        flashes.append(("warning", f"nieuw {n}"))
        web_session["_flashes"] = flashes
    assert [text for _, text in web_session["_flashes"]] == [
        f"nieuw {n}" for n in range(MAX_MESSAGES + 1)]
