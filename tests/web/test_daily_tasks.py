"""Issue 14, items 1 and 2: Mijn taken (from the rules' deadlines and stage, need to
know) and named people on a dossier (assigned by a coordinating role, audited, access
for assigned staff, "Nu aan zet" names them)."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from meldroute.webapp.models import AuditEvent, User

from .conftest import TODAY, TOKEN, walk_to_afwegen

TASK_ROW = re.compile(r'<a href="/dossiers/(\d+)">Dossier \d{4}-\d{3}</a>')


def tasks_on(browser, url: str = "/taken") -> list[int]:
    return [int(i) for i in TASK_ROW.findall(browser.get(url))]


def user_id(app, username: str) -> int:
    with app.extensions["meldroute.db_sessions"]() as db:
        return int(db.scalar(select(User.id).where(User.username == username)))


def post(browser, url: str, data: dict) -> int:
    token = TOKEN.search(browser.get("/account")).group(1)
    return browser.client.post(url, data={"csrf_token": token, **data}).status_code


def to_melden(browser, dossier: int) -> None:
    """Through the weighing to "melden": a deadline of the school, then Veilig Thuis's."""
    walk_to_afwegen(browser, dossier)
    for answers in ({"sterk_vermoeden": "nee"},
                    {"sterk_vermoeden": "nee", "actie_nodig": "ja"},
                    {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}):
        browser.post_step(dossier, "afwegen", answers)


def test_my_tasks_from_the_rules_overdue_first_and_acute_on_top(app, browser, clock):
    browser.login("ib")
    quiet = browser.new_dossier("A.A.", "3a")  # at step 1: the teacher's task, not the ib's
    late = browser.new_dossier("B.B.", "4b")
    to_melden(browser, late)  # now the director's (stap 5), with deadlines
    assert tasks_on(browser) == []
    browser.login("directeur")
    page = browser.get("/taken")
    assert tasks_on(browser) == [late, late]  # the school's deadline and Veilig Thuis's
    assert "Melding bij Veilig Thuis: maandag 30 november 2026" in page
    assert 'class="late"' not in page
    clock.today = TODAY.replace(month=12, day=1)
    assert 'Melding bij Veilig Thuis: maandag 30 november 2026 <span class="kind">' \
           '(termijn van de school)</span> <strong class="late">verlopen' in browser.get("/taken")
    browser.login("leerkracht")  # a teacher: only dossiers they may see
    assert tasks_on(browser) == []
    own = browser.new_dossier("C.C.", "5c")
    assert tasks_on(browser) == [own]  # step 1 is the teacher's
    assert "Stap 1 (Signaleren) vastleggen" in browser.last
    token = browser.token()
    response = browser.client.post("/dossiers/nieuw", data={
        "csrf_token": token, "pupil_initials": "F.F.", "pupil_group": "1a",
        "pupil_name": "Fictieve Leerling", "acute": "y"})
    acute = int(response.headers["Location"].split("/")[-1])
    browser.login("directeur")
    everyone = tasks_on(browser, "/taken?alle=1")
    assert everyone[0] == acute and everyone[1] == late  # acute on top, then overdue
    assert set(everyone) == {quiet, late, own, acute}  # a coordinating role: every task
    with app.extensions["meldroute.db_sessions"]() as db:
        listed = db.scalars(select(AuditEvent).where(AuditEvent.action == "tasks.list")).all()
    assert listed and all("B.B." not in e.detail for e in listed)


def test_assignment_gives_need_to_know_and_is_audited(app, browser):
    browser.login("leerkracht")
    dossier = browser.new_dossier("D.D.", "6a")
    zorg = user_id(app, "regenboog-zorgteam")
    browser.login("zorgteam")
    browser.get(f"/dossiers/{dossier}", status=404)
    assert dossier not in tasks_on(browser)
    browser.login("leerkracht")  # not a coordinating role: may read, not assign
    assert "Iemand koppelen" not in browser.get(f"/dossiers/{dossier}/mensen")
    assert post(browser, f"/dossiers/{dossier}/mensen",
                {"kind": "staff", "user_id": zorg, "task": "zorgteam"}) == 403
    browser.login("ib")
    assert post(browser, f"/dossiers/{dossier}/mensen",
                {"kind": "staff", "user_id": "", "task": "zorgteam"}) == 400
    assert "Kies een medewerker van deze school." in browser.client.post(
        f"/dossiers/{dossier}/mensen", data={
            "csrf_token": TOKEN.search(browser.get("/account")).group(1), "kind": "staff",
            "user_id": "999999", "task": "zorgteam"}).get_data(as_text=True)
    assert post(browser, f"/dossiers/{dossier}/mensen",
                {"kind": "staff", "user_id": zorg, "task": "zorgteam"}) == 302
    assert post(browser, f"/dossiers/{dossier}/mensen", {
        "kind": "external", "person_name": "Wijkteam Collega", "organisation": "Wijkteam Oost",
        "task": "casemanager"}) == 302
    page = browser.get(f"/dossiers/{dossier}/mensen")
    assert "<td data-label=\"\">Demo lid van het zorgteam</td>" in page
    assert "Wijkteam Collega (Wijkteam Oost)" in page
    browser.login("zorgteam")
    browser.get(f"/dossiers/{dossier}")  # need to know: now 200
    assert dossier in tasks_on(browser)
    assert dossier in [int(i) for i in re.findall(r'href="/dossiers/(\d+)">\d{4}-\d{3}<',
                                                  browser.get("/dossiers"))]
    with app.extensions["meldroute.db_sessions"]() as db:
        raw = db.execute(text("SELECT person_name, organisation FROM dossier_assignments "
                              "WHERE person_name IS NOT NULL")).one()
        assert "Wijkteam" not in raw[0] + raw[1]  # encrypted at rest
        first = db.execute(text("SELECT id FROM dossier_assignments WHERE user_id = :u"),
                           {"u": zorg}).scalar_one()
    browser.login("ib")
    assert post(browser, f"/dossiers/{dossier}/mensen/{first}/verwijderen", {}) == 302
    browser.login("zorgteam")
    browser.get(f"/dossiers/{dossier}", status=404)
    with app.extensions["meldroute.db_sessions"]() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ["dossier.assign", "dossier.unassign"]))).all()
    assert [(e.action, e.result) for e in events] == [
        ("dossier.assign", "refused"), ("dossier.assign", "rejected"),
        ("dossier.assign", "rejected"), ("dossier.assign", "ok"), ("dossier.assign", "ok"),
        ("dossier.unassign", "ok")]
    assert all("Wijkteam" not in e.detail for e in events)


def test_an_assigned_focal_person_opens_the_dossier_and_is_named_aan_zet(app, browser):
    """The known gap: the demo aandachtsfunctionaris (the ib's part in afwegen only) could
    not open a dossier it did not start, though "Nu aan zet" named its role."""
    browser.login("leerkracht")
    dossier = browser.new_dossier("E.E.", "7b")
    walk_to_afwegen(browser, dossier)
    browser.login("aandachtsfunctionaris")
    browser.get(f"/dossiers/{dossier}", status=404)
    browser.login("ib")
    focal = user_id(app, "regenboog-aandachtsfunctionaris")
    assert post(browser, f"/dossiers/{dossier}/mensen", {
        "kind": "staff", "user_id": focal, "task": "aandachtsfunctionaris"}) == 302
    page = browser.get(f"/dossiers/{dossier}")
    name = re.search(r"Nu aan zet: <strong>([^<]*)</strong>", page).group(1)
    assert name == "aandachtsfunctionaris (Demo aandachtsfunctionaris)"
    browser.login("aandachtsfunctionaris")
    browser.get(f"/dossiers/{dossier}")
    assert dossier in tasks_on(browser)
