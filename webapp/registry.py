"""Protocols and school configurations the app serves.

Protocols are loaded and checked at start. A dossier pins the protocol version it was
started under (by digest); the text of every such version is kept in the database, so a
dossier keeps being evaluated under its own rules after the rules file has changed.

School configurations live in the database, versioned (``school_configs.py``). The school files
named at start (``MELDROUTE_SCHOOLS``, default the shipped demo school) are checked then
and imported once, when the database does not have that school yet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from meldroute.engine import (
    ConfigError,
    Problem,
    Protocol,
    SchoolConfig,
    data_document,
    display_path,
    enumerate_combinations,
    expand,
    graph_problems,
    parse_text,
    protocol_from_document,
    read_document,
    school_config,
    shipped_dir,
    shipped_protocol_files,
)

from . import school_configs
from .context import request_session, schools_memo
from .memo import BoundedCache
from .models import ProtocolVersion, utcnow
from .revisions import SITE_REVISION
from .upserts import insert_if_absent
from .web_sessions import site_revision_now

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
                 seeds: Iterable[SchoolConfig]) -> None:
        protocols = list(protocols)
        self.protocols = {p.id: p for p, _ in protocols}
        self._texts = {p.digest: text for p, text in protocols}
        self._by_digest = {p.digest: p for p in self.protocols.values()}
        self.seeds = {s.id: s for s in seeds}
        self._lock = threading.Lock()
        self._db_sessions: sessionmaker[Session] | None = None
        self._built: dict[tuple[int, int | None], SchoolConfig] = {}
        self._versions: dict[int, tuple[int, int | None]] = {}  # id(built) -> its key
        self._board_named: dict[int, str | None] = {}  # school version id -> its board
        # (school id, the site's revision) -> the configuration then: every new version of
        # a school's or board's configuration renews the site's revision (revisions.py)
        self._by_revision: BoundedCache[tuple[str, int], SchoolConfig] = BoundedCache(64)

    def bind(self, db_sessions: sessionmaker[Session]) -> None:
        self._db_sessions = db_sessions

    def _db(self) -> Session:
        assert self._db_sessions is not None, "Registry.bind() first"
        return self._db_sessions()

    def seed(self, db: Session) -> list[str]:
        """Import the start-up school files the database does not have yet.

        Several processes starting at once on a fresh database all try: one import wins,
        the others' unique-constraint errors mean "already there".
        """
        imported = []
        for school in self.seeds.values():
            if school_configs.latest(db, school_configs.SCHOOL, school.id) is None:
                assert school.source is not None
                try:
                    version = school_configs.save(
                        db, school_configs.SCHOOL, school.id, school.source.data, "meldroute",
                        f"eerste import uit {Path(school.source.path).name}")
                    if version.version != 1:  # another process imported it meanwhile
                        db.rollback()
                        continue
                    db.commit()
                except IntegrityError:
                    db.rollback()  # another process imported it at the same moment
                    continue
                imported.append(school.id)
        db.commit()
        return imported

    def _build(self, key: tuple[int, int | None], data: dict[str, Any], name: str
               ) -> SchoolConfig:
        with self._lock:
            found = self._built.get(key)
        if found is not None:
            return found
        school = school_config(data_document(data, name), self.protocols)
        with self._lock:
            found = self._built.setdefault(key, school)
            self._versions[id(found)] = key
        return found

    def config_versions(self, school: SchoolConfig) -> tuple[int, int | None] | None:
        """The school's and board's configuration versions ``school`` was built from."""
        with self._lock:
            key = self._versions.get(id(school))
            return key if key is not None and self._built.get(key) is school else None

    def school(self, school_id: str | None) -> SchoolConfig | None:
        """The school's configuration as it is now (its board's defaults merged in)."""
        if school_id is None:
            return None
        memo = schools_memo()
        if school_id in memo:  # one look-up per request
            cached: SchoolConfig | None = memo[school_id]
            return cached
        request_db = request_session()
        if request_db is None:
            with self._db() as db:
                school = self._school_now(db, school_id)
        else:  # in a request: on its own connection, one statement while nothing changed
            revision = site_revision_now(request_db)  # (read with the web session)
            if revision is None:
                revision = request_db.execute(SITE_REVISION).scalar()
            school = self._by_revision.peek((school_id, revision)) \
                if revision is not None else None
            if school is None:
                school = self._school_now(request_db, school_id)
                if school is not None and revision is not None:
                    self._by_revision.put((school_id, revision), school)
        memo[school_id] = school
        return school

    def _school_now(self, db: Session, school_id: str) -> SchoolConfig | None:
        school = self._built_now(db, school_id)
        found = None if school is not None else school_configs.effective(db, school_id)
        if school is None and found is not None:
            key = (found.school_version.id,
                   found.board_version.id if found.board_version else None)
            school = self._build(key, found.data,
                                 f"{school_id}@{found.school_version.version}")
            with self._lock:
                self._board_named[found.school_version.id] = found.data.get("board")
        return school

    def _built_now(self, db: Session, school_id: str) -> SchoolConfig | None:
        """The school's configuration if the newest versions were built before: only
        their ids are read (versions never change), not their data."""
        school_version = school_configs.latest_id(db, school_configs.SCHOOL, school_id)
        with self._lock:
            if school_version not in self._board_named:
                return None
            board = self._board_named[school_version]
        board_version = school_configs.latest_id(db, school_configs.BOARD, board) \
            if board else None
        with self._lock:
            return self._built.get((school_version, board_version)) \
                if school_version is not None else None

    def config_ids(self, db: Session, school_id: str) -> tuple[int | None, int | None]:
        found = school_configs.effective(db, school_id)
        if found is None:
            return None, None
        return found.school_version.id, (found.board_version.id if found.board_version
                                         else None)

    def school_at(self, db: Session, school_config_id: int, board_config_id: int | None
                  ) -> SchoolConfig:
        """The school's configuration as it was (for what was recorded then)."""
        with self._lock:
            found = self._built.get((school_config_id, board_config_id))
        if found is not None:  # versions never change: no need to read them again
            return found
        data = school_configs.effective_at(db, school_config_id, board_config_id)
        return self._build((school_config_id, board_config_id), data,
                           f"{data.get('id')}@{school_config_id}")

    @property
    def schools(self) -> dict[str, SchoolConfig]:
        with self._db() as db:
            ids = school_configs.school_ids(db)
        found = {i: self.school(i) for i in ids}
        return {i: s for i, s in found.items() if s is not None}

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
                school = school_config(doc, protocols)
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

    def protocol_for(self, school: SchoolConfig) -> Protocol:
        """The school's main protocol (the first it follows)."""
        return self.protocols[school.protocol]

    def protocols_for(self, school: SchoolConfig) -> list[Protocol]:
        """Every protocol (route) the school follows, its main one first."""
        return [self.protocols[p] for p in school.follows if p in self.protocols]

    def pin(self, db: Session, protocol: Protocol) -> str:
        """Keep the protocol's text in the database; returns its digest.

        Race-free: two first dossiers at once both insert, one of them does nothing.
        """
        insert_if_absent(db, ProtocolVersion, {
            "digest": protocol.digest, "protocol_id": protocol.id,
            "version": protocol.version, "source": self._texts[protocol.digest],
            "created_at": utcnow()}, keys=["digest"])
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
