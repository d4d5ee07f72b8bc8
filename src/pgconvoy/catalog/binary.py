"""Which tables' rows can travel in binary COPY between two servers of one major version.

Binary COPY sends each value in its type's `send` format, which is about 3x cheaper than text for
vectors and numbers. Most formats hold only the value, but some embed type OIDs, which differ between
two databases for anything not built in: an array's header names its element type (`array_recv`
refuses another), a composite value names the type of each field. So a column is binary-safe when its
type is, recursively:
- a built-in or extension base type with a receive function (an array: of a built-in element type);
- an enum (sent as its label), a domain over a safe type, a range over a safe subtype;
- a built-in multirange.
Composite types, arrays of user-defined types and anything else travel as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from pgconvoy.catalog.model import Name

FIRST_NORMAL_OID = 16384  # below: built into the server, the same OID in every database of a major version

_TYPES = """
WITH RECURSIVE used(oid) AS (
    SELECT DISTINCT a.atttypid
      FROM pg_catalog.pg_attribute a
      JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[]))
       AND a.attnum > 0 AND NOT a.attisdropped
    UNION
    SELECT x.oid
      FROM used u
      JOIN pg_catalog.pg_type t ON t.oid = u.oid
      LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
      CROSS JOIN LATERAL (VALUES (t.typelem), (t.typbasetype), (r.rngsubtype)) AS x(oid)
     WHERE x.oid IS NOT NULL AND x.oid <> 0
)
SELECT t.oid::bigint, t.typtype::text, t.typcategory::text, t.typelem::bigint, t.typbasetype::bigint,
       r.rngsubtype::bigint, t.typreceive <> 0
  FROM used u JOIN pg_catalog.pg_type t ON t.oid = u.oid LEFT JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
"""

_COLUMNS = """
SELECT n.nspname, c.relname, a.atttypid::bigint
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[]))
   AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
"""


def binary_safe_tables(conn: psycopg.Connection[Any], tables: Iterable[Name]) -> frozenset[Name]:
    """The tables among `tables` whose every loaded column is binary-safe (see the module docstring)."""
    names = list(dict.fromkeys(tables))
    if not names:
        return frozenset()
    params = {"schemas": [n.schema for n in names], "names": [n.name for n in names]}
    types = {int(r[0]): r[1:] for r in conn.execute(_TYPES, params).fetchall()}
    safe: dict[int, bool] = {}

    def is_safe(oid: int, depth: int = 0) -> bool:
        if oid in safe:
            return safe[oid]
        row = types.get(oid)
        if row is None or depth > 20:
            return False
        typtype, category, elem, base, subtype, receives = row
        if typtype == "b" and category == "A" and elem:
            ok = elem < FIRST_NORMAL_OID and is_safe(elem, depth + 1)
        elif typtype == "b":
            ok = bool(receives)
        elif typtype == "e":
            ok = True
        elif typtype == "d":
            ok = is_safe(base, depth + 1)
        elif typtype == "r":
            ok = subtype is not None and is_safe(subtype, depth + 1)
        elif typtype == "m":
            ok = oid < FIRST_NORMAL_OID
        else:
            ok = False
        safe[oid] = ok
        return ok

    unsafe = set()
    seen = set()
    for schema, name, oid in conn.execute(_COLUMNS, params).fetchall():
        table = Name(schema, name)
        seen.add(table)
        if not is_safe(int(oid)):
            unsafe.add(table)
    return frozenset(seen - unsafe) | frozenset(n for n in names if n not in seen)  # no columns: nothing to send
