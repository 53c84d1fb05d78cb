"""Issue 14, items 0 and 7: dossier numbers per school (shown instead of the id, unique
under concurrency), the overview's search, filters, sorting, archive tab and pages, and
the duplicate warning at creation."""

from __future__ import annotations

import datetime as dt
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from meldroute.webapp import dossiers as dossier_pages
from meldroute.webapp import numbering
from meldroute.webapp.models import AuditEvent, Dossier

from .conftest import TOKEN, make_user, sign_in_as, walk_to_afwegen

ROW_NUMBER = re.compile(r'<td data-label=""><a href="/dossiers/(\d+)">(\d{4}-\d{3})</a>')


def numbers_on(page: str) -> list[str]:
    return [number for _id, number in ROW_NUMBER.findall(page)]


def _year() -> int:
    return numbering.year_of(None)  # the year (in Amsterdam) the row is written


def test_numbers_per_school_shown_instead_of_the_id(app, browser):
    browser.login("ib")
    first, second = browser.new_dossier("A.A.", "3a"), browser.new_dossier("B.B.", "4b")
    browser.login("ib", "zonnebloem")
    elsewhere = browser.new_dossier("C.C.", "5c")
    year = _year()
    assert numbers_on(browser.get("/dossiers")) == [f"{year}-001"]  # its own sequence
    browser.login("ib")
    overview = browser.get("/dossiers")
    assert numbers_on(overview) == [f"{year}-002", f"{year}-001"]  # newest change first
    page = browser.get(f"/dossiers/{second}")
    assert f"<h1>Dossier {year}-002 " in page and f"Dossier {year}-002 · B.B." in page
    assert f"Logboek: dossier {year}-001" in browser.get(f"/dossiers/{first}/logboek")
    assert elsewhere != 1


def test_two_dossiers_opened_at_once_never_share_a_number(app):
    people = 6
    ready = []
    with app.extensions["meldroute.db_sessions"]() as db:
        from meldroute.webapp.models import User

        ib = db.scalar(select(User.id).where(User.username == "regenboog-ib"))
    for _ in range(people):
        client = app.test_client()
        sign_in_as(app, client, ib, "regenboog")
        ready.append((client, TOKEN.search(client.get("/dossiers/nieuw").get_data(
            as_text=True)).group(1)))
    barrier = threading.Barrier(people)

    def create(n: int) -> int:
        client, token = ready[n]
        barrier.wait()
        return client.post("/dossiers/nieuw", data={
            "csrf_token": token, "pupil_initials": "A.B.", "pupil_group": f"{n}a",
            "pupil_name": f"Fictieve Leerling {n}"}).status_code

    with ThreadPoolExecutor(people) as pool:
        assert list(pool.map(create, range(people))) == [302] * people
    with app.extensions["meldroute.db_sessions"]() as db:
        seqs = sorted(db.scalars(select(Dossier.number_seq)))
    assert seqs == list(range(1, people + 1))


def _make(browser, initials: str, group: str) -> int:
    return browser.new_dossier(initials, group)


def test_search_filters_sorting_archive_and_pages(app, browser, monkeypatch):
    browser.login("ib")
    ids = {name: _make(browser, *name.split("/")) for name in (
        "J.D./5b", "K.L./5b", "M.N./7a", "P.Q./8c")}
    walk_to_afwegen(browser, ids["M.N./7a"])  # on to afwegen: another stage
    with app.extensions["meldroute.db_sessions"]() as db:
        db.get(Dossier, ids["P.Q./8c"]).closed_at = dt.datetime.now(dt.UTC)
        db.get(Dossier, ids["K.L./5b"]).next_deadline = dt.date(2026, 11, 1)
        db.commit()
    year = _year()

    def shown(url: str) -> set[int]:
        return {int(i) for i, _n in ROW_NUMBER.findall(browser.get(url))}

    assert shown("/dossiers") == {ids["J.D./5b"], ids["K.L./5b"], ids["M.N./7a"]}
    assert shown("/dossiers?archief=1") == {ids["P.Q./8c"]}  # closed: the archive tab
    assert shown("/dossiers?q=j.d") == {ids["J.D./5b"]}  # initials, any case
    assert shown("/dossiers?q=5B") == {ids["J.D./5b"], ids["K.L./5b"]}  # group
    assert shown(f"/dossiers?q={year}-003") == {ids["M.N./7a"]}  # the dossier number
    assert shown("/dossiers?q=3") == {ids["M.N./7a"]}  # its sequence alone
    assert shown("/dossiers?q=%25") == set()  # a wildcard is a character, not "all"
    assert shown("/dossiers?fase=afwegen") == {ids["M.N./7a"]}
    assert shown("/dossiers?verstreken=1") == {ids["K.L./5b"]}
    page = browser.get("/dossiers?fase=bestaat_niet&sorteer=raar")
    assert "Onbekende fase" in page and "Onbekende sortering" in page  # named, no 500
    by_pupil = browser.get("/dossiers?sorteer=leerling")
    assert [int(i) for i, _ in ROW_NUMBER.findall(by_pupil)] == [
        ids["J.D./5b"], ids["K.L./5b"], ids["M.N./7a"]]
    by_number = browser.get("/dossiers?sorteer=nummer")
    assert numbers_on(by_number) == [f"{year}-003", f"{year}-002", f"{year}-001"]
    monkeypatch.setattr(dossier_pages, "PAGE_SIZE", 2)
    first = browser.get("/dossiers?sorteer=leerling&q=.")
    assert "Pagina 1 van 2 (3 dossiers)" in first
    assert "/dossiers?pagina=2&amp;q=.&amp;sorteer=leerling" in first  # filters kept
    second = browser.get("/dossiers?pagina=2&q=.&sorteer=leerling")
    assert [int(i) for i, _ in ROW_NUMBER.findall(second)] == [ids["M.N./7a"]]


def test_need_to_know_in_the_overview_and_its_search(app, browser):
    browser.login("leerkracht")
    mine = browser.new_dossier("A.B.", "5b")
    browser.login("ib")
    other = browser.new_dossier("A.B.", "5b", name="Andere Leerling")
    browser.login("leerkracht")
    assert {int(i) for i, _ in ROW_NUMBER.findall(browser.get("/dossiers?q=A.B."))} == {mine}
    assert other != mine


def _new(browser, initials="J.D.", group="5b", birth="2016-04-01"):
    token = browser.token()
    return browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": initials, "pupil_group": group,
        "pupil_name": "Fictieve Leerling", "pupil_birthdate": birth}, follow_redirects=True)


def test_duplicate_warning_only_for_who_may_see_the_earlier_dossier(app, browser):
    browser.login("leerkracht")
    assert "Let op" not in _new(browser).get_data(as_text=True)
    browser.login("ib")  # a coordinating role sees the earlier dossier: a link to it
    page = _new(browser, "j.d.").get_data(as_text=True)
    assert "Let op: er is al een open dossier" in page and f"dossier {_year()}-001</a>" in page
    assert "Let op" not in _new(browser, birth="2016-04-02").get_data(as_text=True)
    other = make_user(app, "juf.x", "regenboog", "leerkracht")  # may not see it: no hint
    sign_in_as(app, browser.client, other.id, "regenboog")
    assert "Let op" not in _new(browser).get_data(as_text=True)
    with app.extensions["meldroute.db_sessions"]() as db:
        told = db.scalars(select(AuditEvent).where(
            AuditEvent.action == "dossier.duplicate")).all()
    # the ib's second dossier matched the first; juf.x's matched both
    assert len(told) == 3 and all("Fictieve" not in e.detail for e in told)
    browser.login("directeur")  # the coordinating roles are told on their overview
    overview = browser.get("/dossiers")
    assert "Mogelijk dubbele dossiers" in overview and f"{_year()}-004" in overview


def test_the_migration_numbers_existing_dossiers_per_school_and_year(tmp_path):
    from sqlalchemy import create_engine, text

    from meldroute.webapp.db import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0007_grants")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, username, display_name, demo, active, is_admin, "
            "must_change_password, created_at) VALUES (1, 'u', 'U', 0, 1, 0, 0, "
            "'2025-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO protocol_versions (digest, protocol_id, version, source, created_at) "
            "VALUES ('d', 'meldcode-onderwijs', '1', '', '2025-01-01 00:00:00')"))
        for n, (school, created) in enumerate([
                ("a", "2025-12-31 22:30:00+00:00"),  # 23:30 in Amsterdam: still 2025
                ("a", "2025-12-31 23:30:00+00:00"),  # 00:30 on New Year's day: 2026
                ("b", "2025-06-01 10:00:00+00:00"), ("a", "2025-03-01 10:00:00+00:00")], 1):
            connection.execute(text(
                "INSERT INTO dossiers (id, school_id, pupil_initials, pupil_group, pupil_name, "
                "protocol_digest, created_by_id, created_at, updated_at, current_step, "
                "responsible, flags, row_version) VALUES (:i, :s, 'A.', '1', 'x', 'd', 1, "
                ":c, :c, 'signaleren', '', '{}', 1)"), {"i": n, "s": school, "c": created})
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, number_year, number_seq FROM dossiers ORDER BY id")).all()
        counters = connection.execute(text(
            "SELECT school_id, year, last FROM dossier_counters ORDER BY school_id, year")).all()
    engine.dispose()
    assert rows == [(1, 2025, 2), (2, 2026, 1), (3, 2025, 1), (4, 2025, 1)]
    assert counters == [("a", 2025, 2), ("a", 2026, 1), ("b", 2025, 1)]
