"""Shared fixtures: a real embedded PostgreSQL 18 for the whole session, a fresh database per test.

Nothing here mocks the database: every test that touches one talks to a real server.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from pgconvoy import embedded
from pgconvoy.cli import main

SQL_DIR = Path(__file__).parent / "sql"
PG15_BIN = Path("/usr/lib/postgresql/15/bin")
PG15_USER = "embedded_postgres"  # initdb refuses to run as root
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    # Samples and scratch servers of the test run live in a private home, removed with the temp dir.
    os.environ.setdefault("PGCONVOY_HOME", tempfile.mkdtemp(prefix="pgconvoy-home-"))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """Base URI of an embedded PostgreSQL 18 server, started once for the session.

    Its directory is not under pytest's tmp_path: pytest prunes old basetemp folders, which would pull the
    data directory from under a server of a run going on at the same time."""
    return embedded.start(Path(tempfile.mkdtemp(prefix="pgconvoy-test-")) / "pgdata", delete_on_exit=True)


DatabaseFactory = Callable[..., str]


@pytest.fixture
def new_db(pg_server: str) -> Iterator[DatabaseFactory]:
    """Create empty databases on the session server: `new_db()` or `new_db(sql=..., files=[...])`.

    `files` are names of SQL files under tests/sql (or package samples as 'sample:NAME')."""
    created: list[str] = []

    def make(*, sql: str | None = None, files: tuple[str, ...] | list[str] = ()) -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        uri = embedded.create_database(pg_server, name)
        created.append(name)
        for f in files:
            run_sql(uri, load_sql(f))
        if sql:
            run_sql(uri, sql)
        return uri

    yield make
    for name in created:
        embedded.drop_database(pg_server, name)


@pytest.fixture
def roles(pg_server: str) -> Iterator[list[str]]:
    """Names for roles a test creates on the session server; dropped afterwards, with what they own or were
    granted in every database."""
    names: list[str] = []
    yield names
    if not names:
        return
    with psycopg.connect(pg_server, autocommit=True) as conn:
        present = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
                                              (names,)).fetchall()]
        databases = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datallowconn").fetchall()]
    if not present:
        return
    owned = sql.SQL("DROP OWNED BY {}").format(sql.SQL(", ").join(map(sql.Identifier, present)))
    for database in databases:
        with psycopg.connect(embedded.with_database(pg_server, database), autocommit=True) as conn:
            conn.execute(owned)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in present:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def new_role(roles: list[str], pg_server: str, options: str = "NOLOGIN") -> str:
    """A role of the session server, named for this test process, dropped by the `roles` fixture."""
    name = f"pf{os.getpid()}_{next(_counter)}"
    roles.append(name)
    run_sql(pg_server, f'CREATE ROLE "{name}" {options}')
    return name


REPO = Path(__file__).parent.parent


def invoke(*args: str) -> Result:
    """Run a pgconvoy command in-process; re-raise a crash, and never let a traceback reach the user."""
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.output
    return result


def repository_project(directory: Path) -> Path:
    """A copy of the repository's own project (the sample's manifests), free to write target/ into."""
    ignore = shutil.ignore_patterns(".venv", "target", ".git", "src", "tests", "benchmarks")
    shutil.copytree(REPO, directory, ignore=ignore)
    return directory


def load_sql(name: str) -> str:
    if name.startswith("sample:"):
        from pgconvoy import samples

        return samples.sql_text(name.removeprefix("sample:"))
    return (SQL_DIR / name).read_text()


def run_sql(uri: str, script: str) -> None:
    with psycopg.connect(uri) as conn:
        conn.execute(script.encode())


def query(uri: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(uri) as conn:
        return conn.execute(statement.encode(), params or None).fetchall()


@pytest.fixture(scope="session")
def pg15(pg_server: str) -> Iterator[str]:
    """A PostgreSQL 15 server in a temporary directory (Debian's packages), for cross-version runs.

    It runs as the user the embedded server already runs as when the tests run as root."""
    if not (PG15_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG15_BIN}")
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="pgconvoy-pg15-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(PG15_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no user {PG15_USER} to run PostgreSQL 15")
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", PG15_USER, "--"]
    pgdata = base / "data"
    subprocess.run([*as_user, str(PG15_BIN / "initdb"), "-D", str(pgdata), "--auth=trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C"], check=True, capture_output=True)
    subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(pgdata), "-o", f"-k {base} -h '' -p 5432",
                    "-l", str(base / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"host={base} port=5432 user=postgres dbname=postgres"
    finally:
        subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def pg15_database(pg15: str, name: str) -> str:
    """A fresh database on the PostgreSQL 15 server."""
    with psycopg.connect(pg15, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}" template template0')
    return pg15.replace("dbname=postgres", f"dbname={name}")
