"""Attacks on issue 13's follow-up (review5): the school's configuration looked up under
the site's revision read with the web session, and reads audited with the group commit."""

from __future__ import annotations

from flask import Flask

from meldroute.webapp.cli import main

from .conftest import SIGNALEREN, Browser, walk_to_afwegen


def test_a_school_import_from_the_command_line_shows_on_the_next_page(
        app: Flask, browser: Browser, cli_env: None, capsys, tmp_path) -> None:
    """Another process saves the school's configuration while a page of it is kept and
    the school is known under the site's revision: the next page shows the new contact."""
    browser.login("ib")
    dossier = browser.new_dossier()
    walk_to_afwegen(browser, dossier)
    browser.post_step(dossier, "afwegen", {"sterk_vermoeden": "ja",
                                           "bevoegd_gezag_ingelicht": "ja"})
    url = f"/dossiers/{dossier}/stap/afwegen"
    assert "Veilig Thuis (regio)" in browser.get(url)
    assert "Veilig Thuis (regio)" in browser.get(url)  # kept
    assert main(["school", "export", "regenboog"]) == 0
    path = tmp_path / "regenboog.yaml"
    path.write_text(capsys.readouterr().out.replace("Veilig Thuis (regio)",
                                                    "Veilig Thuis Oost"), "utf-8")
    assert main(["school", "import", str(path), "--reason", "nieuwe naam"]) == 0
    page = browser.get(url)
    assert "Veilig Thuis Oost" in page  # (what was recorded keeps the old name)


def _hold_first_group_batch(monkeypatch, waiting: int) -> list[int]:
    """The first batch of reads (not a read that went into its request's own transaction)
    is written only once ``waiting`` others queue behind it, or after a while. The sizes
    of the batches."""
    import threading

    from meldroute.webapp import audit

    real = audit.GroupCommit._write_batch
    first = threading.Event()
    sizes: list[int] = []

    def write_batch(group: audit.GroupCommit, db: object) -> None:
        if not first.is_set():
            first.set()
            pause = threading.Event()
            for _ in range(2000):
                if len(group._queue) > waiting:
                    break
                pause.wait(0.005)
        sizes.append(len(group._queue))
        real(group, db)  # type: ignore[arg-type]

    monkeypatch.setattr(audit.GroupCommit, "_write_batch", write_batch)
    return sizes


def test_readers_of_every_dossier_page_and_a_note_writer_at_once_keep_the_log_whole(
        app: Flask, browser: Browser, cli_env: None, monkeypatch, now, caplog) -> None:
    """The timeline, versions, a version, the route picture and who is named on the dossier
    (reads committed with other threads' reads), read at once by people whose web session
    is due a last-seen write and by one who writes a note meanwhile: no request hangs,
    each page sent has exactly one committed read, and ``meldroute audit verify``
    finds the log whole."""
    from sqlalchemy import select

    from meldroute.webapp.models import User

    from .conftest import TOKEN, sign_in_as
    from .test_audit_group_attack import _reads_from, _run

    browser.login("ib")
    dossier = browser.new_dossier()
    browser.post_step(dossier, "signaleren", SIGNALEREN)
    base = f"/dossiers/{dossier}"
    pages = [f"{base}/tijdlijn", f"{base}/stap/signaleren/versies",
             f"{base}/stap/signaleren/versie/1", f"{base}/route.svg", f"{base}/mensen"]
    with app.extensions["meldroute.db_sessions"]() as db:
        user_id = db.scalar(select(User.id).where(User.username == "regenboog-ib"))
    clients = []
    for n in range(4):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"
        sign_in_as(app, client, user_id, "regenboog")
        clients.append(client)
    now.advance(seconds=61)  # each web session's first request writes its last-seen time
    batches = _hold_first_group_batch(monkeypatch, 2)
    before = _reads_from(app)
    sent: dict[str, int] = {}

    def reader(n: int):
        def job() -> None:
            for _ in range(2):
                for url in pages:
                    response = clients[n].get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    sent[f"192.0.2.{n + 1}"] = sent.get(f"192.0.2.{n + 1}", 0) + 1
        return job

    def writer() -> None:
        client = clients[3]
        html = client.get(f"{base}/tijdlijn").get_data(as_text=True)
        sent["192.0.2.4"] = 1
        match = TOKEN.search(html)
        assert match
        response = client.post(f"{base}/notities", data={
            "csrf_token": match.group(1), "text": "Gebeld met de moeder.", "corrects": ""})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]

    assert _run([*(reader(n) for n in range(3)), writer]) == []
    after = _reads_from(app)
    assert {a: after.get(a, 0) - before.get(a, 0) for a in sent} == sent
    assert max(batches) > 1  # (a batch did commit other requests' reads)
    assert main(["audit", "verify"]) == 0  # the chain and its anchor
    assert "no write turn" not in caplog.text  # nobody waited for a turn held by a waiter

