"""The web side's commands on the terminal: accounts and the audit trail's chain."""

from __future__ import annotations

import io

from sqlalchemy import select, text

from meldroute.webapp.cli import main
from meldroute.webapp.models import User

from .conftest import stored_dossier


def test_user_add_and_reset_on_the_command_line(app, cli_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
    assert main(["user", "add", "juf.c", "--name", "Juf C", "--school", "regenboog",
                 "--role", "leerkracht", "--password-stdin"]) == 2
    assert "minstens 12 tekens" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("een heel lang eigen wachtwoord\n"))
    assert main(["user", "add", "juf.c", "--name", "Juf C", "--school", "regenboog",
                 "--role", "leerkracht", "--role", "zorgteam", "--password-stdin"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.scalar(select(User).where(User.username == "juf.c"))
        assert sorted(user.roles_at("regenboog")) == ["leerkracht", "zorgteam"]
        assert user.password_hash.startswith("$argon2id$") and user.totp_secret is None
        user.totp_secret = "JBSWY3DPEHPK3PXP"
        db.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO("nog een heel lang wachtwoord\n"))
    assert main(["user", "reset", "juf.c", "--password-stdin"]) == 0
    with app.extensions["meldroute.db_sessions"]() as db:
        user = db.scalar(select(User).where(User.username == "juf.c"))
        assert user.must_change_password and user.totp_secret is None
    assert main(["audit", "verify"]) == 0


def test_audit_verify_on_the_command_line_names_the_broken_entry(app, browser, cli_env,
                                                                 capsys):
    stored_dossier(browser)
    with app.extensions["meldroute.db_sessions"]() as db:
        db.execute(text("UPDATE audit_events SET result = 'ok?' WHERE seq = 2"))
        db.commit()
    assert main(["audit", "verify"]) == 1
    assert "regel 2" in capsys.readouterr().err


def test_user_add_refuses_what_the_admin_page_refuses(app, cli_env, capsys, monkeypatch):
    for username, email, name, message in [("Juf C", None, "Juf C", "gebruikersnaam"),
                                           ("juf.c\n", None, "Juf C", "gebruikersnaam"),
                                           ("juf.c", "geen-adres", "Juf C", "e-mailadres"),
                                           ("juf.c", None, " ", "naam"),
                                           ("juf.c", None, "C" * 201, "naam")]:
        monkeypatch.setattr("sys.stdin", io.StringIO("een heel lang eigen wachtwoord\n"))
        extra = ["--email", email] if email else []
        assert main(["user", "add", username, "--name", name, "--school", "regenboog",
                     "--role", "leerkracht", "--password-stdin", *extra]) == 2
        assert message in capsys.readouterr().err
    with app.extensions["meldroute.db_sessions"]() as db:
        assert db.scalar(select(User).where(User.username.like("juf%"))) is None
