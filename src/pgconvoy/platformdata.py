"""The platform's rows the application needs (project.yml `platform_data:`): Supabase's `auth.users`,
`auth.identities`, `storage.buckets`, `storage.objects` (metadata) and the like.

The platform creates those tables itself, on the source and on the target: the migration never creates
or alters them, it copies their rows, data-only, into the target's existing tables, before the
application's rows (`09-data-platform.sql`), in foreign-key order, in one transaction, read in the same
snapshot as everything else. A row whose key the target holds already fails the run (`on_conflict:
error`, the default) or keeps the target's row (`skip-existing`). The tables' sequences carry their
positions like the application's. What the platform keeps outside the database (storage files, vault
secrets, GoTrue's configuration) is the platform's to carry: the README says so.

Read here, in compile's snapshot: the listed tables as a catalog of their own; `merged` adds them to the
application's catalog for the data export.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg

from pgconvoy import catalog as catalogs
from pgconvoy.catalog.model import Catalog, Name, Table
from pgconvoy.errors import CatalogError, PgConvoyError
from pgconvoy.graph import build
from pgconvoy.manifest import LoadedProject
from pgconvoy.rules.context import parse_written

# A reference from a listed table to a platform table that is not listed: its rows must already be on
# the target (or the key is NULL in every row). A raw finding of compile, judged like the others.
UNLISTED_REFERENCE = "PC702"


def names(loaded: LoadedProject) -> list[Name]:
    """The tables platform_data lists, as names; a clear error (file, line, key) for one that cannot be."""
    found = []
    for i, written in enumerate(loaded.project.platform_data.tables):
        where = f"{loaded.file}:{_line(loaded, i)}: platform_data: {written}"
        schema, table = parse_written(written)
        if schema is None:
            raise PgConvoyError(f"{where}: name the platform table with its schema, e.g. auth.users")
        if schema in loaded.project.schemas:
            raise PgConvoyError(f"{where}: schema {schema} is the application's (schemas:): its tables load "
                                "through the groups", hint="platform_data lists tables the platform creates itself")
        found.append(Name(schema, table))
    return list(dict.fromkeys(found))


def read(conn: psycopg.Connection[Any], loaded: LoadedProject) -> Catalog | None:
    """The catalog of the listed tables, in their load order (foreign keys first), read inside the caller's
    transaction (compile's locked snapshot); None when platform_data lists nothing."""
    wanted = names(loaded)
    if not wanted:
        return None
    schemas = tuple(sorted({n.schema for n in wanted}))
    try:
        cat = catalogs.read(conn, catalogs.Options(schemas=schemas, include_managed=True, rows="estimate"))
    except CatalogError as exc:
        raise PgConvoyError(f"{loaded.file}:{_line(loaded, 0)}: platform_data: {exc.message}",
                            hint=exc.hint) from None
    for i, name in enumerate(wanted):
        if cat.table(name) is None:
            present = sorted(t.name for t in cat.tables if t.schema == name.schema)
            raise PgConvoyError(f"{loaded.file}:{_line(loaded, i)}: platform_data: no table {name} in the source",
                                hint=f"tables of {name.schema}: {', '.join(present) or 'none'}")
    tables = tuple(t for t in cat.tables if t.qualified in set(wanted))
    listed = replace(cat, tables=tables, sequences=tuple(
        s for s in cat.sequences if s.owned_by is not None and s.owned_by[0] in set(wanted)))
    graph = build(listed)
    if graph.cycles:
        cycle = " -> ".join(str(n) for n in graph.cycles[0])
        raise PgConvoyError(f"{loaded.file}: platform_data: {cycle} reference each other: their rows cannot "
                            "load in foreign-key order", hint="leave one of them out of platform_data")
    ordered = {n: i for i, n in enumerate(graph.order)}
    return replace(listed, tables=tuple(sorted(tables, key=lambda t: ordered[t.qualified])))


def unlisted_references(platform: Catalog) -> list[tuple[str, str, Name | None, str | None, str | None]]:
    """Raw findings: a listed table's foreign key to a platform table that is not listed."""
    listed = {t.qualified for t in platform.tables}
    return [(UNLISTED_REFERENCE,
             f"platform_data lists {fk.table} but not {fk.ref_table}, which its foreign key {fk.name} references: "
             "the target must hold those rows already", fk.table,
             f"add {fk.ref_table} to platform_data, or make sure the target has its rows", f"{fk.table}.{fk.name}")
            for t in platform.tables for fk in t.foreign_keys
            if fk.ref_table not in listed and not fk.inherited]


def merged(app: Catalog, platform: Catalog | None) -> Catalog:
    """The application's catalog with the platform's listed tables and their sequences: what the data
    export reads."""
    if platform is None:
        return app
    return replace(app, tables=(*app.tables, *platform.tables), sequences=(*app.sequences, *platform.sequences))


def order(platform: Catalog | None) -> tuple[Name, ...]:
    return () if platform is None else tuple(t.qualified for t in platform.tables)


def columns(table: Table) -> list[str]:
    """The columns its rows carry: every one but generated columns (the target computes them)."""
    return [c.name for c in table.columns if c.generated is None]


def _line(loaded: LoadedProject, index: int) -> int:
    lines = loaded.lines
    return max(lines.line("platform_data", "tables", index), lines.line("platform_data", index))
