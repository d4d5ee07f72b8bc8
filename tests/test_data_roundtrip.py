"""The data round trip: every kind of value leaves the source and arrives in the target unchanged.

The target's schema comes from `pg_dump --schema-only` (this tests the data files alone), with the
triggers moved to a post-data file, as the schema renderer does. Source and target are compared with
row counts and an order-independent checksum of each table's rows, computed in SQL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from targets import write_manifest

from conftest import DatabaseFactory, load_sql, query, run_sql
from pgconvoy import catalog, data, embedded, graph, layout, runner
from pgconvoy.catalog.model import Catalog

TRIGGERS_FILE = "20-post-triggers.sql"


def make_source(new_db: DatabaseFactory, *, vector: bool = True) -> str:
    uri = new_db(files=["sample:supabase_platform"])
    if vector:
        run_sql(uri, "create extension if not exists vector with schema extensions")
    run_sql(uri, load_sql("values_edge.sql"))
    if vector:
        run_sql(uri, load_sql("values_vector.sql"))
    return uri


def read_catalog(uri: str) -> Catalog:
    with psycopg.connect(uri) as conn:
        return catalog.introspect(conn, catalog.Options(schemas=("edge",)))


def export(uri: str, target_dir: Path, fmt: layout.DataFormat = "copy") -> list[data.DataFileInfo]:
    cat = read_catalog(uri)
    plan = layout.single_group(cat, graph.build(cat), data_format=fmt)
    with psycopg.connect(uri) as conn:
        return data.write_data(conn, cat, plan, target_dir, fmt=fmt)


def schema_only_target(new_db: DatabaseFactory, source: str, target_dir: Path, *, vector: bool = True,
                       bin_dir: Path | None = None) -> str:
    """An empty target with the source's schema, its triggers moved into a post-data file of target_dir."""
    target = new_db(files=["sample:supabase_platform"])
    if vector:
        run_sql(target, "create extension if not exists vector with schema extensions")
    dump_schema(source, target, bin_dir or embedded.bin_dir())
    move_triggers(target, target_dir)
    return target


def dump_schema(source: str, target: str, bin_dir: Path) -> None:
    dump = subprocess.run([str(bin_dir / "pg_dump"), "--schema-only", "--schema=edge", "--no-owner", "-d", source],
                          check=True, capture_output=True)
    subprocess.run([str(embedded.bin_dir() / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target],
                   input=dump.stdout, check=True, capture_output=True)


def move_triggers(target: str, target_dir: Path) -> None:
    triggers = query(target, "select pg_get_triggerdef(t.oid), t.tgname, n.nspname, c.relname from pg_trigger t "
                             "join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace "
                             "where not t.tgisinternal order by 2")
    assert triggers, "the fixture has triggers"
    with psycopg.connect(target) as conn:
        for _, name, schema, table in triggers:
            conn.execute(sql.SQL("drop trigger {} on {}").format(sql.Identifier(str(name)),
                                                                 sql.Identifier(str(schema), str(table))))
    target_dir.mkdir(parents=True, exist_ok=True)
    (target_dir / TRIGGERS_FILE).write_text("".join(f"{row[0]};\n" for row in triggers))


def table_checksums(uri: str) -> dict[str, tuple[object, ...]]:
    """Per table (partitions on their own, so rows must land in the same partition): rows and checksum."""
    with psycopg.connect(uri) as conn:
        conn.execute("set timezone = 'UTC'")
        conn.execute("set extra_float_digits = 3")
        names = conn.execute(
            "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'edge' and c.relkind = 'r' order by 1, 2").fetchall()
        result = {}
        for schema, name in names:
            row = conn.execute(sql.SQL(
                "select count(*), md5(coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '')) "
                "from only {} t").format(sql.Identifier(schema, name))
            ).fetchone()
            assert row is not None
            result[f"{schema}.{name}"] = tuple(row)
        return result


def sequence_positions(uri: str) -> dict[str, tuple[object, ...]]:
    rows = query(uri, "select format('%I.%I', schemaname, sequencename), last_value from pg_sequences "
                      "where schemaname = 'edge' order by 1")
    return {str(r[0]): tuple(r[1:]) for r in rows}


def updated_at(uri: str) -> list[tuple[object, ...]]:
    return query(uri, "select 'kinds', id::int, updated_at from edge.kinds union all "
                      "select 'events', id, updated_at from edge.events order by 1, 2")


def assert_same(source: str, target: str) -> None:
    expected = table_checksums(source)
    assert len(expected) >= 7
    assert table_checksums(target) == expected
    assert sequence_positions(target) == sequence_positions(source)
    assert updated_at(target) == updated_at(source)


@pytest.mark.parametrize("fmt", ["copy", "insert"])
def test_round_trip_keeps_every_value(new_db: DatabaseFactory, tmp_path: Path, fmt: layout.DataFormat) -> None:
    source = make_source(new_db)
    target_dir = tmp_path / "target"
    files = export(source, target_dir, fmt)
    target = schema_only_target(new_db, source, target_dir)
    write_manifest(target_dir, data_files=files)

    result = runner.run(target, target_dir)

    assert [f.status for f in result.files] == ["done"] * 3
    assert_same(source, target)
    rows = {str(t.table): t.rows for f in files for t in f.tables}
    counted = {k.split(".", 1)[1]: v[0] for k, v in table_checksums(source).items()}
    assert rows["edge.kinds"] == counted["kinds"] == 6
    assert rows["edge.readings"] == counted["readings_2024"] + counted["readings_2025"] == 4
    # the triggers exist on the target afterwards, and work there
    run_sql(target, "update edge.events set title = 'changed' where id = 4")
    assert query(target, "select updated_at > now() - interval '1 minute' from edge.events where id = 4") == [(True,)]


def test_round_trip_from_postgres_15_to_18(pg15: str, new_db: DatabaseFactory, tmp_path: Path) -> None:
    with psycopg.connect(pg15, autocommit=True) as conn:
        conn.execute("drop database if exists edge15")
        conn.execute("create database edge15 template template0")
        assert conn.info.server_version // 10000 == 15
    source = pg15.replace("dbname=postgres", "dbname=edge15")
    run_sql(source, load_sql("sample:supabase_platform"))
    run_sql(source, load_sql("values_edge.sql"))
    target_dir = tmp_path / "target"
    files = export(source, target_dir)
    target = schema_only_target(new_db, source, target_dir, vector=False)
    write_manifest(target_dir, data_files=files, source_version=150000)

    runner.run(target, target_dir)

    assert query(target, "select current_setting('server_version_num')::int / 10000") == [(18,)]
    assert_same(source, target)


@pytest.mark.parametrize("fmt", ["copy", "insert"])
def test_round_trip_with_the_rendered_schema(new_db: DatabaseFactory, tmp_path: Path, fmt: layout.DataFormat) -> None:
    """The whole target/ (the placed schema archive and these data files) applied by the runner."""
    from fidelity import schema_side

    source = make_source(new_db)
    cat = read_catalog(source)
    plan = layout.single_group(cat, graph.build(cat), data_format=fmt)
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    with psycopg.connect(source) as conn:
        side = schema_side(conn, source, cat, plan, catalog.Options(schemas=("edge",)))
        for name, text in side.files.items():
            (target_dir / name).write_text(text)
        files = data.write_data(conn, cat, plan, target_dir)
    write_manifest(target_dir, data_files=files)
    target = new_db(files=["sample:supabase_platform"])
    run_sql(target, "create extension if not exists vector with schema extensions")

    result = runner.run(target, target_dir)

    assert all(f.status == "done" for f in result.files)
    assert_same(source, target)
