"""The catalog as plain, immutable data: what `introspect` reads and the plan is made from (the graph,
reconciliation, row export, checks). The SQL of every object comes from pg_dump's archive instead."""

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
class Column:
    name: str
    position: int
    type: str  # format_type(), schema-qualified where not in pg_catalog
    not_null: bool
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    generated: str | None = None  # the expression of a STORED/VIRTUAL generated column (never loaded)


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
    enforced: bool = True  # False: NOT ENFORCED (PostgreSQL 18), the server never checks it
    temporal: bool = False  # a PERIOD key (PostgreSQL 18): its last columns match by range containment

    @property
    def checkable_by_equality(self) -> bool:
        """Whether "every row has a parent with equal key columns" is what the constraint means."""
        return self.enforced and not self.temporal

    @property
    def is_self_reference(self) -> bool:
        return self.ref_table == self.table


@dataclass(frozen=True, slots=True)
class Constraint:
    """A PRIMARY KEY, UNIQUE, CHECK or EXCLUDE constraint (foreign keys are `ForeignKey`)."""

    name: str
    kind: str  # "primary key" | "unique" | "check" | "exclude"
    columns: tuple[str, ...]
    validated: bool = True
    inherited: bool = False


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
    inherited: bool = False  # a partition's index attached to its partitioned parent's index

    def covers(self, fk: ForeignKey) -> bool:
        """The index serves the lookups the foreign key makes (`WHERE a = $1 AND b = $2`, on every delete or
        key update of the referenced table): a valid, whole (not partial) b-tree index whose leading columns
        are the key's columns, in any order, as splinter's unindexed_foreign_keys reads it."""
        n = len(fk.columns)
        return (bool(fk.columns) and self.valid and self.predicate is None and self.method == "btree"
                and set(self.columns[:n]) == set(fk.columns) and len(self.columns) >= n)


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    table: Name
    permissive: bool
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    roles: tuple[str, ...]  # ("public",) when the policy applies to every role
    using: str | None
    with_check: str | None


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    kind: str  # "table" | "partitioned"
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    policies: tuple[Policy, ...] = ()
    rls_enabled: bool = False
    rls_forced: bool = False
    partition_of: Name | None = None
    estimated_rows: int | None = None  # reltuples; None when never analyzed
    rows: int | None = None  # exact count(*), when asked for
    # (role, privilege) for each API role (catalog.API_ROLES) that holds SELECT, INSERT, UPDATE or DELETE
    # on the table (the first three: or on some of its columns), directly, through a role it is a member
    # of or through PUBLIC
    api_privileges: tuple[tuple[str, str], ...] = ()

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
    """A sequence and its position (its definition is pg_dump's)."""

    schema: str
    name: str
    last_value: int | None  # None: never called (nextval would return its start)
    owned_by: tuple[Name, str] | None = None  # (table, column) for serial and identity sequences

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class View:
    """A view (not a materialized one) and who of the API roles may read it."""

    schema: str
    name: str
    owner: str
    security_invoker: bool  # WITH (security_invoker = true), PostgreSQL 15+: it runs with the caller's rights
    api_roles_can_select: tuple[str, ...] = ()  # the API roles with SELECT on it (directly, as members, PUBLIC)

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Function:
    """A function or procedure (aggregates and window functions aside: no SET clause applies to them)."""

    schema: str
    name: str
    arguments: str  # pg_get_function_identity_arguments(): what ALTER FUNCTION name(...) takes
    kind: str  # "function" | "procedure"
    security_definer: bool
    search_path_set: bool  # its proconfig sets search_path (SET search_path = ...)

    @property
    def qualified(self) -> Name:
        return Name(self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    schema: str  # where its objects are
    relocatable: bool = True  # ALTER EXTENSION ... SET SCHEMA can move it


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    managed: bool = False  # a platform-managed schema (Supabase's auth, storage, ...)
    exposed: bool = False  # an API role (catalog.API_ROLES: anon, authenticated) has USAGE on it


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything pgconvoy knows of one database, for the schemas it was asked to read."""

    server_version: int  # e.g. 180001
    database: str
    schemas: tuple[Schema, ...]
    tables: tuple[Table, ...]
    sequences: tuple[Sequence, ...] = ()
    excluded_schemas: tuple[str, ...] = ()  # schemas present in the database but not read
    exact_rows: bool = False
    views: tuple[View, ...] = ()
    functions: tuple[Function, ...] = ()
    extensions: tuple[Extension, ...] = ()  # every extension of the database, whatever its schema
    _by_name: dict[Name, Table] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({t.qualified: t for t in self.tables})

    def table(self, name: Name) -> Table | None:
        return self._by_name.get(name)

    def schema(self, name: str) -> Schema | None:
        return next((s for s in self.schemas if s.name == name), None)

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        """Every foreign key once (a partition's copies of its parent's constraints are left out)."""
        return tuple(fk for t in self.tables for fk in t.foreign_keys if not fk.inherited)
