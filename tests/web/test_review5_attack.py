"""Attacks on issue 13's follow-up (review5): the school's configuration looked up under
the site's revision read with the web session, and reads audited with the group commit."""

from __future__ import annotations

from flask import Flask

from meldroute.webapp.cli import main

from .conftest import Browser, walk_to_afwegen


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
