"""Catalog introspection: a fixed number of queries (one per object kind, in `sql/`) into plain data.

The queries run in one read-only, repeatable-read transaction, with an empty search_path so every
name that comes back is schema-qualified exactly as it must be written in a migration file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pgconvoy.catalog.model import (
    Catalog,
    Column,
    Constraint,
    Extension,
    ForeignKey,
    Function,
    Index,
    Name,
    Policy,
    Schema,
    Sequence,
    Table,
    View,
)
from pgconvoy.errors import CatalogError

__all__ = ["API_ROLES", "MANAGED_SCHEMAS", "Catalog", "Name", "Options", "Scope", "introspect", "read", "scope"]

# Schemas a platform (Supabase, and extensions it installs) creates and manages: a migration
# references them but never recreates them.
MANAGED_SCHEMAS = frozenset({
    "auth", "storage", "realtime", "_realtime", "extensions", "graphql", "graphql_public", "vault",
    "pgsodium", "pgsodium_masks", "supabase_functions", "supabase_migrations", "cron", "net", "pgmq",
    "pgmq_public", "pgbouncer", "_analytics", "pgtle", "topology", "tiger", "tiger_data", "repack",
    "pgconvoy",  # a run's own state on its target (runner/state.py)
})

# The roles a Supabase API (PostgREST, pg_graphql) runs its requests as: what they may use of a schema,
# table or view is what the API exposes. A database without them exposes nothing this way.
API_ROLES = ("anon", "authenticated")

RowsMode = Literal["exact", "estimate", "none"]

_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_FK_MATCH = {"s": "SIMPLE", "f": "FULL", "p": "PARTIAL"}
_CONSTRAINT_KINDS = {"p": "primary key", "u": "unique", "c": "check", "x": "exclude"}


@dataclass(frozen=True)
class Options:
    """What to read. `schemas=None` means every schema except system and managed ones."""

    schemas: tuple[str, ...] | None = None
    exclude_schemas: tuple[str, ...] = ()
    include_managed: bool = False
    rows: RowsMode = "exact"


@dataclass
class _Reader:
    conn: psycopg.Connection[Any]
    trace: list[str] = field(default_factory=list)

    def rows(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        text = resources.files("pgconvoy.catalog").joinpath(f"sql/{query}.sql").read_text()
        return self.run(query, text.encode(), params)

    def run(self, query: str, statement: bytes | sql.Composed, params: dict[str, Any] | None = None
            ) -> list[dict[str, Any]]:
        self.trace.append(query)
        with self.conn.cursor(row_factory=dict_row) as cur:
            try:
                cur.execute(statement, params)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise CatalogError(
                    f"missing privilege while reading {query.replace('_', ' ')}: {_diag(exc)}",
                    hint="the role needs SELECT on every table and sequence it migrates "
                    "(and BYPASSRLS, or to own the tables, for exact row counts)",
                ) from None
            return cur.fetchall()


def introspect(
    conn: psycopg.Connection[Any], options: Options = Options(), *, trace: list[str] | None = None
) -> Catalog:
    """Read the catalog of the database behind `conn` in a transaction of its own; the queries sent are
    appended to `trace`."""
    conn.rollback()
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return read(conn, options, trace=trace)


def read(conn: psycopg.Connection[Any], options: Options = Options(), *, trace: list[str] | None = None) -> Catalog:
    """Read the catalog inside the transaction the caller has open (compile's locked snapshot)."""
    conn.execute("SET LOCAL search_path = ''")
    conn.execute("SET LOCAL row_security = off")
    return _read(_Reader(conn, trace if trace is not None else []), options)


@dataclass(frozen=True)
class Scope:
    """What a read would cover, from a quick look of its own: the tables to lock before the snapshot,
    and what pg_dump is to leave out (it starts before the catalog is read)."""

    tables: tuple[Name, ...]
    schemas: tuple[str, ...]
    excluded_schemas: tuple[str, ...]
    large_objects: bool
    attachments: tuple[Name, ...] = ()  # the platform's tables the application attached policies or triggers to

    @property
    def platform_schemas(self) -> tuple[str, ...]:
        """The platform's schemas of this database that are not migrated."""
        return tuple(s for s in self.excluded_schemas if s in MANAGED_SCHEMAS)


def scope(conn: psycopg.Connection[Any], options: Options = Options()) -> Scope:
    reader = _Reader(conn)
    conn.rollback()
    with conn.transaction():
        conn.execute("SET LOCAL search_path = ''")
        server = reader.rows("server")[0]
        all_schemas = reader.rows("schemas", {"api_roles": list(API_ROLES)})
        selected = _select_schemas(all_schemas, options, server["database"])
        rows = reader.rows("table_names", {"schemas": list(selected)})
        large = reader.run("large_objects", b"SELECT EXISTS (SELECT FROM pg_catalog.pg_largeobject_metadata)")
        excluded = tuple(s["name"] for s in all_schemas if s["name"] not in selected)
        attached = reader.rows("attachments", {"schemas": list(selected),
                                               "platform": [s for s in excluded if s in MANAGED_SCHEMAS]})
    conn.rollback()
    return Scope(tuple(Name(r["schema"], r["name"]) for r in rows), selected, excluded, bool(large[0]["exists"]),
                 tuple(Name(r["schema"], r["name"]) for r in attached))


def _read(reader: _Reader, options: Options) -> Catalog:
    server = reader.rows("server")[0]
    all_schemas = reader.rows("schemas", {"api_roles": list(API_ROLES)})
    selected = _select_schemas(all_schemas, options, server["database"])
    params = {"schemas": list(selected), "api_roles": list(API_ROLES)}
    tables = _tables(reader, params, options.rows, set(selected))
    return Catalog(
        server_version=server["server_version"],
        database=server["database"],
        schemas=tuple(Schema(s["name"], managed=s["name"] in MANAGED_SCHEMAS, exposed=s["exposed"])
                      for s in all_schemas if s["name"] in selected),
        tables=tables,
        sequences=_sequences(reader, params),
        excluded_schemas=tuple(s["name"] for s in all_schemas if s["name"] not in selected),
        exact_rows=options.rows == "exact",
        views=tuple(View(r["schema"], r["name"], r["owner"], r["security_invoker"], tuple(r["api_roles_can_select"]))
                    for r in reader.rows("views", params)),
        functions=tuple(Function(r["schema"], r["name"], r["arguments"], r["kind"], r["security_definer"],
                                 r["search_path_set"]) for r in reader.rows("functions", params)),
        extensions=tuple(Extension(r["name"], r["schema"], r["relocatable"]) for r in reader.rows("extensions")),
    )


def _select_schemas(rows: list[dict[str, Any]], options: Options, database: str) -> tuple[str, ...]:
    present = [r["name"] for r in rows]
    if options.schemas is not None:
        missing = [s for s in options.schemas if s not in present]
        if missing:
            raise CatalogError(
                f"schema {', '.join(repr(s) for s in missing)} does not exist in database {database!r}",
                hint=f"schemas present: {', '.join(present)}",
            )
        wanted = set(options.schemas)
    else:
        wanted = {
            r["name"] for r in rows
            if not r["extension_owned"] and (options.include_managed or r["name"] not in MANAGED_SCHEMAS)
        }
    return tuple(s for s in present if s in wanted and s not in options.exclude_schemas)


def _tables(reader: _Reader, params: dict[str, Any], rows_mode: RowsMode, selected: set[str]) -> tuple[Table, ...]:
    table_rows = reader.rows("tables", params)
    names = {r["oid"]: Name(r["schema"], r["name"]) for r in table_rows}
    columns = _group(reader.rows("columns", params))
    constraints = _group(reader.rows("constraints", params))
    indexes = _group(reader.rows("indexes", params))
    policies = _group(reader.rows("policies", params))
    counts = _row_counts(reader, table_rows) if rows_mode == "exact" else {}
    tables = []
    for r in table_rows:
        oid, name = r["oid"], names[r["oid"]]
        cons = constraints.get(oid, [])
        tables.append(Table(
            schema=r["schema"],
            name=r["name"],
            kind="partitioned" if r["relkind"] == "p" else "table",
            columns=tuple(_column(c) for c in columns.get(oid, [])),
            constraints=tuple(_constraint(c) for c in cons if c["kind"] != "f"),
            foreign_keys=tuple(_foreign_key(c, name, selected) for c in cons if c["kind"] == "f"),
            indexes=tuple(_index(i, name) for i in indexes.get(oid, [])),
            policies=tuple(_policy(p, name) for p in policies.get(oid, [])),
            rls_enabled=r["rls_enabled"],
            rls_forced=r["rls_forced"],
            partition_of=Name(r["parent_schema"], r["parent_name"]) if r["parent_name"] else None,
            estimated_rows=r["reltuples"] if r["reltuples"] >= 0 else None,
            rows=counts.get(oid),
            api_privileges=tuple(_role_privilege(p) for p in r["api_privileges"]),
        ))
    return tuple(tables)


def _role_privilege(text: str) -> tuple[str, str]:
    role, _, privilege = text.rpartition(" ")
    return role, privilege


def _row_counts(reader: _Reader, tables: list[dict[str, Any]]) -> dict[int, int]:
    """Exact counts of every table in one statement. A partitioned table counts its partitions;
    an inheritance parent only its own rows (ONLY)."""
    if not tables:
        return {}
    parts = [
        sql.SQL("SELECT {}::bigint AS table_oid, count(*) AS rows FROM {} {}.{}").format(
            sql.Literal(t["oid"]), sql.SQL("" if t["relkind"] == "p" else "ONLY"),
            sql.Identifier(t["schema"]), sql.Identifier(t["name"]),
        )
        for t in tables
    ]
    return {r["table_oid"]: r["rows"] for r in reader.run("row_counts", sql.SQL(" UNION ALL ").join(parts))}


def _sequences(reader: _Reader, params: dict[str, Any]) -> tuple[Sequence, ...]:
    rows = reader.rows("sequences", params)
    if not rows:
        return ()
    parts = [
        sql.SQL("SELECT {}::bigint AS oid, last_value, is_called FROM {}.{}").format(
            sql.Literal(r["oid"]), sql.Identifier(r["schema"]), sql.Identifier(r["name"])
        )
        for r in rows
    ]
    positions = {p["oid"]: p for p in reader.run("sequence_positions", sql.SQL(" UNION ALL ").join(parts))}
    return tuple(_sequence(r | positions[r["oid"]]) for r in rows)


def _group(rows: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["table_oid"]].append(row)
    return grouped


def _column(r: dict[str, Any]) -> Column:
    return Column(
        name=r["name"], position=r["position"], type=r["type"], not_null=r["not_null"], default=r["default"],
        identity=r["identity"], generated=r["generated"],
    )


def _constraint(r: dict[str, Any]) -> Constraint:
    return Constraint(
        name=r["name"], kind=_CONSTRAINT_KINDS[r["kind"]], columns=tuple(r["columns"]),
        validated=r["validated"], inherited=r["inherited"],
    )


def _foreign_key(r: dict[str, Any], table: Name, selected: set[str]) -> ForeignKey:
    return ForeignKey(
        name=r["name"], table=table, columns=tuple(r["columns"]),
        ref_table=Name(r["ref_schema"], r["ref_table"]), ref_columns=tuple(r["ref_columns"]),
        on_update=_FK_ACTIONS[r["on_update"]], on_delete=_FK_ACTIONS[r["on_delete"]],
        match=_FK_MATCH[r["match"]], deferrable=r["deferrable"], deferred=r["deferred"],
        validated=r["validated"], definition=r["definition"], external=r["ref_schema"] not in selected,
        inherited=r["inherited"], enforced=r["enforced"], temporal=r["temporal"],
    )


def _index(r: dict[str, Any], table: Name) -> Index:
    return Index(
        name=r["name"], table=table, definition=r["definition"], columns=tuple(r["columns"]),
        unique=r["unique"], primary=r["primary"], constraint=r["constraint"], predicate=r["predicate"],
        valid=r["valid"], method=r["method"], inherited=r["inherited"],
    )


def _policy(r: dict[str, Any], table: Name) -> Policy:
    return Policy(
        name=r["name"], table=table, permissive=r["permissive"], command=r["command"],
        roles=tuple(r["roles"]), using=r["using"], with_check=r["with_check"],
    )


def _sequence(r: dict[str, Any]) -> Sequence:
    owned = (Name(r["owner_schema"], r["owner_table"]), r["owner_column"]) if r["owner_table"] else None
    return Sequence(schema=r["schema"], name=r["name"], last_value=r["last_value"] if r["is_called"] else None,
                    owned_by=owned)


def _diag(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).strip()

