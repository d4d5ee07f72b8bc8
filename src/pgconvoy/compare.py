"""Compare two databases: per table, row counts and a content checksum computed in each database,
and every schema difference between their catalogs.

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

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table as RichTable

from pgconvoy import catalog
from pgconvoy.catalog.model import Catalog, Name, Table
from pgconvoy.catalog.model import Sequence as SequenceDef

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
    a_conn: psycopg.Connection[Any], b_conn: psycopg.Connection[Any], *, schemas: Sequence[str] | None = None
) -> Comparison:
    """Compare the databases behind two connections (the schemas given, or every non-managed one)."""
    options = catalog.Options(schemas=tuple(schemas) if schemas is not None else None, rows="none")
    cat_a, cat_b = catalog.introspect(a_conn, options), catalog.introspect(b_conn, options)
    columns = _shared_columns(cat_a, cat_b)
    digests_a = table_digests(a_conn, cat_a.tables, columns)
    digests_b = table_digests(b_conn, cat_b.tables, columns)
    tables = _table_comparisons(cat_a, cat_b, digests_a, digests_b)
    return Comparison(tables=tables, differences=(*_data_differences(tables), *schema_differences(cat_a, cat_b)))


def compare_urls(a_url: str, b_url: str, *, schemas: Sequence[str] | None = None) -> Comparison:
    """`compare` for two connection strings (or `sample:NAME`); connection errors raise ConnectionFailed."""
    from pgconvoy.connect import connect

    with connect(a_url) as a_conn, connect(b_url) as b_conn:
        return compare(a_conn, b_conn, schemas=schemas)


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
    """One statement returning (name, rows, sum1, sum2) for every table; None when there is none."""
    parts = [_table_digest_sql(t, columns.get(t.qualified, tuple(c.name for c in t.columns))) for t in tables]
    return sql.SQL("\nUNION ALL\n").join(parts) if parts else None


def _table_digest_sql(table: Table, columns: Sequence[str]) -> sql.Composed:
    # A partitioned table is read whole (its partitions are compared on their own as well); a plain
    # table with ONLY, since inheritance children are tables of their own.
    only = sql.SQL("") if table.kind == "partitioned" else sql.SQL("ONLY ")
    row = sql.SQL(", ").join(sql.SQL("r.") + sql.Identifier(c) for c in columns)
    return sql.SQL(
        "SELECT {name} AS name, count(*) AS rows,"
        " coalesce(sum(('x' || substr(d.h, 1, 16))::bit(64)::bigint), 0) AS sum1,"
        " coalesce(sum(('x' || substr(d.h, 17, 16))::bit(64)::bigint), 0) AS sum2"
        " FROM {only}{table} AS r CROSS JOIN LATERAL (SELECT md5(ROW({row})::text) AS h) AS d"
    ).format(
        name=sql.Literal(str(table.qualified)), only=only,
        table=sql.Identifier(table.schema, table.name), row=row,
    )


def table_digests(
    conn: psycopg.Connection[Any], tables: Iterable[Table], columns: Mapping[Name, tuple[str, ...]]
) -> dict[str, _Digest]:
    """Row count and checksum of every table, in one statement inside one read-only snapshot."""
    statement = checksum_sql(tables, columns)
    if statement is None:
        return {}
    conn.rollback()
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for setting, value in _SETTINGS:
            conn.execute("SELECT set_config(%s, %s, true)", (setting, value))
        rows = conn.execute(statement).fetchall()
    return {r[0]: _Digest(int(r[1]), (int(r[2]), int(r[3]))) for r in rows}


def _table_comparisons(
    a: Catalog, b: Catalog, digests_a: Mapping[str, _Digest], digests_b: Mapping[str, _Digest]
) -> tuple[TableComparison, ...]:
    names = sorted({t.qualified for t in a.tables} | {t.qualified for t in b.tables})
    result = []
    for name in names:
        da, db = digests_a.get(str(name)), digests_b.get(str(name))
        same = None if da is None or db is None else da == db
        result.append(TableComparison(str(name), da.rows if da else None, db.rows if db else None, same))
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


def schema_differences(a: Catalog, b: Catalog) -> list[Difference]:
    """Every difference between two catalogs, as (kind, object, detail)."""
    found: list[Difference] = []
    tables_a, tables_b = {str(t.qualified): t for t in a.tables}, {str(t.qualified): t for t in b.tables}
    found += _keyed("table", tables_a, tables_b, lambda t: {})
    for name in sorted(tables_a.keys() & tables_b.keys()):
        found += _table_differences(name, tables_a[name], tables_b[name])
    found += _keyed("sequence", {str(s.qualified): s for s in a.sequences},
                    {str(s.qualified): s for s in b.sequences}, _sequence_fields)
    found += _keyed("view", {str(v.qualified): v for v in a.views}, {str(v.qualified): v for v in b.views},
                    lambda v: {"materialized": v.materialized, "definition": v.definition})
    found += _keyed("function", {f.signature: f for f in a.functions}, {f.signature: f for f in b.functions},
                    lambda f: {"returns": f.returns, "language": f.language, "definition": f.definition})
    found += _keyed("type", {str(t.qualified): t for t in a.types}, {str(t.qualified): t for t in b.types},
                    lambda t: {"kind": t.kind, "labels": t.labels, "base type": t.base_type, "not null": t.not_null,
                               "default": t.default, "checks": t.checks, "attributes": t.attributes})
    return found


def _table_differences(name: str, a: Table, b: Table) -> list[Difference]:
    found: list[Difference] = []
    if (a.rls_enabled, a.rls_forced) != (b.rls_enabled, b.rls_forced):
        found += _fields("rls", name, {"enabled": a.rls_enabled, "forced": a.rls_forced},
                         {"enabled": b.rls_enabled, "forced": b.rls_forced})
    found += _keyed("column", {f"{name}.{c.name}": c for c in a.columns}, {f"{name}.{c.name}": c for c in b.columns},
                    lambda c: {"type": c.type, "not null": c.not_null, "default": c.default, "identity": c.identity,
                               "generated": c.generated, "collation": c.collation})
    found += _keyed("constraint", {f"{name}.{c.name}": c for c in a.constraints},
                    {f"{name}.{c.name}": c for c in b.constraints},
                    lambda c: {"definition": c.definition, "validated": c.validated})
    found += _keyed("foreign_key", {f"{name}.{f.name}": f for f in a.foreign_keys},
                    {f"{name}.{f.name}": f for f in b.foreign_keys},
                    lambda f: {"definition": f.definition, "validated": f.validated})
    found += _keyed("index", {f"{name}.{i.name}": i for i in a.indexes}, {f"{name}.{i.name}": i for i in b.indexes},
                    lambda i: {"definition": i.definition, "valid": i.valid})
    found += _keyed("policy", {f"{name}.{p.name}": p for p in a.policies},
                    {f"{name}.{p.name}": p for p in b.policies},
                    lambda p: {"command": p.command, "permissive": p.permissive, "roles": ", ".join(p.roles),
                               "using": p.using, "with check": p.with_check})
    found += _keyed("trigger", {f"{name}.{t.name}": t for t in a.triggers},
                    {f"{name}.{t.name}": t for t in b.triggers},
                    lambda t: {"definition": t.definition, "enabled": t.enabled})
    return found


def _sequence_fields(s: SequenceDef) -> dict[str, object]:
    return {
        "last_value": "not called" if s.last_value is None else s.last_value,
        "type": s.type, "start": s.start, "increment": s.increment, "minimum": s.minimum,
        "maximum": s.maximum, "cache": s.cache, "cycle": s.cycle,
    }


def _keyed(kind: str, a: Mapping[str, Any], b: Mapping[str, Any],
           fields: Callable[[Any], Mapping[str, object]]) -> list[Difference]:
    """Objects matched by key: missing on either side, else each field that differs."""
    found = []
    for key in sorted(a.keys() | b.keys()):
        if key not in b:
            found.append(Difference(kind, key, "missing in B"))
        elif key not in a:
            found.append(Difference(kind, key, "missing in A"))
        else:
            found += _fields(kind, key, fields(a[key]), fields(b[key]))
    return found


def _fields(kind: str, key: str, a: Mapping[str, object], b: Mapping[str, object]) -> list[Difference]:
    return [Difference(kind, key, f"{field} {_show(a[field])} vs {_show(b[field])}")
            for field in a if a[field] != b[field]]


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
