"""Deleting dossiers past their retention period (``meldroute retention``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from meldroute.webapp.cli import main
from meldroute.webapp.models import AuditEvent, Dossier, StepRecord

from .conftest import CANARY, stored_dossier


def test_retention_dry_run_lists_and_run_deletes_with_an_audit_entry(app, browser, cli_env,
                                                                    capsys, now):
    dossier = stored_dossier(browser)
    with app.extensions["meldroute.db_sessions"]() as db:
        row = db.get(Dossier, dossier)
        row.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2 * 366)
        fresh = db.get(Dossier, browser.new_dossier())
        fresh.closed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=300)
        db.commit()
    assert main(["retention", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"dossier {dossier} (regenboog)" in out and "1 dossier(s)" in out
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier) is not None
    assert main(["retention"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.get(Dossier, dossier) is None
        assert db.get(Dossier, fresh.id) is not None
        assert db.scalars(select(StepRecord).where(StepRecord.dossier_id == dossier)).all() \
            == []
        deleted = db.scalars(select(AuditEvent).where(AuditEvent.action == "dossier.delete")
                             ).one()
        assert deleted.dossier_id == dossier and CANARY not in deleted.detail
    assert main(["audit", "verify"]) == 0
    assert "keten klopt" in capsys.readouterr().out
