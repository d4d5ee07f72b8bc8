"""Quoting for SQL text written to files, as PostgreSQL's quote_ident / quote_literal do it.

Rendered files are read by people, so identifiers are quoted only when they must be (like pg_dump).
Inside Python, statements are composed with psycopg.sql instead.
"""

from __future__ import annotations

import re

from pgconvoy.catalog.model import Name

# Keywords that quote_ident() quotes: every keyword PostgreSQL does not class as unreserved
# (reserved, column-name and type/function-name keywords), from pg_get_keywords().
KEYWORDS = frozenset("""
all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case
cast char character check coalesce collate collation column concurrently constraint create cross current_catalog
current_date current_role current_schema current_time current_timestamp current_user dec decimal default
deferrable desc distinct do else end except exists extract false fetch float for foreign freeze from full grant
greatest group grouping having ilike in initially inner inout int integer intersect interval into is isnull join
json json_array json_arrayagg json_exists json_object json_objectagg json_query json_scalar json_serialize
json_table json_value lateral leading least left like limit localtime localtimestamp merge_action national natural
nchar none normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay placing
position precision primary real references returning right row select session_user setof similar smallint some
substring symmetric system_user table tablesample then time timestamp to trailing treat trim true union unique
user using values varchar variadic verbose when where window with xmlattributes xmlconcat xmlelement xmlexists
xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable
""".split())

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


def ident(name: str) -> str:
    """`name` as an SQL identifier: bare when that reads back the same, double-quoted otherwise."""
    if _PLAIN.match(name) and name not in KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(name: Name) -> str:
    return f"{ident(name.schema)}.{ident(name.name)}"


def literal(value: str | None) -> str:
    """`value` as an SQL string literal (NULL for None); E'' form when it holds a backslash."""
    if value is None:
        return "NULL"
    quoted = value.replace("'", "''")
    if "\\" in quoted:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def one_line(text: object) -> str:
    """Text for a `--` comment: a line break (or a carriage return, which ends a comment for the
    server too) in a name must not end the comment."""
    return re.sub(r"[\r\n]+", " ", str(text))
