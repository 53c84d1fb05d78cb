"""Issue 14, item 4: ``meldroute reminders`` against a real SMTP server (aiosmtpd, started
here): a mail per person with their due deadlines, no pupil name or content, not twice a
day; no mail when SMTP is not set up."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from meldroute.webapp import cli_reminders, mail
from meldroute.webapp.cli import main
from meldroute.webapp.models import AuditEvent, ReminderSent

from .conftest import CANARY, SIGNALEREN, walk_to_afwegen


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos),
                              f"{message['Subject']}\n{message.get_content()}"))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def director_with_a_deadline(app, browser) -> int:
    """A dossier at 'melden' (the director's, with deadlines), with CANARY content, and
    the director's e-mail address."""
    from meldroute.webapp.models import User

    browser.login("ib")
    dossier = browser.new_dossier("Q.R.", "5b", name=f"Kind {CANARY}")
    assert browser.post_step(dossier, "signaleren", {
        **SIGNALEREN, "interpretatie": f"Zorg {CANARY}"}).status_code == 302
    walk_to_afwegen(browser, dossier)
    for answers in ({"sterk_vermoeden": "nee"},
                    {"sterk_vermoeden": "nee", "actie_nodig": "ja"},
                    {"sterk_vermoeden": "nee", "actie_nodig": "ja", "onveilig": "ja"}):
        browser.post_step(dossier, "afwegen", answers)
    with app.extensions["meldroute.db_sessions"]() as db:
        director = db.scalar(select(User).where(User.username == "regenboog-directeur"))
        director.email = "directeur@example.org"
        db.commit()
    return dossier


def test_reminders_name_no_pupil_and_are_not_sent_twice_a_day(
        app, browser, cli_env, capsys, monkeypatch, smtp_server):
    controller, inbox = smtp_server
    dossier = director_with_a_deadline(app, browser)
    day = {"today": dt.date(2026, 11, 27)}  # a Friday: due Monday 30 November
    monkeypatch.setattr(cli_reminders, "today_of", lambda _app: day["today"])
    monkeypatch.setenv("MELDROUTE_SMTP_URL",
                       f"smtp://{controller.hostname}:{controller.port}?starttls=no")
    monkeypatch.setenv("MELDROUTE_MAIL_FROM", "meldroute@school.example")

    assert main(["reminders", "--dry-run", "--url", "https://meldroute.example"]) == 0
    assert "Proef (--dry-run): niets verstuurd. 1 persoon" in capsys.readouterr().out
    assert inbox.messages == []

    assert main(["reminders", "--url", "https://meldroute.example", "--dagen", "1"]) == 0
    assert len(inbox.messages) == 1
    to, content = inbox.messages[0]
    assert to == ["directeur@example.org"]
    assert "Dossier 2026-001 (groep 5b): Melding bij Veilig Thuis, uiterlijk maandag 30 " \
           "november 2026" in content
    assert f"https://meldroute.example/dossiers/{dossier}" in content
    for secret in (CANARY, "Q.R.", "Kind", "blauwe plek", "Zorg"):
        assert secret not in content, secret  # no name, no initials, no content

    assert main(["reminders", "--url", "https://meldroute.example"]) == 0  # again today
    assert len(inbox.messages) == 1
    assert "vandaag al eerder verstuurd" in capsys.readouterr().out

    day["today"] = dt.date(2026, 12, 1)  # next run, the school's deadline has passed
    assert main(["reminders", "--url", "https://meldroute.example"]) == 0
    assert len(inbox.messages) == 2
    assert "Melding bij Veilig Thuis, termijn verstreken op maandag 30 november 2026" in \
        inbox.messages[1][1]
    with app.extensions["meldroute.db_sessions"]() as db:
        sent = db.scalar(select(func.count()).select_from(ReminderSent))
        audited = db.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "reminders.send")).all()
    assert sent == 2 and len(audited) == 3 and all(CANARY not in d for d in audited)


def test_no_mail_without_smtp_and_bad_settings_are_one_line(app, browser, cli_env, capsys,
                                                              monkeypatch):
    director_with_a_deadline(app, browser)
    monkeypatch.setattr(cli_reminders, "today_of", lambda _app: dt.date(2026, 11, 27))
    monkeypatch.delenv("MELDROUTE_SMTP_URL", raising=False)
    monkeypatch.delenv("MELDROUTE_SMTP_HOST", raising=False)
    assert main(["reminders"]) == 0
    assert "Geen mail ingesteld (MELDROUTE_SMTP_URL): niets verstuurd" in \
        capsys.readouterr().out
    monkeypatch.setenv("MELDROUTE_SMTP_URL", "http://mail.example.org")
    assert main(["reminders"]) == 2
    assert "smtp:// of smtps://" in capsys.readouterr().err
    monkeypatch.setenv("MELDROUTE_SMTP_URL", "smtp://u:p@127.0.0.1:25?starttls=no")
    assert main(["reminders"]) == 2
    assert main(["reminders", "--dagen", "-1"]) == 2


def test_smtp_urls():
    assert mail.parse_url("smtps://a%40b:geheim@mail.example.org") == mail.SmtpSettings(
        "mail.example.org", 465, "ssl", "a@b", "geheim")
    assert mail.parse_url("smtp://mail.example.org").security == "starttls"
    assert mail.parse_url("smtp://mail.example.org").port == 587
    assert mail.settings({"MELDROUTE_SMTP_HOST": "relay"}) == mail.SmtpSettings(
        "relay", 25, "legacy", "", "", "meldroute@relay")
    assert mail.settings({}) is None


def self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for localhost (and its key), made here; the client trusts it through
    SSL_CERT_FILE."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_smtp_url_sends_over_starttls(tmp_path, monkeypatch):
    import ssl
    from email.message import EmailMessage

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            tls_context=context, require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", cert)
        config = mail.settings({"MELDROUTE_SMTP_URL": f"smtp://localhost:{controller.port}"})
        assert config is not None and config.security == "starttls"
        message = EmailMessage()
        message["To"], message["Subject"] = "ib@example.org", "proef"
        message.set_content("versleuteld verstuurd")
        mail.send(config, [message])  # the server refuses mail before STARTTLS
    finally:
        controller.stop()
    assert [(to, body.rstrip()) for to, body in inbox.messages] == [
        (["ib@example.org"], "proef\nversleuteld verstuurd")]


def test_smtp_url_never_falls_back_to_plain_text(smtp_server):
    import smtplib
    from email.message import EmailMessage

    controller, inbox = smtp_server  # offers no STARTTLS
    config = mail.settings({"MELDROUTE_SMTP_URL": f"smtp://127.0.0.1:{controller.port}"})
    message = EmailMessage()
    message["To"], message["Subject"] = "ib@example.org", "proef"
    with pytest.raises(smtplib.SMTPNotSupportedError):
        mail.send(config, [message])
    assert inbox.messages == []
