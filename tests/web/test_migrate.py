"""Pinned protocol versions: open dossiers stay on theirs until they are moved, and
`meldroute dossiers migrate` moves only those whose outcome and stage stay the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from meldroute.engine import protocol_from_document
from meldroute.engine.source import parse_text
from meldroute.webapp.cli import main
from meldroute.webapp.models import AuditEvent, Dossier, ProtocolVersion
from meldroute.webapp.services import move_to_protocol

from .conftest import walk_to_afwegen

UNSAFE = "      onveilig: ja\n    then:\n      - outcome: melden\n"
MELDEN = {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}


def _old_version(app) -> str:
    """An earlier version of the Meldcode, in which an unsafe pupil was reported as acute
    danger, as if dossiers had been started under it; its digest."""
    registry = app.extensions["meldroute.registry"]
    current = registry.protocols["meldcode-onderwijs"]
    text = registry._texts[current.digest].replace(UNSAFE, UNSAFE.replace(
        "melden", "direct_melden")).replace('version: "2026.1"', 'version: "2025.9"')
    old = protocol_from_document(parse_text(text, "oud.yaml"))
    with app.extensions["meldroute.db_sessions"]() as db:
        db.add(ProtocolVersion(digest=old.digest, protocol_id=old.id, version=old.version,
                               source=text))
        db.commit()
    return old.digest


def _pin(app, digest, *dossiers):
    """As if the dossiers had been started under that version."""
    registry = app.extensions["meldroute.registry"]
    with app.extensions["meldroute.db_sessions"]() as db:
        for d in dossiers:
            move_to_protocol(db, registry, db.get(Dossier, d), digest, dt.date(2026, 12, 1))


def _row(app, dossier):
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, dossier)
        return row.protocol_digest, row.outcome


def test_migrate_moves_only_dossiers_whose_outcome_and_stage_stay(app, browser, cli_env,
                                                                  capsys):
    browser.login("ib")
    fresh, unsafe = browser.new_dossier(), browser.new_dossier(initials="C.D.")
    walk_to_afwegen(browser, unsafe)
    assert browser.post_step(unsafe, "afwegen", MELDEN).status_code == 302, browser.last
    old = _old_version(app)
    _pin(app, old, fresh, unsafe)
    html = browser.get(f"/dossiers/{unsafe}")
    assert "versie 2025.9" in html and "Meld direct" in html  # the dossier's own version

    # both routes have a version 2026.1: the label alone is ambiguous, and says how to choose
    assert main(["dossiers", "migrate", "--to", "2026.1", "--dry-run"]) == 2
    assert "--protocol" in capsys.readouterr().err
    assert main(["dossiers", "migrate", "--to", "2026.1", "--protocol", "meldcode-onderwijs",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"dossier {fresh} (regenboog), versie 2025.9" in out
    assert "uitkomst direct_melden → melden" in out and "gaat mee" in out
    assert "1 zou(den) meegaan (niets verplaatst)" in out
    assert _row(app, fresh)[0] == _row(app, unsafe)[0] == old

    assert main(["dossiers", "migrate", "--to", "2026.1", "--protocol",
                 "meldcode-onderwijs"]) == 0
    current = app.extensions["meldroute.registry"].protocols["meldcode-onderwijs"].digest
    assert _row(app, fresh)[0] == current and _row(app, unsafe) == (old, "direct_melden")

    assert main(["dossiers", "migrate", "--to", current[:12], "--force"]) == 0
    assert _row(app, unsafe) == (current, "melden")
    assert "versie 2026.1" in browser.get(f"/dossiers/{unsafe}")
    with app.extensions["meldroute.db_sessions"]() as db:
        moved = db.scalars(select(AuditEvent).where(AuditEvent.action == "dossier.migrate")
                           .order_by(AuditEvent.seq)).all()
    assert [(e.dossier_id, e.detail.endswith("(--force)")) for e in moved] == [
        (fresh, False), (unsafe, True)]
    assert main(["audit", "verify"]) == 0


def test_an_unknown_version_exits_2_and_names_the_known_ones(app, cli_env, capsys):
    assert main(["dossiers", "migrate", "--to", "1999.1"]) == 2
    err = capsys.readouterr().err
    assert "geen protocolversie '1999.1' gevonden" in err and "meldcode-onderwijs 2026.1" in err
