"""The catalog as plain, immutable data: what `introspect` reads and every later step consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class Name(NamedTuple):
    """A schema-qualified object name; prints as `schema.name`."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"

    @classmethod
    def parse(cls, text: str, default_schema: str = "public") -> Name:
        schema, _, name = text.rpartition(".")
        return cls(schema or default_schema, name)


@dataclass(frozen=True, slots=True)
class Grant:
    grantee: str  # a role name, or PUBLIC
    privilege: str  # SELECT, INSERT, ..., USAGE, EXECUTE
    grantable: bool = False


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    position: int
    type: str  # format_type(), schema-qualified where not in pg_catalog
    not_null: bool
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    generated: str | None = None  # the expression of a STORED/VIRTUAL generated column
    generated_kind: str | None = None  # "stored" | "virtual"
    collation: str | None = None  # only when it differs from the type's default
    inherited: bool = False  # comes from a parent table or partitioned root
    comment: str | None = None
    grants: tuple[Grant, ...] = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    table: Name
    columns: tuple[str, ...]
    ref_table: Name
    ref_columns: tuple[str, ...]
    on_update: str  # "NO ACTION", "CASCADE", ...
    on_delete: str
    match: str  # "SIMPLE" | "FULL" | "PARTIAL"
    deferrable: bool
    deferred: bool
    validated: bool
    definition: str
    external: bool = False  # the referenced table is outside the introspected schemas
    inherited: bool = False  # a partition's copy of its partitioned parent's constraint

    @property
    def is_self_reference(self) -> bool:
        return self.ref_table == self.table


@dataclass(frozen=True, slots=True)
class Constraint:
    """A PRIMARY KEY, UNIQUE, CHECK or EXCLUDE constraint (foreign keys are `ForeignKey`)."""

    name: str
    kind: str  # "primary key" | "unique" | "check" | "exclude"
    columns: tuple[str, ...]
    definition: str  # pg_get_constraintdef()
    deferrable: bool = False
    deferred: bool = False
    validated: bool = True
    inherited: bool = False
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    table: Name
    definition: str  # pg_get_indexdef()
    columns: tuple[str | None, ...]  # key columns in order; None for an expression
    unique: bool
    primary: bool
    constraint: str | None  # the constraint this index implements, if any
    predicate: str | None
    valid: bool
    method: str
    comment: str | None = None
    inherited: bool = False  # a partition's index attached to its partitioned parent's index

    def covers(self, fk: ForeignKey) -> bool:
        """The index starts with the foreign key's columns, in the constraint's order."""
        return bool(fk.columns) and self.columns[: len(fk.columns)] == fk.columns


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    table: Name
    permissive: bool
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: tuple[str, ...]  # ("public",) when the policy applies to every role
    using: str | None
    with_check: str | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    table: Name
    definition: str  # pg_get_triggerdef()
    function: Name
    enabled: str  # O (origin), D (disabled), R (replica), A (always)
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    kind: str  # "table" | "partitioned"
    persistence: str  # "permanent" | "unlogged"
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    policies: tuple[Policy, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    rls_enabled: bool = False
    rls_forced: bool = False
    partition_of: Name | None = None
    partition_bound: str | None = None  # e.g. "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    partition_key: str | None = None  # e.g. "RANGE (created_at)"
    inherits: tuple[Name, ...] = ()  # classic inheritance parents, in order
    owner: str = ""
    comment: str | None = None
    grants: tuple[Grant, ...] = ()
    options: tuple[str, ...] = ()  # reloptions, e.g. ("fillfactor=70",)
    estimated_rows: int | None = None  # reltuples; None when never analyzed
    rows: int | None = None  # exact count(*), when asked for

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)

    @property
    def is_partition(self) -> bool:
        return self.partition_of is not None

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Sequence:
    schema: str
    name: str
    type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cache: int
    cycle: bool
    last_value: int | None  # None: never called (nextval would return `start`)
    owned_by: tuple[Name, str] | None = None  # (table, column) for serial and identity sequences
    identity: bool = False  # owned by an identity column (created with the table)
    comment: str | None = None
    grants: tuple[Grant, ...] = ()

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class View:
    schema: str
    name: str
    materialized: bool
    definition: str  # pg_get_viewdef()
    depends_on: tuple[Name, ...]  # tables and views it reads
    options: tuple[str, ...] = ()
    comment: str | None = None
    grants: tuple[Grant, ...] = ()

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Function:
    schema: str
    name: str
    arguments: str  # identity arguments, e.g. "p_id uuid, p_limit integer"
    kind: str  # "function" | "procedure" | "aggregate" | "window"
    language: str
    returns: str | None
    definition: str | None  # pg_get_functiondef(); None for aggregates
    comment: str | None = None
    grants: tuple[Grant, ...] = ()

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.arguments})"


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A user-defined enum, domain, composite or range type."""

    schema: str
    name: str
    kind: str  # "enum" | "domain" | "composite" | "range"
    labels: tuple[str, ...] = ()  # enum labels in sort order
    base_type: str | None = None  # domain's base type, range's subtype
    not_null: bool = False
    default: str | None = None
    checks: tuple[tuple[str, str], ...] = ()  # domain constraints: (name, definition)
    attributes: tuple[tuple[str, str], ...] = ()  # composite attributes: (name, type)
    comment: str | None = None

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    version: str
    schema: str


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    owner: str
    comment: str | None = None
    grants: tuple[Grant, ...] = ()
    managed: bool = False  # a platform-managed schema (Supabase's auth, storage, ...)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything pgconvoy knows of one database, for the schemas it was asked to read."""

    server_version: int  # e.g. 180001
    database: str
    schemas: tuple[Schema, ...]
    tables: tuple[Table, ...]
    sequences: tuple[Sequence, ...] = ()
    views: tuple[View, ...] = ()
    functions: tuple[Function, ...] = ()
    types: tuple[TypeDef, ...] = ()
    extensions: tuple[Extension, ...] = ()
    excluded_schemas: tuple[str, ...] = ()  # schemas present in the database but not read
    exact_rows: bool = False
    _by_name: dict[Name, Table] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({t.qualified: t for t in self.tables})

    def table(self, name: Name) -> Table | None:
        return self._by_name.get(name)

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        """Every foreign key once (a partition's copies of its parent's constraints are left out)."""
        return tuple(fk for t in self.tables for fk in t.foreign_keys if not fk.inherited)
