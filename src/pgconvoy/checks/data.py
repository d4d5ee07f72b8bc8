"""Data checks built from the catalog and the manifest: foreign keys hold, row counts are as expected,
required indexes and row level security are in place. Each is a query composed with psycopg.sql that
returns what fails, so it can be read (and rerun) as plain SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.catalog.model import Catalog, ForeignKey, Name
from pgconvoy.checks.engine import Check, Outcome, Severity
from pgconvoy.errors import PgConvoyError
from pgconvoy.tolerance import allowed, parse


def foreign_key_checks(catalog: Catalog) -> list[Check]:
    """One check per foreign key: rows whose key has no parent row. Loading with triggers off
    (or a NOT VALID constraint) can leave such rows behind; the constraint alone does not prove it."""
    # A NOT ENFORCED key promises nothing; a PERIOD key matches by range containment, not equality.
    return [foreign_key_check(fk, catalog) for fk in catalog.foreign_keys if fk.checkable_by_equality]


def foreign_key_check(fk: ForeignKey, catalog: Catalog | None = None) -> Check:
    kind = "self_reference" if fk.is_self_reference else "foreign_key"
    return Check(
        name=f"{kind}:{fk.table}.{fk.name}", kind=kind, sql=orphans_sql(fk, catalog), table=str(fk.table),
        description=f"every {fk.table} ({', '.join(fk.columns)}) has a row in {fk.ref_table}",
        remediation="delete or fix the orphaned rows, or load the parent rows first",
        tags=("data", "foreign_key"),
    )


def orphans_sql(fk: ForeignKey, catalog: Catalog | None = None) -> sql.Composed:
    """Rows of the referencing table whose key is not in the referenced table (an anti-join).

    MATCH SIMPLE skips a row with any NULL in the key; MATCH FULL also fails a row that is only
    partly NULL. A plain table is read with ONLY (its inheritance children have their own keys); a
    partitioned table is read whole."""
    child = [sql.SQL("c.") + sql.Identifier(col) for col in fk.columns]
    parent_cols = [sql.SQL("p.") + sql.Identifier(col) for col in fk.ref_columns]
    all_set = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(c) for c in child)
    join = sql.SQL(" AND ").join(sql.SQL("{} = {}").format(p, c) for p, c in zip(parent_cols, child, strict=True))
    missing = sql.SQL("({}) AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {})").format(
        all_set, _relation(fk.ref_table, catalog), join
    )
    if fk.match == "FULL" and len(child) > 1:
        some_null = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(c) for c in child)
        all_null = sql.SQL(" AND ").join(sql.SQL("{} IS NULL").format(c) for c in child)
        missing = sql.SQL("({}) OR (({}) AND NOT ({}))").format(missing, some_null, all_null)
    key_text = sql.SQL(", ").join(sql.SQL("{}::text").format(c) for c in child)
    return sql.SQL(
        "SELECT format('%s (%s) = (%s) has no row in %s', {table}, {columns}, concat_ws(', ', {key}), {ref}) "
        "AS detail\nFROM {child} AS c\nWHERE {missing}"
    ).format(
        table=sql.Literal(str(fk.table)), columns=sql.Literal(", ".join(fk.columns)), key=key_text,
        ref=sql.Literal(str(fk.ref_table)), child=_relation(fk.table, catalog), missing=missing,
    )


def _relation(name: Name, catalog: Catalog | None) -> sql.Composed:
    table = catalog.table(name) if catalog else None
    only = sql.SQL("ONLY ") if table is not None and table.kind == "table" else sql.SQL("")
    return only + sql.Identifier(name.schema, name.name)


def rows_check(table: Name | str, expected: int, tolerance: int | str = 0,
               *, severity: Severity = "error") -> Check:
    """The table holds `expected` rows, give or take `tolerance` (rows, or `"2%"`: `pgconvoy.tolerance`, as
    the manifests read it); a partitioned table counts its partitions."""
    name = table if isinstance(table, Name) else Name.parse(table)
    try:
        slack = allowed(expected, parse(tolerance))
    except ValueError as exc:
        raise PgConvoyError(f"rows check on {name}: tolerance {tolerance!r} is not {exc}") from None

    def count(conn: psycopg.Connection[Any]) -> Outcome:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name.schema, name.name))).fetchone()
        found = int(row[0]) if row else 0
        around = f" ± {slack}" if slack else ""
        if abs(found - expected) > slack:
            return Outcome(1, f"{found} rows, expected {expected}{around}")
        return Outcome(0, f"{found} rows")

    return Check(
        name=f"rows:{name}", kind="rows", severity=severity, function=count, table=str(name),
        description=f"{name} holds {expected} rows" + (f" ± {slack}" if slack else ""),
        remediation="compare with the source: a short count means rows were lost or filtered out",
        tags=("data", "rows"),
    )


def index_check(table: Name | str, *, index: str | None = None, columns: Sequence[str] = (),
                severity: Severity = "error") -> Check:
    """An index exists on `table`: by name, or by key columns (the leading columns, in order)."""
    name = table if isinstance(table, Name) else Name.parse(table)
    if not index and not columns:
        raise PgConvoyError(f"index check on {name} needs an index name or columns")
    what = index or f"({', '.join(columns)})"
    query = sql.SQL(
        "SELECT format('no index %s on %s', {what}, {table}) AS detail\n"
        "WHERE NOT EXISTS (\n"
        "  SELECT 1 FROM pg_catalog.pg_index i\n"
        "  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid\n"
        "  WHERE i.indrelid = to_regclass(format('%I.%I', {schema}, {name}))\n"
        "    AND ({index}::name IS NULL OR ic.relname = {index}::name)\n"
        "    AND (cardinality({columns}::name[]) = 0 OR\n"
        "         (SELECT array_agg(a.attname ORDER BY k.ord)\n"
        "          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)\n"
        "          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum\n"
        "          WHERE k.ord <= cardinality({columns}::name[])) = {columns}::name[]))"
    ).format(
        what=sql.Literal(what), table=sql.Literal(str(name)), schema=sql.Literal(name.schema),
        name=sql.Literal(name.name), index=sql.Literal(index), columns=sql.Literal(list(columns)),
    )
    return Check(
        name=f"index:{name}.{what}", kind="index", severity=severity, sql=query, table=str(name),
        description=f"index {what} exists on {name}", remediation="create the index (see the group's schema file)",
        tags=("schema", "index"),
    )


def rls_check(table: Name | str, *, enabled: bool = True, policies: Iterable[str] = (),
              severity: Severity = "error") -> Check:
    """Row level security on `table` is enabled (when `enabled`) and each named policy exists."""
    name = table if isinstance(table, Name) else Name.parse(table)
    wanted = sorted(set(policies))
    query = sql.SQL(
        "WITH t AS (SELECT to_regclass(format('%I.%I', {schema}, {name})) AS oid)\n"
        "SELECT format('table %s does not exist', {table}) AS detail FROM t WHERE t.oid IS NULL\n"
        "UNION ALL\n"
        "SELECT format('row level security is disabled on %s', {table})\n"
        "FROM t JOIN pg_catalog.pg_class c ON c.oid = t.oid WHERE {enabled} AND NOT c.relrowsecurity\n"
        "UNION ALL\n"
        "SELECT format('policy %s is missing on %s', w.policy, {table})\n"
        "FROM t CROSS JOIN unnest({policies}::name[]) AS w(policy)\n"
        "WHERE t.oid IS NOT NULL\n"
        "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid AND p.polname = w.policy)"
    ).format(
        schema=sql.Literal(name.schema), name=sql.Literal(name.name), table=sql.Literal(str(name)),
        enabled=sql.Literal(enabled), policies=sql.Literal(wanted),
    )
    expected = ("enabled" if enabled else "as is") + (f", policies {', '.join(wanted)}" if wanted else "")
    return Check(
        name=f"rls:{name}", kind="rls", severity=severity, sql=query, table=str(name),
        description=f"row level security on {name}: {expected}",
        remediation="ALTER TABLE ... ENABLE ROW LEVEL SECURITY and create the missing policies",
        tags=("schema", "rls"),
    )
