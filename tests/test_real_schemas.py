"""Nothing lost on schemas nobody here wrote: public schemas of real applications (tests/sql/real/,
provenance in each file's header) go through init -> compile -> run into an empty target and come out
as pg_dump | pg_restore gives them, line for line, with the same data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fidelity import NOT_MIGRATED, assert_same_lines, data_lines, migrate, prepared_target, restored_copy, schema_lines

from conftest import SQL_DIR, DatabaseFactory, load_sql, pg15_database, query, run_sql
from pgconvoy import catalog, compare, embedded
from pgconvoy.connect import connect

REAL = sorted(p.name for p in (SQL_DIR / "real").glob("*.sql"))
# PostgreSQL 15 lacks what these use (uuidv7(), virtual generated columns, pgvector).
NOT_ON_15 = {"pagila.sql"}


def load(uri: str, name: str) -> None:
    """With psql, as their projects load them (some carry COPY ... FROM stdin data)."""
    if name.startswith("supabase_"):
        run_sql(uri, load_sql("sample:supabase_platform"))
    subprocess.run([str(embedded.bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", uri,
                    "-f", str(SQL_DIR / "real" / name)], check=True, capture_output=True)


def migrated_schemas(uri: str) -> list[str]:
    with connect(uri) as conn:
        return [s.name for s in catalog.introspect(conn, catalog.Options(rows="none")).schemas]


@pytest.mark.parametrize("name", REAL)
def test_real_schema_round_trip(new_db: DatabaseFactory, tmp_path: Path, name: str) -> None:
    source = new_db()
    load(source, name)
    schemas = migrated_schemas(source)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", schemas)
    restored_copy(source, copy, NOT_MIGRATED)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    assert_same_lines(data_lines(source, NOT_MIGRATED), data_lines(target, NOT_MIGRATED), "the data")
    assert compare.compare_urls(source, target, schemas=schemas).equal


@pytest.mark.parametrize("name", [n for n in REAL if n not in NOT_ON_15])
def test_real_schema_from_postgres_15(pg15: str, new_db: DatabaseFactory, tmp_path: Path, name: str) -> None:
    source = pg15_database(pg15, "real_" + name.removesuffix(".sql"))
    load(source, name)
    assert query(source, "select current_setting('server_version_num')::int / 10000") == [(15,)]
    schemas = migrated_schemas(source)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", schemas)
    restored_copy(source, copy, NOT_MIGRATED)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    assert_same_lines(data_lines(source, NOT_MIGRATED), data_lines(target, NOT_MIGRATED), "the data")
