"""Compare two databases: per table, row counts and a content checksum computed in each database;
large objects; sequence positions; and every object of the schema, from pg_dump's archive of each
side (every object kind pg_dump knows, grants and comments included), named when it is missing on a
side or its SQL differs.

The checksum is order-independent: each row becomes md5(ROW(columns)::text), the 128-bit digest is cut
into two 64-bit halves, and each half is summed as numeric over the table. A sum does not care about
physical row order, streams in constant memory (no sort, no 1 GB string_agg limit on large tables),
and still notices a changed value (its digest changes), a missing row (a term is gone) and a
duplicated row (a term counts twice); together with count(*) two different tables collide only if
two sums of 64-bit digests collide at once. Columns are read by name, in name order, and only those
present on both sides, so a column order that differs between the databases does not hide or fake a
difference (the column difference itself is reported). Generated columns are included: they are
recomputed on load and must come out the same. Text output of values depends on settings, so both
sides run with the same TimeZone, DateStyle, IntervalStyle, extra_float_digits and bytea_output.

All tables of a side are checksummed by one composed statement (UNION ALL), so the number of round
trips does not grow with the number of tables.
"""

from __future__ import annotations

import difflib
import json
import os
import secrets
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from rich.console import Console
from rich.table import Table as RichTable

from pgconvoy import catalog
from pgconvoy.archive import Archive, DumpOptions, dump, merge
from pgconvoy.catalog.model import Catalog, Name, Table
from pgconvoy.errors import PgConvoyError
from pgconvoy.quote import qualified

_SETTINGS = (
    ("TimeZone", "UTC"), ("DateStyle", "ISO, YMD"), ("IntervalStyle", "postgres"),
    ("extra_float_digits", "1"), ("bytea_output", "hex"), ("row_security", "off"),
)


class Difference(NamedTuple):
    kind: str  # table | rows | checksum | column | constraint | foreign_key | index | policy | rls | ...
    object: str  # e.g. "public.hotels", "public.hotels.hotels_tenant_read"
    detail: str  # e.g. "3 vs 2", "missing in B"


@dataclass(frozen=True, slots=True)
class TableComparison:
    name: str
    rows_a: int | None  # None: the table is missing on that side
    rows_b: int | None
    checksum_equal: bool | None  # None when the table is missing on a side


@dataclass(frozen=True, slots=True)
class Comparison:
    tables: tuple[TableComparison, ...]
    differences: tuple[Difference, ...]

    @property
    def equal(self) -> bool:
        return not self.differences


@dataclass(frozen=True, slots=True)
class _Digest:
    rows: int
    sums: tuple[int, int]


def compare(
    a_conn: psycopg.Connection[Any], b_conn: psycopg.Connection[Any], *, schemas: Sequence[str] | None = None,
    platform_tables: Sequence[Name] = (),
) -> Comparison:
    """Compare the databases behind two connections (the schemas given, or every non-managed one).
    `platform_tables`: tables of the platform's schemas whose rows are compared too (platform_data), their
    schema being the platform's."""
    options = catalog.Options(schemas=tuple(schemas) if schemas is not None else None, rows="none")
    cat_a, cat_b = catalog.introspect(a_conn, options), catalog.introspect(b_conn, options)
    rows_a = (*cat_a.tables, *_platform_tables(a_conn, platform_tables))
    rows_b = (*cat_b.tables, *_platform_tables(b_conn, platform_tables))
    data_a, data_b = replace(cat_a, tables=rows_a), replace(cat_b, tables=rows_b)
    columns = _shared_columns(data_a, data_b)
    digests_a = table_digests(a_conn, rows_a, columns)
    digests_b = table_digests(b_conn, rows_b, columns)
    tables = _table_comparisons(data_a, data_b, digests_a, digests_b)
    archive_a, archive_b = _archive(a_conn, cat_a), _archive(b_conn, cat_b)
    if _major(archive_a) != _major(archive_b):
        archive_a, archive_b = _spelled_alike(archive_a), _spelled_alike(archive_b)
    return Comparison(tables=tables, differences=(
        *_data_differences(tables), *_large_object_differences(a_conn, b_conn),
        *schema_differences(archive_a, archive_b), *_sequence_differences(cat_a, cat_b)))


def _platform_tables(conn: psycopg.Connection[Any], names: Sequence[Name]) -> tuple[Table, ...]:
    """The named tables of the platform's schemas, those the side has."""
    if not names:
        return ()
    schemas = sorted({n.schema for n in names})
    present = {r[0] for r in conn.execute("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname = ANY(%s)",
                                          (schemas,)).fetchall()}
    conn.rollback()
    if not present:
        return ()
    found = catalog.introspect(conn, catalog.Options(schemas=tuple(sorted(present)), include_managed=True,
                                                     rows="none"))
    return tuple(t for t in found.tables if t.qualified in set(names))


def _archive(conn: psycopg.Connection[Any], cat: Catalog) -> Archive:
    """pg_dump's schema archive of the side, with its large objects' metadata when it has any."""
    info = conn.info
    conninfo = make_conninfo(info.dsn, password=info.password) if info.password else info.dsn
    archive = dump(conninfo, DumpOptions(exclude_schemas=cat.excluded_schemas))
    conn.rollback()
    row = conn.execute("SELECT EXISTS (SELECT FROM pg_catalog.pg_largeobject_metadata)").fetchone()
    conn.rollback()
    if row and row[0]:
        archive = merge(archive, dump(conninfo, DumpOptions(large_objects_only=True)))
    return archive


def _major(archive: Archive) -> str:
    return archive.server_version.split(".")[0]


def _spelled_alike(archive: Archive) -> Archive:
    """The archive as the embedded server prints it. Views, rules, policies and defaults are printed by
    the server that holds them, and PostgreSQL 15 and 18 spell the same view differently: sides of two
    major versions are both restored into a scratch database of the embedded server and dumped again.
    An entry that does not restore there (a role or platform schema it needs is missing) keeps its text."""
    from pgconvoy import embedded

    base = embedded.default_server()
    name = f"pgconvoy_compare_{os.getpid()}_{secrets.token_hex(4)}"
    uri = embedded.create_database(base, name)
    try:
        subprocess.run([str(embedded.bin_dir() / "pg_restore"), "--no-owner", "--dbname", uri],
                       input=archive.data, capture_output=True, check=False)
        again = dump(uri, DumpOptions())
    finally:
        embedded.drop_database(base, name)
    respelled = {(e.desc, e.namespace, e.tag): e for e in again.entries}
    entries = tuple(
        replace(e, defn=respelled[(e.desc, e.namespace, e.tag)].defn)
        if (e.desc, e.namespace, e.tag) in respelled else e
        for e in archive.entries
    )
    return replace(archive, entries=entries)


def _large_object_differences(a: psycopg.Connection[Any], b: psycopg.Connection[Any]) -> list[Difference]:
    """Large objects by oid: present on both sides, with the same contents (an md5 each)."""
    query = "SELECT oid::bigint, md5(pg_catalog.lo_get(oid)) FROM pg_catalog.pg_largeobject_metadata"
    sides = []
    for conn in (a, b):
        conn.rollback()
        sides.append(dict(conn.execute(query).fetchall()))
        conn.rollback()
    found_a, found_b = sides
    found = []
    for oid in sorted(found_a.keys() | found_b.keys()):
        if oid not in found_b or oid not in found_a:
            found.append(Difference("large object", str(oid), f"missing in {'B' if oid not in found_b else 'A'}"))
        elif found_a[oid] != found_b[oid]:
            found.append(Difference("large object", str(oid), "different content"))
    return found


def compare_urls(a_url: str, b_url: str, *, schemas: Sequence[str] | None = None,
                 platform_tables: Sequence[Name] = ()) -> Comparison:
    """`compare` for two connection strings (or `sample:NAME`); connection errors raise ConnectionFailed."""
    from pgconvoy.connect import connect

    with connect(a_url) as a_conn, connect(b_url) as b_conn:
        return compare(a_conn, b_conn, schemas=schemas, platform_tables=platform_tables)


def compare_exit_code(comparison: Comparison) -> int:
    """0 when the databases are the same, 1 when anything differs."""
    return 0 if comparison.equal else 1


# --- data -------------------------------------------------------------------------------------------


def _shared_columns(a: Catalog, b: Catalog) -> dict[Name, tuple[str, ...]]:
    """Per table, the columns to checksum, by name: those on both sides (all, if the table is on one side)."""
    cols_a = {t.qualified: {c.name for c in t.columns} for t in a.tables}
    cols_b = {t.qualified: {c.name for c in t.columns} for t in b.tables}
    return {
        name: tuple(sorted(cols_a.get(name, cols_b.get(name, set())) & cols_b.get(name, cols_a.get(name, set()))))
        for name in cols_a.keys() | cols_b.keys()
    }


def checksum_sql(tables: Iterable[Table], columns: Mapping[Name, tuple[str, ...]]) -> sql.Composed | None:
    """One statement returning (schema, name, rows, sum1, sum2) for every table; None when there is none."""
    parts = [_table_digest_sql(t, columns.get(t.qualified, tuple(c.name for c in t.columns))) for t in tables]
    return sql.SQL("\nUNION ALL\n").join(parts) if parts else None


def _table_digest_sql(table: Table, columns: Sequence[str]) -> sql.Composed:
    # A partitioned table is read whole (its partitions are compared on their own as well); a plain
    # table with ONLY, since inheritance children are tables of their own.
    only = sql.SQL("") if table.kind == "partitioned" else sql.SQL("ONLY ")
    row = sql.SQL(", ").join(sql.SQL("r.") + sql.Identifier(c) for c in columns)
    return sql.SQL(
        "SELECT {schema} AS schema, {name} AS name, count(*) AS rows,"
        " coalesce(sum(('x' || substr(d.h, 1, 16))::bit(64)::bigint), 0) AS sum1,"
        " coalesce(sum(('x' || substr(d.h, 17, 16))::bit(64)::bigint), 0) AS sum2"
        " FROM {only}{table} AS r CROSS JOIN LATERAL (SELECT md5(ROW({row})::text) AS h) AS d"
    ).format(
        schema=sql.Literal(table.schema), name=sql.Literal(table.name), only=only,
        table=sql.Identifier(table.schema, table.name), row=row,
    )


def table_digests(
    conn: psycopg.Connection[Any], tables: Iterable[Table], columns: Mapping[Name, tuple[str, ...]]
) -> dict[Name, _Digest]:
    """Row count and checksum of every table, in one statement inside one read-only snapshot."""
    statement = checksum_sql(tables, columns)
    if statement is None:
        return {}
    conn.rollback()
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for setting, value in _SETTINGS:
                conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
            rows = conn.execute(statement).fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        # row_security is off: a table whose policies would hide rows from this role is an error, not
        # a smaller checksum
        raise PgConvoyError(
            f"role {conn.info.user} on {conn.info.dbname} cannot read every row: "
            f"{(exc.diag.message_primary or str(exc)).strip()}",
            hint="compare as a role that bypasses row-level security (BYPASSRLS, or the tables' owner) and can "
            "read every table") from None
    return {Name(r[0], r[1]): _Digest(int(r[2]), (int(r[3]), int(r[4]))) for r in rows}


def _table_comparisons(
    a: Catalog, b: Catalog, digests_a: Mapping[Name, _Digest], digests_b: Mapping[Name, _Digest]
) -> tuple[TableComparison, ...]:
    """Tables matched by (schema, name), never by a joined string: `a."b.c"` and `"a.b".c` are two tables."""
    names = sorted({t.qualified for t in a.tables} | {t.qualified for t in b.tables})
    result = []
    for name in names:
        da, db = digests_a.get(name), digests_b.get(name)
        same = None if da is None or db is None else da == db
        result.append(TableComparison(qualified(name), da.rows if da else None, db.rows if db else None, same))
    return tuple(result)


def _data_differences(tables: Iterable[TableComparison]) -> list[Difference]:
    found = []
    for t in tables:
        if t.rows_a is None or t.rows_b is None:
            continue  # reported as a missing table
        if t.rows_a != t.rows_b:
            found.append(Difference("rows", t.name, f"{t.rows_a} vs {t.rows_b}"))
        elif not t.checksum_equal:
            found.append(Difference("checksum", t.name, f"same {t.rows_a} rows, different content"))
    return found


# --- schema -----------------------------------------------------------------------------------------


def schema_differences(a: Archive, b: Archive) -> list[Difference]:
    """Every object that is missing on a side or whose SQL differs, from the two sides' pg_dump archives:
    each archive entry (table, index, grant, comment, policy, default privilege, ...) is one object."""
    entries_a, entries_b = _schema_entries(a), _schema_entries(b)
    names = {key: name for key, (_, name) in (entries_a | entries_b).items()}
    found = []
    for key in sorted(entries_a.keys() | entries_b.keys()):
        kind, name = key[0].lower(), names[key]
        if key not in entries_b:
            found.append(Difference(kind, name, "missing in B"))
        elif key not in entries_a:
            found.append(Difference(kind, name, "missing in A"))
        elif entries_a[key][0] != entries_b[key][0]:
            found.append(Difference(kind, name, _first_difference(entries_a[key][0], entries_b[key][0])))
    return found


_NOT_SCHEMA = frozenset({"ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE", "DATABASE PROPERTIES", "BLOBS"})


def _schema_entries(archive: Archive) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(type, schema, tag) -> (the entry's SQL with what pg_restore adds from the entry: access method,
    tablespace; the object's name); database-level entries are left out (the names differ)."""
    found: dict[tuple[str, str, str], tuple[str, str]] = {}
    for e in archive.entries:
        if e.desc in _NOT_SCHEMA or e.tag.startswith("DATABASE "):
            continue
        if all(line.startswith("--") for line in e.defn.strip().splitlines()):
            continue  # no SQL: pg_dump's note that initdb creates schema public (its owner differs)
        key = (e.desc, e.namespace or "", e.tag)
        text = "\n".join(line.rstrip() for line in e.defn.strip().splitlines())
        if e.tableam:
            text += f"\n-- access method {e.tableam}"
        if e.tablespace:
            text += f"\n-- tablespace {e.tablespace}"
        while key in found:  # pg_dump tags are unique in practice; never let two entries hide each other
            key = (key[0], key[1], key[2] + "'")
        found[key] = (text, e.name)
    return found


def _first_difference(a: str, b: str) -> str:
    """Where two SQL texts part: the first line one has and the other has not, or the first two lines
    that differ, each shown around the first character where they part (a trailing comma or semicolon
    is punctuation, not a difference of its own)."""
    lines_a = [line.strip().rstrip(",;") for line in a.splitlines()]
    lines_b = [line.strip().rstrip(",;") for line in b.splitlines()]
    for op, i1, _, j1, _ in difflib.SequenceMatcher(a=lines_a, b=lines_b, autojunk=False).get_opcodes():
        if op == "delete":
            return f"only A has {_show(lines_a[i1])}"
        if op == "insert":
            return f"only B has {_show(lines_b[j1])}"
        if op == "replace":
            return _part(lines_a[i1], lines_b[j1])
    return "the same lines, spaced differently"


def _part(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(at - 30, 0)
    def window(text: str) -> str:
        return ("..." if start else "") + text[start:at + 40] + ("..." if len(text) > at + 40 else "")
    return f"{window(a)!r} vs {window(b)!r}"


def _sequence_differences(a: Catalog, b: Catalog) -> list[Difference]:
    """Sequence positions (their definitions are schema entries)."""
    pos_a = {str(s.qualified): s.last_value for s in a.sequences}
    pos_b = {str(s.qualified): s.last_value for s in b.sequences}
    return [Difference("sequence", name, f"last_value {_position(pos_a[name])} vs {_position(pos_b[name])}")
            for name in sorted(pos_a.keys() & pos_b.keys()) if pos_a[name] != pos_b[name]]


def _position(value: int | None) -> str:
    return "not called" if value is None else str(value)


def _show(value: object) -> str:
    if value is None:
        return "none"
    text = str(value)
    return text if len(text) <= 80 and "\n" not in text else repr(text[:77] + "...")


# --- output -----------------------------------------------------------------------------------------


def to_json(comparison: Comparison) -> str:
    return json.dumps({
        "equal": comparison.equal,
        "tables": [{"name": t.name, "rows_a": t.rows_a, "rows_b": t.rows_b, "checksum_equal": t.checksum_equal}
                   for t in comparison.tables],
        "differences": [{"kind": d.kind, "object": d.object, "detail": d.detail} for d in comparison.differences],
    }, indent=2)


def summary(comparison: Comparison) -> str:
    tables = len(comparison.tables)
    rows = sum(t.rows_a or 0 for t in comparison.tables)
    if comparison.equal:
        return f"Same: {tables} tables, {rows} rows, schema and content identical."
    count = len(comparison.differences)
    return f"Different: {count} difference{'s' if count != 1 else ''} across {tables} tables."


def render_text(comparison: Comparison, console: Console) -> None:
    """The differences as a table (nothing when there are none), then a one-line summary."""
    if comparison.differences:
        table = RichTable(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("kind", "object", "A vs B"):
            table.add_column(column, overflow="fold")
        for d in comparison.differences:
            table.add_row(d.kind, d.object, d.detail)
        console.print(table)
    style = "green" if comparison.equal else "red"
    console.print(f"[{style}]{summary(comparison)}[/]")
