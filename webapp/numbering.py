"""A dossier's number as people see it (placeholder: the database id until the per-school
numbers of issue 14 land)."""

from __future__ import annotations

from .models import Dossier


def label(dossier: Dossier) -> str:
    return str(dossier.id)
