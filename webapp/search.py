"""The overview's search, filters, sorting and tabs (``/dossiers?q=&fase=&aanzet=&
verstreken=1&sorteer=&archief=1``), as SQL on the columns the overview may read.

Search needs no decryption: the initials and the group are stored in the clear (they are
what the overview shows; the full name and the birth date are encrypted and are never
searched), and the dossier number is two integer columns. So the database filters, sorts
and counts, and only one page of rows is loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_

from .models import Dossier
from .numbering import parse

# ?sorteer= -> (words, order); every order ends with the id, so pages never overlap
SORTS: dict[str, tuple[str, list[ColumnElement[Any]]]] = {
    "gewijzigd": ("Laatst gewijzigd", [Dossier.updated_at.desc()]),
    "termijn": ("Eerstvolgende termijn", [Dossier.next_deadline.is_(None),
                                          Dossier.next_deadline.asc()]),
    "nummer": ("Dossiernummer", [Dossier.number_year.desc(), Dossier.number_seq.desc()]),
    "leerling": ("Leerling (initialen)", [func.lower(Dossier.pupil_initials).asc()]),
    "groep": ("Groep", [func.lower(Dossier.pupil_group).asc()]),
}
DEFAULT_SORT = "gewijzigd"


@dataclass
class Filters:
    q: str = ""
    stage: str = ""
    responsible: str = ""
    overdue: bool = False
    archive: bool = False
    sort: str = DEFAULT_SORT
    problems: list[str] = field(default_factory=list)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of these filters (for links to other pages and sorts)."""
        found = {"q": self.q, "fase": self.stage, "aanzet": self.responsible,
                 "verstreken": "1" if self.overdue else "", "archief": "1" if self.archive else "",
                 "sorteer": self.sort if self.sort != DEFAULT_SORT else ""}
        found.update(changes)
        return {k: v for k, v in found.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.q or self.stage or self.responsible or self.overdue)


def read(args: Mapping[str, str], stages: Mapping[str, Any]) -> Filters:
    """The filters from the query string; an unknown value is named, not an error page."""
    found = Filters(q=args.get("q", "").strip()[:60], responsible=args.get(
        "aanzet", "").strip()[:100], overdue=args.get("verstreken") == "1",
        archive=args.get("archief") == "1")
    stage, sort = args.get("fase", ""), args.get("sorteer", "") or DEFAULT_SORT
    if stage and stage not in stages:
        found.problems.append("Onbekende fase; het filter op fase is weggelaten.")
    else:
        found.stage = stage
    if sort not in SORTS:
        found.problems.append("Onbekende sortering; gesorteerd op laatst gewijzigd.")
        sort = DEFAULT_SORT
    found.sort = sort
    return found


def apply(query: Select[Any], filters: Filters, today: dt.date) -> Select[Any]:
    query = query.where(Dossier.closed_at.is_not(None) if filters.archive
                        else Dossier.closed_at.is_(None))
    if filters.q:
        text = filters.q.lower()
        alternatives = [func.lower(Dossier.pupil_initials).contains(text, autoescape=True),
                        func.lower(Dossier.pupil_group).contains(text, autoescape=True)]
        number = parse(filters.q)
        if number is not None:
            year, series, seq = number
            same = (Dossier.number_seq == seq) & (Dossier.number_series == series)
            alternatives.append(same if year is None else (Dossier.number_year == year) & same)
        query = query.where(or_(*alternatives))
    if filters.stage:
        query = query.where(Dossier.stage == filters.stage)
    if filters.responsible:
        query = query.where(Dossier.responsible.contains(filters.responsible,
                                                         autoescape=True))
    if filters.overdue:
        query = query.where(Dossier.next_deadline < today)
    return query


def order(filters: Filters, acute_first: bool) -> list[ColumnElement[Any]]:
    found = [*SORTS[filters.sort][1], Dossier.id.desc()]
    return [Dossier.acute_at.is_(None), *found] if acute_first else found
