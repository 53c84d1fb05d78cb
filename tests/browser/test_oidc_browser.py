"""A teacher signs in with the school's account in Chromium, through the test provider
(tests/oidc_provider.py) on loopback, and signs out at both ends; axe on the new pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meldroute.webapp.models import Membership, User

from ..oidc_provider import Provider
from .conftest import check_page, serve_app

SECRET = "geheim-van-de-browsertest"


@pytest.fixture
def provider() -> Iterator[Provider]:
    started = Provider().start()
    started.clients = {"meldroute": (SECRET, "http://127.0.0.1:")}
    yield started
    started.stop()


@pytest.fixture
def oidc_live_app(tmp_path: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch
                  ) -> Iterator[str]:
    monkeypatch.setenv("MELDROUTE_OIDC_REGENBOOG_CLIENT_SECRET", SECRET)
    (tmp_path / "oidc.yaml").write_text(f"""providers:
  - id: regenboog
    name: De Regenboog
    issuer: {provider.url}
    client_id: meldroute
    schools: {{regenboog: regenboog}}
""")

    def prepare(db: Any, _registry: Any) -> None:
        user = User(username="juf-anna", display_name="Juf Anna", password_hash=None)
        user.memberships.append(Membership(school_id="regenboog", role="leerkracht"))
        db.add(user)
        db.commit()

    yield from serve_app(tmp_path, prepare)


def test_a_teacher_signs_in_with_the_school_account(oidc_live_app, provider, page,
                                                    output_dir):
    provider.person = {"sub": "juf-anna", "amr": ["pwd", "mfa"]}
    page.goto(f"{oidc_live_app}/inloggen")
    problems = check_page(page, "oidc-inloggen", output_dir)
    page.get_by_role("button", name="Inloggen met De Regenboog").click()
    page.get_by_role("heading", name="Inloggen bij de school (test)").wait_for()
    page.get_by_role("button", name="Doorgaan").click()
    page.get_by_role("heading", name="Dossiers").wait_for()
    assert page.get_by_text("Juf Anna").is_visible()

    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_role("heading", name="Je bent uitgelogd bij Meldroute").wait_for()
    problems |= {f"uitgelogd {k}": v for k, v in
                 check_page(page, "oidc-uitgelogd", output_dir).items()}
    page.get_by_role("link", name="Ook uitloggen bij De Regenboog").click()
    page.get_by_role("heading", name="Inloggen", exact=True).wait_for()

    provider.person = {"sub": "onbekend", "amr": ["mfa"]}  # nobody the school knows
    page.get_by_role("button", name="Inloggen met De Regenboog").click()
    page.get_by_role("button", name="Doorgaan").click()
    page.get_by_text("vraag de schoolbeheerder om een account").wait_for()
    problems |= {f"onbekend {k}": v for k, v in
                 check_page(page, "oidc-onbekend", output_dir).items()}
    assert not problems, problems
