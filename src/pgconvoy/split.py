"""Large tables in parts: the largest table sets the wall time of a parallel load unless it is split.

A table larger than `data: split_larger_than` (pg_table_size) is read and loaded as ceil(size / limit)
parts, each a unit of work: equal ranges of its integer primary key when it has one (an index scan
each), else equal ranges of its pages (`ctid`, a TID range scan from PostgreSQL 14 on). The first part
has no lower bound and the last no upper one, so a row outside the ranges seen at compile (a key beyond
max, a page added since) still belongs to exactly one part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.catalog.model import Name, Table

MAX_PARTS = 64
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
CTID = "ctid"


@dataclass(frozen=True, slots=True)
class Part:
    by: str  # the key column, or "ctid" (pages)
    lower: int | None  # inclusive; None: no bound
    upper: int | None  # exclusive
    index: int  # 1-based
    of: int


def plan_parts(conn: psycopg.Connection[Any], tables: Sequence[Table], limit: int | None) -> dict[Name, list[Part]]:
    """The parts of each table of `tables` larger than `limit` bytes (in the caller's snapshot)."""
    plain = [t for t in tables if t.kind == "table"]
    if limit is None or not plain:
        return {}
    rows = conn.execute(
        "SELECT n, pg_catalog.pg_table_size(pg_catalog.format('%%I.%%I', s, n)::regclass), "
        "pg_catalog.pg_relation_size(pg_catalog.format('%%I.%%I', s, n)::regclass) / "
        "pg_catalog.current_setting('block_size')::bigint, s FROM unnest(%s::text[], %s::text[]) AS t(s, n)",
        ([t.schema for t in plain], [t.name for t in plain])).fetchall()
    found: dict[Name, list[Part]] = {}
    for name, size, pages, schema in rows:
        count = min(MAX_PARTS, math.ceil(int(size) / limit))
        if count < 2:
            continue
        table = next(t for t in plain if t.qualified == Name(schema, name))
        bounds = _key_bounds(conn, table)
        if bounds is not None:
            column, low, high = bounds
            found[table.qualified] = _ranges(column, low, high + 1, count)
        elif int(pages) >= count:
            found[table.qualified] = _ranges(CTID, 0, int(pages), count)
    return found


def _key_bounds(conn: psycopg.Connection[Any], table: Table) -> tuple[str, int, int] | None:
    key = next((c.columns for c in table.constraints if c.kind == "primary key"), ())
    column = table.column(key[0]) if len(key) == 1 else None
    if column is None or column.type not in INTEGER_TYPES:
        return None
    row = conn.execute(sql.SQL("SELECT min({c}), max({c}) FROM ONLY {t}").format(
        c=sql.Identifier(column.name), t=sql.Identifier(table.schema, table.name))).fetchone()
    if row is None or row[0] is None:
        return None
    return column.name, int(row[0]), int(row[1])


def _ranges(by: str, low: int, high: int, count: int) -> list[Part]:
    width = max(1, math.ceil((high - low) / count))
    cuts = [low + i * width for i in range(1, count)]
    lowers: list[int | None] = [None, *cuts]
    uppers: list[int | None] = [*cuts, None]
    return [Part(by, lo, up, i + 1, count) for i, (lo, up) in enumerate(zip(lowers, uppers, strict=True))]


def where(by: str, lower: int | None, upper: int | None) -> sql.Composable:
    """The condition selecting one part's rows."""
    conditions = []
    if by == CTID:
        if lower is not None:
            conditions.append(sql.SQL("ctid >= {}::pg_catalog.tid").format(sql.Literal(f"({lower},0)")))
        if upper is not None:
            conditions.append(sql.SQL("ctid < {}::pg_catalog.tid").format(sql.Literal(f"({upper},0)")))
    else:
        if lower is not None:
            conditions.append(sql.SQL("{} >= {}").format(sql.Identifier(by), sql.Literal(lower)))
        if upper is not None:
            conditions.append(sql.SQL("{} < {}").format(sql.Identifier(by), sql.Literal(upper)))
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true")
