"""The run state, kept in the target itself: the truth about what has been applied there.

A small schema `pgconvoy` on the target holds one row per applied file (compile id, file, sha256, rows,
when), written inside the file's own transaction: a file is applied exactly once, whatever fails between
its COMMIT and any local write (a full disk, a kill). `target/run_results.json` is a report, not the
truth. A session advisory lock stops two runs into one database at once. Nothing of the schema is
removed unless asked (`run --forget-state`, once the migration is done).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.errors import PgConvoyError

SCHEMA = "pgconvoy"
# The advisory lock every pgconvoy run takes on its target: "pgconvoy" as a 64-bit number.
LOCK_KEY = int.from_bytes(b"pgconvoy", "big") & ((1 << 63) - 1)

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
COMMENT ON SCHEMA {SCHEMA} IS 'pgconvoy run state: the files of a migration applied here, one row each, written in
the same transaction as the file (pgconvoy run --forget-state removes it once the migration is done)';
CREATE TABLE IF NOT EXISTS {SCHEMA}.applied (
    compile_id text NOT NULL,
    file text NOT NULL,
    sha256 text NOT NULL,
    rows bigint NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (compile_id, file)
)"""


@dataclass(frozen=True, slots=True)
class Applied:
    compile_id: str
    file: str
    sha256: str
    rows: int
    finished_at: datetime


def lock(conn: psycopg.Connection[Any]) -> None:
    """Hold the run lock for the session, or say who holds it."""
    row = conn.execute("SELECT pg_catalog.pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
    conn.commit()
    if row and row[0]:
        return
    holder = conn.execute(
        "SELECT a.pid, a.usename, a.application_name, a.backend_start FROM pg_catalog.pg_locks l "
        "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s AND l.database = "
        "(SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())", (LOCK_KEY,)).fetchone()
    conn.commit()
    who = f" (pid {holder[0]}, {holder[1]}, {holder[2]}, since {holder[3]:%Y-%m-%d %H:%M:%S})" if holder else ""
    raise PgConvoyError(f"another pgconvoy run is applying a migration to this database{who}",
                        hint="wait for it to finish; two runs at once would load the same rows twice")


def read(conn: psycopg.Connection[Any]) -> list[Applied]:
    """What the target says was applied (nothing when it has no run state)."""
    exists = conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.applied",)).fetchone()
    if not exists or not exists[0]:
        conn.commit()
        return []
    rows = conn.execute(sql.SQL("SELECT compile_id, file, sha256, rows, finished_at FROM {} ORDER BY finished_at")
                        .format(sql.Identifier(SCHEMA, "applied"))).fetchall()
    conn.commit()
    return [Applied(*r) for r in rows]


def prepare(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute(_DDL.encode())


def record(cur: psycopg.Cursor[Any], compile_id: str, file: str, sha256: str, rows: int) -> None:
    """Inside the file's transaction: committed with it, or not at all."""
    cur.execute(sql.SQL("INSERT INTO {} (compile_id, file, sha256, rows) VALUES (%s, %s, %s, %s)")
                .format(sql.Identifier(SCHEMA, "applied")), (compile_id, file, sha256, rows))


def forget(conn: psycopg.Connection[Any]) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
