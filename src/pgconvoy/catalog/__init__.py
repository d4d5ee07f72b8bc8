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

from pgconvoy.catalog.acl import parse_acl
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
    Trigger,
    TypeDef,
    View,
)
from pgconvoy.errors import CatalogError

__all__ = ["MANAGED_SCHEMAS", "Catalog", "Name", "Options", "introspect"]

# Schemas a platform (Supabase, and extensions it installs) creates and manages: a migration
# references them but never recreates them.
MANAGED_SCHEMAS = frozenset({
    "auth", "storage", "realtime", "_realtime", "extensions", "graphql", "graphql_public", "vault",
    "pgsodium", "pgsodium_masks", "supabase_functions", "supabase_migrations", "cron", "net", "pgmq",
    "pgmq_public", "pgbouncer", "_analytics", "pgtle", "topology", "tiger", "tiger_data", "repack",
})

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
    """Read the catalog of the database behind `conn`; the queries sent are appended to `trace`."""
    reader = _Reader(conn, trace if trace is not None else [])
    conn.rollback()
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SET LOCAL search_path = ''")
        conn.execute("SET LOCAL row_security = off")
        return _read(reader, options)


def _read(reader: _Reader, options: Options) -> Catalog:
    server = reader.rows("server")[0]
    all_schemas = reader.rows("schemas")
    selected = _select_schemas(all_schemas, options, server["database"])
    params = {"schemas": list(selected)}
    tables = _tables(reader, params, options.rows, set(selected))
    return Catalog(
        server_version=server["server_version"],
        database=server["database"],
        schemas=tuple(
            Schema(s["name"], s["owner"], s["comment"], parse_acl(s["acl"], s["owner"]),
                   managed=s["name"] in MANAGED_SCHEMAS)
            for s in all_schemas if s["name"] in selected
        ),
        tables=tables,
        sequences=_sequences(reader, params),
        views=tuple(_view(r) for r in reader.rows("views", params)),
        functions=tuple(_function(r) for r in reader.rows("functions", params)),
        types=tuple(_type(r) for r in reader.rows("types", params)),
        extensions=tuple(Extension(r["name"], r["version"], r["schema"]) for r in reader.rows("extensions")),
        excluded_schemas=tuple(s["name"] for s in all_schemas if s["name"] not in selected),
        exact_rows=options.rows == "exact",
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
    triggers = _group(reader.rows("triggers", params))
    counts = _row_counts(reader, table_rows) if rows_mode == "exact" else {}
    tables = []
    for r in table_rows:
        oid, name = r["oid"], names[r["oid"]]
        cons = constraints.get(oid, [])
        parents = tuple(Name(s, n) for s, n in r["parents"])
        tables.append(Table(
            schema=r["schema"],
            name=r["name"],
            kind="partitioned" if r["relkind"] == "p" else "table",
            persistence="unlogged" if r["persistence"] == "u" else "permanent",
            columns=tuple(_column(c) for c in columns.get(oid, [])),
            constraints=tuple(_constraint(c) for c in cons if c["kind"] != "f"),
            foreign_keys=tuple(_foreign_key(c, name, selected) for c in cons if c["kind"] == "f"),
            indexes=tuple(_index(i, name) for i in indexes.get(oid, [])),
            policies=tuple(_policy(p, name) for p in policies.get(oid, [])),
            triggers=tuple(_trigger(t, name) for t in triggers.get(oid, [])),
            rls_enabled=r["rls_enabled"],
            rls_forced=r["rls_forced"],
            partition_of=parents[0] if r["is_partition"] else None,
            partition_bound=r["partition_bound"],
            partition_key=r["partition_key"],
            inherits=() if r["is_partition"] else parents,
            owner=r["owner"],
            comment=r["comment"],
            grants=parse_acl(r["acl"], r["owner"]),
            options=tuple(r["options"] or ()),
            estimated_rows=r["reltuples"] if r["reltuples"] >= 0 else None,
            rows=counts.get(oid),
        ))
    return tuple(tables)


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
        identity=r["identity"], generated=r["generated"], generated_kind=r["generated_kind"],
        collation=r["collation"], inherited=r["inherited"], comment=r["comment"], grants=parse_acl(r["acl"]),
    )


def _constraint(r: dict[str, Any]) -> Constraint:
    return Constraint(
        name=r["name"], kind=_CONSTRAINT_KINDS[r["kind"]], columns=tuple(r["columns"]),
        definition=r["definition"], deferrable=r["deferrable"], deferred=r["deferred"],
        validated=r["validated"], inherited=r["inherited"], comment=r["comment"],
    )


def _foreign_key(r: dict[str, Any], table: Name, selected: set[str]) -> ForeignKey:
    return ForeignKey(
        name=r["name"], table=table, columns=tuple(r["columns"]),
        ref_table=Name(r["ref_schema"], r["ref_table"]), ref_columns=tuple(r["ref_columns"]),
        on_update=_FK_ACTIONS[r["on_update"]], on_delete=_FK_ACTIONS[r["on_delete"]],
        match=_FK_MATCH[r["match"]], deferrable=r["deferrable"], deferred=r["deferred"],
        validated=r["validated"], definition=r["definition"], external=r["ref_schema"] not in selected,
        inherited=r["inherited"],
    )


def _index(r: dict[str, Any], table: Name) -> Index:
    return Index(
        name=r["name"], table=table, definition=r["definition"], columns=tuple(r["columns"]),
        unique=r["unique"], primary=r["primary"], constraint=r["constraint"], predicate=r["predicate"],
        valid=r["valid"], method=r["method"], comment=r["comment"], inherited=r["inherited"],
    )


def _policy(r: dict[str, Any], table: Name) -> Policy:
    return Policy(
        name=r["name"], table=table, permissive=r["permissive"], command=r["command"],
        roles=tuple(r["roles"]), using=r["using"], with_check=r["with_check"], comment=r["comment"],
    )


def _trigger(r: dict[str, Any], table: Name) -> Trigger:
    return Trigger(
        name=r["name"], table=table, definition=r["definition"],
        function=Name(r["function_schema"], r["function_name"]), enabled=r["enabled"], comment=r["comment"],
    )


def _sequence(r: dict[str, Any]) -> Sequence:
    owned = (Name(r["owner_schema"], r["owner_table"]), r["owner_column"]) if r["owner_table"] else None
    return Sequence(
        schema=r["schema"], name=r["name"], type=r["type"], start=r["start"], increment=r["increment"],
        minimum=r["minimum"], maximum=r["maximum"], cache=r["cache"], cycle=r["cycle"],
        last_value=r["last_value"] if r["is_called"] else None, owned_by=owned, identity=r["identity"],
        comment=r["comment"], grants=parse_acl(r["acl"], r["owner"]),
    )


def _view(r: dict[str, Any]) -> View:
    return View(
        schema=r["schema"], name=r["name"], materialized=r["materialized"], definition=r["definition"],
        depends_on=tuple(sorted(Name(s, n) for s, n in r["depends_on"])), options=tuple(r["options"] or ()),
        comment=r["comment"], grants=parse_acl(r["acl"], r["owner"]),
    )


def _function(r: dict[str, Any]) -> Function:
    return Function(
        schema=r["schema"], name=r["name"], arguments=r["arguments"], kind=r["kind"], language=r["language"],
        returns=r["returns"], definition=r["definition"], comment=r["comment"],
        grants=parse_acl(r["acl"], r["owner"]),
    )


def _type(r: dict[str, Any]) -> TypeDef:
    return TypeDef(
        schema=r["schema"], name=r["name"], kind=r["kind"], labels=tuple(r["labels"] or ()),
        base_type=r["base_type"], not_null=r["not_null"], default=r["default"],
        checks=tuple((n, d) for n, d in r["checks"]), attributes=tuple((n, t) for n, t in r["attributes"]),
        comment=r["comment"],
    )


def _diag(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).strip()

