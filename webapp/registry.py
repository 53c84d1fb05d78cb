"""Protocols and school configurations the app serves, loaded and checked at start.

A dossier pins the protocol version it was started under (by digest). The text of every
such version is kept in the database, so a dossier keeps being evaluated under its own
rules after the rules file has changed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from meldroute.engine import ConfigError, Problem
from meldroute.engine.analysis import enumerate_combinations, expand, graph_problems
from meldroute.engine.loader import (
    protocol_from_document,
    school_from_document,
    shipped_dir,
    shipped_protocol_files,
)
from meldroute.engine.model import Protocol, SchoolConfig
from meldroute.engine.source import display_path, parse_text, read_document

from .models import ProtocolVersion

_CHECKED: set[str] = set()  # digests of protocols whose route passed the full check
_CHECK_LOCK = threading.Lock()


def check_route(protocol: Protocol) -> None:
    """Graph checks and every answer combination, once per protocol version per process."""
    with _CHECK_LOCK:
        if protocol.digest in _CHECKED:
            return
        problems: list[Problem] = graph_problems(protocol)
        if not problems:
            problems = enumerate_combinations(protocol).problems
        if problems:
            raise ConfigError(problems)
        _CHECKED.add(protocol.digest)


class Registry:
    def __init__(self, protocols: Iterable[tuple[Protocol, str]],
                 schools: Iterable[SchoolConfig]) -> None:
        protocols = list(protocols)
        self.protocols = {p.id: p for p, _ in protocols}
        self._texts = {p.digest: text for p, text in protocols}
        self._by_digest = {p.digest: p for p in self.protocols.values()}
        self.schools = {s.id: s for s in schools}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, school_paths: Iterable[Path] | None = None) -> Registry:
        """Load every protocol and school, or raise ConfigError with every problem."""
        problems: list[Problem] = []
        protocols: dict[str, Protocol] = {}
        texts: dict[str, str] = {}
        for path in shipped_protocol_files():
            try:
                text = path.read_text(encoding="utf-8")
                protocol = protocol_from_document(parse_text(text, display_path(path)))
                check_route(protocol)
                protocols[protocol.id] = protocol
                texts[protocol.id] = text
            except ConfigError as err:
                problems += err.problems
        schools: list[SchoolConfig] = []
        files = expand(list(school_paths) if school_paths else [shipped_dir("schools")])
        seen: dict[str, str] = {}
        for path in files:
            try:
                doc = read_document(path)
                wanted = doc.data.get("protocol", "meldcode-onderwijs") if isinstance(
                    doc.data, dict) else ""
                if wanted not in protocols:
                    raise ConfigError([doc.problem(("protocol",),
                                                   f"onbekend protocol '{wanted}'")])
                school = school_from_document(doc, protocols[wanted])
            except ConfigError as err:
                problems += err.problems
                continue
            if school.id in seen:
                problems.append(doc.problem(("id",), f"school '{school.id}' staat ook in "
                                                     f"{seen[school.id]}"))
            seen[school.id] = doc.path
            schools.append(school)
        if problems:
            raise ConfigError(problems)
        return cls([(p, texts[p.id]) for p in protocols.values()], schools)

    def school(self, school_id: str) -> SchoolConfig | None:
        return self.schools.get(school_id)

    def protocol_for(self, school: SchoolConfig) -> Protocol:
        return self.protocols[school.protocol]

    def pin(self, db: Session, protocol: Protocol) -> str:
        """Keep the protocol's text in the database; returns its digest."""
        if db.get(ProtocolVersion, protocol.digest) is None:
            db.add(ProtocolVersion(digest=protocol.digest, protocol_id=protocol.id,
                                   version=protocol.version,
                                   source=self._texts[protocol.digest]))
            db.flush()
        return protocol.digest

    def by_digest(self, db: Session, digest: str) -> Protocol:
        """The protocol version a dossier was started under."""
        with self._lock:
            found = self._by_digest.get(digest)
        if found is not None:
            return found
        row = db.scalars(select(ProtocolVersion).where(ProtocolVersion.digest == digest)).one()
        protocol = protocol_from_document(parse_text(row.source, f"{row.protocol_id}@"
                                                                 f"{row.version}"))
        with self._lock:
            self._by_digest[digest] = protocol
        return protocol
