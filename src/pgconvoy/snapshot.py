"""One consistent, locked snapshot of the source for a whole compile.

The transaction is REPEATABLE READ READ ONLY and takes ACCESS SHARE locks on every migrated table
before its first query, so its snapshot is taken once they are held: a TRUNCATE (not MVCC-safe) or a
DROP committed by another session either finished before the snapshot or waits for the compile to end.
The snapshot is exported: pg_dump joins it (`--snapshot`), so the catalog read, the schema archive and
every row exported describe the same moment, as pgcopydb and pg_dump -j do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.catalog.model import Name
from pgconvoy.errors import PgConvoyError

DEFAULT_LOCK_TIMEOUT_MS = 10_000


@contextmanager
def locked(conn: psycopg.Connection[Any], tables: Sequence[Name], *,
           lock_timeout_ms: int = DEFAULT_LOCK_TIMEOUT_MS, statement_timeout_ms: int = 0) -> Iterator[str]:
    """A transaction holding ACCESS SHARE on `tables`; yields the id of its exported snapshot.
    `statement_timeout_ms` bounds each query of the compile (0: no limit)."""
    conn.rollback()
    try:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{statement_timeout_ms}ms")))
            if tables:
                conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(
                    sql.SQL(", ").join(sql.Identifier(t.schema, t.name) for t in tables)))
            row = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()
            assert row is not None
            yield str(row[0])
    except psycopg.errors.LockNotAvailable:
        raise PgConvoyError(
            f"could not lock the tables to export within {lock_timeout_ms / 1000:g}s: {_blockers(conn, tables)}",
            hint="wait for that session to finish, or raise timeouts: compile: lock: in project.yml",
        ) from None
    except psycopg.errors.OutOfMemory as exc:
        hint = (exc.diag.message_hint or "").strip()
        raise PgConvoyError(f"the source cannot lock {len(tables)} tables at once: {exc.diag.message_primary}",
                            hint=hint or None) from None


def _blockers(conn: psycopg.Connection[Any], tables: Sequence[Name]) -> str:
    """Who holds a lock that conflicts with ACCESS SHARE on one of `tables`."""
    conn.rollback()
    names = [f"{sql.Identifier(t.schema, t.name).as_string(conn)}" for t in tables]
    rows = conn.execute(
        "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), a.pid, a.usename, "
        "left(a.query, 60) "
        "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
        "JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.relation = ANY(%s::regclass[]) "
        "ORDER BY 1 LIMIT 3", (names,),
    ).fetchall()
    conn.rollback()
    if not rows:
        return "a table is locked by another session"
    return "; ".join(f"{table} is locked by pid {pid} ({user}: {query!r})" for table, pid, user, query in rows)
