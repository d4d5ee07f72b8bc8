"""Bundled sample databases, reachable as `sample:NAME` connection strings.

A sample lives in a database of the shared embedded server, loaded once; it is reloaded when the
bundled SQL changes (the SQL's sha256 is kept as the database's comment).
"""

from __future__ import annotations

import hashlib
from importlib import resources

import fasteners
import psycopg
from psycopg import sql

from pgconvoy import embedded
from pgconvoy.errors import ConnectionFailed

STUB = "supabase_platform"  # the Supabase stand-in every sample and Supabase-shaped scratch starts from


def available() -> list[str]:
    names = [p.name.removesuffix(".sql") for p in resources.files(__name__).iterdir() if p.name.endswith(".sql")]
    return sorted(n for n in names if n != STUB)


def sql_text(name: str) -> str:
    """The SQL that builds sample `name` (or the Supabase stub) in an empty database."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def ensure(name: str) -> str:
    """Make sure sample `name` is loaded on the embedded server; return a URI to its database."""
    if name not in available():
        raise ConnectionFailed(
            f"unknown sample {name!r}", hint=f"available samples: {', '.join(available()) or 'none'}"
        )
    script = sql_text(STUB) + "\n" + sql_text(name)
    digest = hashlib.sha256(script.encode()).hexdigest()
    dbname = f"sample_{name}"
    base = embedded.default_server()
    with fasteners.InterProcessLock(str(embedded.home() / "samples.lock")):
        if _loaded_digest(base, dbname) != digest:
            uri = embedded.create_database(base, dbname, replace=True)
            load(uri, script)
            with psycopg.connect(uri, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(dbname), sql.Literal(digest))
                )
    return embedded.with_database(base, dbname)


def load(uri: str, script: str) -> None:
    """Run a multi-statement SQL script in one transaction."""
    with psycopg.connect(uri) as conn, conn.cursor() as cur:
        # No parameters: psycopg sends the script with the simple query protocol, all statements at once.
        cur.execute(script.encode())


def _loaded_digest(base: str, dbname: str) -> str | None:
    with psycopg.connect(base) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (dbname,)
        ).fetchone()
    return None if row is None else row[0]
