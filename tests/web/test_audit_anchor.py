"""Issue 10, finding 5: an audit trail nobody can rewrite without the audit key.

Chain values are HMACs with a key outside the database; checkpoints of committed entries
go to an anchor outside the database; ``meldroute audit verify`` checks both (0 intact,
1 broken, 2 could not check) and ``meldroute restore`` re-bases the anchor.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from meldroute.webapp import audit, audit_anchor, crypto
from meldroute.webapp.cli import main
from meldroute.webapp.context import db_engine_of, db_sessions_of
from meldroute.webapp.models import AuditEvent, AuditHead

from .conftest import Browser, stored_dossier
from .test_backup import PASSPHRASE, PG_BIN

DB_DOWN = {"MELDROUTE_DATABASE_URL":
           "postgresql+psycopg://meldroute:geheim@127.0.0.1:9/meldroute"}


def instance_of(app: Flask) -> Path:
    return Path(app.config["INSTANCE_PATH"])


def anchor_file(app: Flask) -> Path:
    return instance_of(app) / "audit_anchor"


def some_activity(browser: Browser) -> int:
    browser.login("ib")
    dossier = browser.new_dossier()
    for _ in range(3):
        browser.get(f"/dossiers/{dossier}")
    return dossier


def newest(app: Flask) -> int:
    with db_sessions_of(app)() as db:
        found = audit.last_committed(db)
    assert found is not None
    return found[0]


def verify(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["audit", "verify", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def cut_off(app: Flask, keep: int) -> None:
    """What someone with write access to the database does: delete the newest entries and
    point the head at the last one kept, so that the chain itself is whole."""
    with db_sessions_of(app)() as db:
        db.execute(text(f"DELETE FROM audit_events WHERE seq > {keep}"))
        last = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == keep))
        db.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=keep, last_hash=last))
        db.commit()


def rechain(app: Flask, value) -> None:  # type: ignore[no-untyped-def]
    """Recompute every chain value (and the head) with ``value(entry)``."""
    with db_sessions_of(app)() as db:
        prev = audit.GENESIS
        for entry in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all():
            entry.prev_hash = prev
            entry.hash = prev = value(entry)
        db.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=prev))
        db.commit()


def test_an_untouched_trail_verifies_and_the_key_file_is_private(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    key_file = instance_of(app) / "audit_key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert oct(anchor_file(app).stat().st_mode & 0o777) == "0o600"
    with db_sessions_of(app)() as db:
        marker = db.scalars(select(AuditEvent).where(AuditEvent.action == audit.MARKER)).one()
        assert key_file.read_text().strip() not in " ".join(
            str(v) for v in db.execute(text("SELECT * FROM audit_events")).all())
    assert marker.seq == 1  # a fresh database: signed from its first entry on
    code, out, _ = verify(capsys)
    assert code == 0 and out.startswith("Logboek in orde:") and "verankerd" in out


def test_deleting_the_last_entries_and_updating_the_head_is_caught(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    assert main(["audit", "anchor"]) == 0  # the hourly cron job
    last = newest(app)
    cut_off(app, last - 3)
    with db_sessions_of(app)() as db:
        assert audit.verify(db)[1] is None  # the chain alone cannot tell
    code, _, err = verify(capsys)
    assert code == 1
    assert err.startswith(f"Logboek NIET in orde: regel {last - 2}: regels {last - 2}–{last} "
                          "staan in het anker maar ontbreken")


def test_the_first_commit_of_a_process_is_anchored_at_once(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)  # no cron job: only what the app anchored by itself
    anchored = audit_anchor.read_file(anchor_file(app), crypto.load_audit_key(
        instance_of(app))).highest
    assert anchored is not None
    cut_off(app, anchored - 1)
    assert verify(capsys)[0] == 1


@pytest.mark.parametrize("how", ["plain SHA-256", "another key"])
def test_a_chain_recomputed_as_a_whole_is_caught(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str],
        how: str) -> None:
    some_activity(browser)
    assert main(["audit", "anchor"]) == 0
    if how == "plain SHA-256":
        rechain(app, audit.plain_hash)
    else:
        other = crypto.AuditKey(secrets.token_bytes(32), "elders")
        rechain(app, lambda e: audit.plain_hash(e) if e.action == audit.MARKER
                else audit.entry_mac(e, other))
    code, _, err = verify(capsys)
    assert code == 1 and err.startswith("Logboek NIET in orde: regel 2:")  # after the marker


def test_an_edited_entry_is_named(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    with db_sessions_of(app)() as db:
        db.execute(text("UPDATE audit_events SET actor = 'iemand-anders' WHERE seq = 4"))
        db.commit()
    code, _, err = verify(capsys)
    assert code == 1 and err.startswith("Logboek NIET in orde: regel 4: de inhoud")


def test_without_the_audit_key_verify_could_not_check(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    (instance_of(app) / "audit_key").unlink()
    code, out, err = verify(capsys)
    assert code == 2 and out == ""
    assert "geen auditsleutel gevonden" in err and len(err.strip().splitlines()) == 1
    assert not (instance_of(app) / "audit_key").exists()  # no new key for a signed trail


def test_a_key_that_is_not_this_trails_could_not_check(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    (instance_of(app) / "audit_key").write_text(secrets.token_hex(32) + "\n")
    code, _, err = verify(capsys)
    assert code == 2 and "hoort niet bij het anker" in err


def test_an_unreachable_database_could_not_check(
        app: Flask, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DB_DOWN.items():
        monkeypatch.setenv(name, value)
    code, out, err = verify(capsys)
    assert code == 2 and out == "" and "Traceback" not in err


def test_a_forged_anchor_line_is_caught(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    some_activity(browser)
    forger = crypto.AuditKey(secrets.token_bytes(32), "elders")
    with anchor_file(app).open("a") as handle:
        handle.write(audit_anchor.checkpoint_line(forger, 10_000, "f" * 64))
    code, _, err = verify(capsys)
    assert code == 1 and err.startswith("Anker NIET in orde: regel ")


def test_a_crash_between_commit_and_checkpoint_still_verifies(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    some_activity(browser)
    assert main(["audit", "anchor"]) == 0
    anchored = newest(app)
    # from here on every commit dies before its checkpoint is written
    monkeypatch.setattr(audit_anchor.Anchor, "committed", lambda *args: None)
    some_activity(browser)
    assert newest(app) > anchored
    code, out, _ = verify(capsys)
    assert code == 0 and f"verankerd tot en met regel {anchored} " in out


def test_only_committed_entries_are_anchored(app: Flask, cli_env: None) -> None:
    trail: audit.Trail = app.extensions[audit_anchor.TRAIL]
    anchor = audit_anchor.Anchor(audit_anchor.FileSink(str(anchor_file(app))), trail.key, 0)
    with db_sessions_of(app)() as db:
        db.info[audit.TRAIL] = audit.Trail(trail.key, anchor)
        entry = audit.append(db, action="test.rolled_back", actor="t", actor_id=None,
                             address="-", now=app.config["NOW"]())
        seq = entry.seq
        db.rollback()
        assert not anchor_file(app).exists()  # nothing committed, nothing anchored
        entry = audit.append(db, action="test.committed", actor="t", actor_id=None,
                             address="-", now=app.config["NOW"]())
        db.commit()
        assert audit.verify(db)[1] is None
    anchored = audit_anchor.read_file(anchor_file(app), trail.key).anchored
    assert list(anchored) == [seq] and anchored[seq] == entry.hash  # the committed one


def test_processes_append_whole_lines(app: Flask, cli_env: None) -> None:
    key = crypto.load_audit_key(instance_of(app))
    sink = audit_anchor.FileSink(str(instance_of(app) / "gedeeld_anker"))

    def writer(start: int) -> None:
        for seq in range(start, start + 200):
            sink.write(audit_anchor.checkpoint_line(key, seq, f"{seq:064x}"))

    threads = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reading = audit_anchor.read_file(Path(sink.where), key)
    assert reading.valid == 800 and not reading.forged


def test_a_syslog_anchor_is_checked_from_an_extract(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    some_activity(browser)
    assert main(["audit", "anchor"]) == 0
    extract = tmp_path / "syslog.txt"
    extract.write_text("".join(f"Nov 29 09:00:00 school meldroute[42]: {line}"
                               for line in anchor_file(app).read_text().splitlines(True)))
    monkeypatch.setenv("MELDROUTE_AUDIT_ANCHOR", "syslog")
    code, out, _ = verify(capsys)
    assert code == 0 and "niet gecontroleerd" in out
    cut_off(app, newest(app) - 2)
    assert verify(capsys, "--anker", str(extract))[0] == 1


def test_the_anchor_interval_is_at_most_an_hour(
        app: Flask, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MELDROUTE_AUDIT_ANCHOR_MINUTES", "61")
    code, _, err = verify(capsys)
    assert code == 2 and "MELDROUTE_AUDIT_ANCHOR_MINUTES" in err


def test_a_restored_backup_verifies_with_the_gap_named(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MELDROUTE_BACKUP_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("MELDROUTE_KEYS", raising=False)
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        if not PG_BIN:
            pytest.skip("restore on PostgreSQL needs pg_dump and pg_restore")
        monkeypatch.setenv("PATH", f"{PG_BIN[-1]}{os.pathsep}{os.environ['PATH']}")
    stored_dossier(browser)
    in_backup = newest(app)  # the backup's own entry is written after its copy
    assert main(["backup", str(tmp_path / "backup")]) == 0
    some_activity(browser)
    assert main(["audit", "anchor"]) == 0
    before = newest(app)
    db_engine_of(app).dispose()
    assert main(["restore", str(tmp_path / "backup"), "--force"]) == 0, capsys.readouterr().err
    gap = f"regels {in_backup + 1}–{before} van voor de restore ontbreken"
    assert gap in capsys.readouterr().out
    code, out, err = verify(capsys)
    assert code == 0, err
    assert "Let op: hersteld uit back-up " in out and gap in out
    with db_sessions_of(app)() as db:
        event = db.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None and event.action == "backup.restore" and gap in event.detail
    lines = anchor_file(app).read_text().splitlines()
    assert json.loads(lines[-1].split(" ")[1])["kind"] == "restore"
    cut_off(app, in_backup)  # the restore event itself is anchored
    assert verify(capsys)[0] == 1


def test_a_restore_into_a_new_instance_brings_the_audit_key(
        app: Flask, browser: Browser, cli_env: None, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("a new SQLite instance")
    monkeypatch.setenv("MELDROUTE_BACKUP_PASSPHRASE", PASSPHRASE)
    some_activity(browser)
    assert main(["backup", str(tmp_path / "backup")]) == 0
    elders = tmp_path / "elders"
    monkeypatch.setenv("MELDROUTE_INSTANCE", str(elders))
    monkeypatch.setenv("MELDROUTE_DATABASE_URL", f"sqlite:///{elders / 'meldroute.db'}")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert (elders / "audit_key").read_text() == (instance_of(app) / "audit_key").read_text()
    assert oct((elders / "audit_key").stat().st_mode & 0o777) == "0o600"
    code, out, err = verify(capsys)
    assert code == 0, err
    assert "hersteld uit back-up" in out and os.path.exists(elders / "audit_anchor")


def test_what_waits_for_its_checkpoint_is_written_when_its_time_comes(
        app: Flask, browser: Browser, cli_env: None) -> None:
    key = crypto.load_audit_key(instance_of(app))
    some_activity(browser)
    first = audit_anchor.read_file(anchor_file(app), key).highest
    some_activity(browser)  # within the interval: no checkpoint after these commits
    assert audit_anchor.read_file(anchor_file(app), key).highest == first
    trail: audit.Trail = app.extensions[audit_anchor.TRAIL]
    assert isinstance(trail.anchor, audit_anchor.Anchor)
    trail.anchor.flush()  # what the process's timer does when the interval is up
    assert audit_anchor.read_file(anchor_file(app), key).highest == newest(app)


def test_an_existing_trail_keeps_its_plain_entries_and_is_signed_after_the_marker(
        app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from meldroute.webapp.db import make_db_engine, upgrade

    from .test_keys import start

    url = f"sqlite:///{tmp_path / 'oud.db'}"
    upgrade(url, "0006_acute")
    old = make_db_engine(url)
    with Session(old) as db:  # what the app wrote before 0007: plain SHA-256 values
        prev = audit.GENESIS
        for seq in (1, 2, 3):
            entry = AuditEvent(seq=seq, at=dt.datetime(2026, 11, 1, 9, seq, tzinfo=dt.UTC),
                               actor_id=None, actor="oud", on_behalf_of=None, action="login",
                               school_id=None, dossier_id=None, result="ok", address="-",
                               detail="", prev_hash=prev)
            entry.hash = prev = audit.plain_hash(entry)
            db.add(entry)
        db.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=3, last_hash=prev))
        db.commit()
    old.dispose()
    upgrade(url)
    instance = tmp_path / "oud"
    upgraded = start(app, instance, DATABASE_URL=url)
    with db_sessions_of(upgraded)() as db:
        audit.append(db, action="login", actor="nieuw", actor_id=None, address="-",
                     now=dt.datetime.now(dt.UTC))
        db.commit()
        entries = db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [e.action for e in entries] == ["login"] * 3 + [audit.MARKER, "login"]
        assert entries[4].hash != audit.plain_hash(entries[4])  # signed with the key
    for name, value in {"MELDROUTE_DATABASE_URL": url, "MELDROUTE_INSTANCE": str(instance),
                        "MELDROUTE_SECRET_KEY": "test"}.items():
        monkeypatch.setenv(name, value)
    code, out, err = verify(capsys)
    assert code == 0, err
    with db_sessions_of(upgraded)() as db:  # the marker edited away: caught
        db.execute(text(f"UPDATE audit_events SET action = 'x' WHERE action = '{audit.MARKER}'"))
        db.commit()
    assert verify(capsys)[0] == 1
