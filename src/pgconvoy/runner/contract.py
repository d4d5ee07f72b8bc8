"""What `run` reads of a compile: `target/manifest.json`, the contract between the two.

The runner never looks into the SQL to learn what a file is: the manifest says which files run, in what
order, with which sha256, what each data file loads, and which compile they belong to (its id is bound
into the target's run state). An unknown version is refused: compile again with this pgconvoy.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from pgconvoy.catalog.model import Name
from pgconvoy.contracts import RUN_STEPS, ManifestDoc, RequiresDoc, load
from pgconvoy.errors import PgConvoyError

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Step:
    """One COPY of a data file, as `run --source` streams it (manifest.json `stream`)."""

    kind: str  # rows | second_pass
    table: Name
    columns: tuple[str, ...]
    nulls: tuple[str, ...]
    key: tuple[str, ...]
    only: bool
    binary: bool
    rows: int
    offset: int | None = None  # where its COPY data lies in the file, and its sha256
    length: int | None = None
    sha256: str | None = None
    part: tuple[str, int | None, int | None, int, int] | None = None  # (by, lower, upper, index, of)
    on_conflict: str | None = None  # a platform table's rows: error | skip-existing

    @property
    def unit(self) -> str:
        """Its name in the target's run state, after the file's: `10-data-core.sql#rows:public.users`
        (`…[2/4]` for a part of a split table)."""
        return f"{self.kind}:{self.table}" + (f"[{self.part[3]}/{self.part[4]}]" if self.part else "")


@dataclass(frozen=True, slots=True)
class RunFile:
    name: str
    sha256: str
    step: str  # schema | data | post
    loads: tuple[tuple[Name, int, int], ...] = ()  # (table, rows, rows its second passes copy)
    stream: tuple[Step, ...] = ()
    sequences: tuple[Name, ...] | None = None  # the sequences file: whose positions it sets
    batches: tuple[tuple[str, int, Name | None], ...] = ()  # (kind, statements, table): see render.Batch
    platform: bool = False  # rows into the platform's tables: one transaction, in file order

    def unit(self, step: Step) -> str:
        return f"{self.name}#{step.unit}"

    @property
    def expected_rows(self) -> int:
        """Rows its COPY/INSERT statements write: every table's, and those its second passes copy."""
        return sum(rows + second for _, rows, second in self.loads)


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    version: str  # the source's
    schema: str


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    named_by: tuple[str, ...]  # grant | grantor | policy | default_privileges | owner | member
    foreign_grantor: bool = False  # restores grants under SET SESSION AUTHORIZATION


@dataclass(frozen=True, slots=True)
class CreatedRole:
    name: str
    attributes: tuple[str, ...]  # LOGIN, NOINHERIT, CREATEDB, ... as CREATE ROLE spells them
    member_of: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Requirements:
    """What the migration needs of a target (manifest.json `requires`): what `preflight` checks."""

    creates_schemas: tuple[str, ...]
    uses_schemas: tuple[str, ...]
    extensions: tuple[Extension, ...]
    roles: tuple[Role, ...]
    creates_roles: tuple[CreatedRole, ...]
    tables: int
    locks: int  # relations the busiest file locks in its transaction
    locks_file: str | None
    platform_tables: tuple[tuple[Name, tuple[str, ...]], ...] = ()  # platform_data: (table, columns)


@dataclass(frozen=True, slots=True)
class Contract:
    compile_id: str
    source_version: int
    files: tuple[RunFile, ...]  # in run order
    validations: tuple[str, ...]  # validate/*.sql, run once every data file is in
    creates: tuple[Name, ...]  # the tables its schema files create
    loads: tuple[Name, ...]  # the tables its data files load
    lock_timeout: str = "30s"  # SET LOCAL in each file's transaction
    statement_timeout: str = "0ms"
    foreign_keys: str = "during"  # after: no FK is in place while rows load, a file's tables load in parallel
    rows: str = "files"  # stream: target/ holds no rows, `run --source` copies them
    encoding: str = "auto"
    requires: Requirements | None = None  # None: a manifest written before compile recorded it

    def select(self, only: str | None) -> tuple[RunFile, ...]:
        """The files `run --only` applies: one file (its name), one group's (`foundation`: every
        `NN-*-foundation.sql`) or those matching a glob (`1?-data-*.sql`)."""
        if only is None:
            return self.files
        chosen = tuple(f for f in self.files
                       if f.name == only or f.name.endswith(f"-{only}.sql") or fnmatch.fnmatch(f.name, only))
        if not chosen:
            raise PgConvoyError(f"no file of this migration matches {only!r}",
                                hint="give a file name, a group name or a glob such as '1?-data-*.sql'")
        return chosen


def read(target_dir: Path) -> Contract:
    path = target_dir / MANIFEST
    if not path.is_file():
        raise PgConvoyError(f"{path} is missing: it is what run applies", hint="run `pgconvoy compile` first")
    return _contract(load(ManifestDoc, path))


def _contract(doc: ManifestDoc) -> Contract:
    files = tuple(
        RunFile(f.name, f.sha256, f.step,
                tuple((Name(t.schema_, t.table), t.rows, t.second_pass_rows) for t in f.loads or ()),
                tuple(Step(s.kind, Name(s.schema_, s.table), tuple(s.columns), tuple(s.nulls), tuple(s.key), s.only,
                           s.binary, s.rows, s.offset, s.length, s.sha256,
                           (s.part.by, s.part.lower, s.part.upper, s.part.index, s.part.of) if s.part else None,
                           s.on_conflict)
                      for s in f.stream or ()),
                None if f.sequences is None else tuple(Name(q.schema_, q.name) for q in f.sequences),
                tuple((b.kind, b.statements, Name(b.schema_, b.table) if b.schema_ is not None and b.table is not None
                       else None) for b in f.batches or ()), f.platform)
        for f in doc.files if f.step in RUN_STEPS
    )
    validations = tuple(f.name for f in doc.files if f.step == "validate")
    creates = tuple(Name(o.schema_, o.table) for f in doc.files for o in f.objects or ()
                    if o.type == "TABLE" and o.schema_ is not None and o.table is not None)
    # the platform's tables exist on the target and may hold rows of its own: on_conflict governs them
    loads = tuple(table for f in files if not f.platform for table, _, _ in f.loads)
    return Contract(doc.compile_id, doc.source.server_version, files, validations, creates, loads,
                    doc.run.lock_timeout, doc.run.statement_timeout, doc.run.foreign_keys, doc.run.rows,
                    doc.run.encoding, _requirements(doc.requires))


def _requirements(doc: RequiresDoc | None) -> Requirements | None:
    if doc is None:
        return None
    return Requirements(
        tuple(doc.creates_schemas), tuple(doc.uses_schemas),
        tuple(Extension(e.name, e.version, e.schema_) for e in doc.extensions),
        tuple(Role(r.name, tuple(r.named_by), r.foreign_grantor) for r in doc.roles),
        tuple(CreatedRole(r.name, tuple(r.attributes), tuple(r.member_of)) for r in doc.creates_roles),
        doc.tables, doc.locks, doc.locks_file,
        tuple((Name(t.schema_, t.table), tuple(t.columns)) for t in doc.platform_tables))
