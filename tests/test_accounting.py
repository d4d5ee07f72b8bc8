"""Every object accounted for: what compile cannot put in target/ is named in a finding, one test per
reason, and the accounting is not blind (an entry a placement loses is named)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import psycopg
import pytest

from conftest import DatabaseFactory, invoke, run_sql
from pgconvoy import accounting, catalog, compiler, graph, layout
from pgconvoy.catalog.objects import read_objects
from pgconvoy.connect import resolve
from pgconvoy.placement import Placement

EVERY_KIND = ["sample:supabase_platform", "every_kind.sql", "every_kind_pg18.sql"]


def compile_json(source: str, directory: Path, schemas: str, exclude: str = "") -> dict[str, object]:
    assert invoke("init", "--source", source, "--schemas", schemas, "--dir", str(directory)).exit_code == 0
    if exclude:
        project = directory / "project.yml"
        project.write_text(project.read_text().replace("exclude: []", f"exclude: [{exclude}]"))
        for group in (directory / "groups").glob("*.yml"):  # init listed it: exclude: alone holds it now
            group.unlink()
        (directory / "groups" / "01-kept.yml").write_text("tables: [kept]\n")
    result = invoke("compile", "--project-dir", str(directory), "--source", source, "--format", "json")
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def findings(doc: dict[str, object], code: str) -> list[dict[str, str]]:
    return [f for f in doc["findings"] if f["code"] == code]  # type: ignore[attr-defined, index]


@pytest.fixture(scope="module")
def every_kind(pg_server: str) -> tuple[str, catalog.Catalog, object, object, Placement]:
    """The every-kind source with its objects, archive and a one-group placement (read once)."""
    from pgconvoy import embedded, placement

    uri = embedded.create_database(pg_server, "accounting_every_kind", replace=True)
    from conftest import load_sql

    for name in EVERY_KIND:
        run_sql(uri, load_sql(name))
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=("kinds", "kinds_pub"), rows="none"))
        objects = read_objects(conn, ["kinds", "kinds_pub"])
    with psycopg.connect(uri) as conn:
        covered = catalog.scope(conn, catalog.Options(schemas=("kinds", "kinds_pub")))
    archive = compiler.take_archive(resolve(uri), covered)
    plan = layout.single_group(cat, graph.build(cat))
    return uri, cat, objects, archive, placement.place(archive, objects, cat, plan)


def test_a_complete_placement_has_nothing_to_report(every_kind) -> None:  # type: ignore[no-untyped-def]
    _, _, objects, archive, placed = every_kind
    assert accounting.account(objects, archive, placed) == []


LOST = ["TABLE", "TRIGGER", "STATISTICS", "COMMENT", "ACL", "ROW SECURITY", "USER MAPPING", "BLOB METADATA",
        "CAST", "DEFAULT ACL", "EVENT TRIGGER", "PUBLICATION", "OPERATOR CLASS", "TRANSFORM"]


@pytest.mark.parametrize("desc", LOST)
def test_an_entry_the_placement_loses_is_named(every_kind, desc: str) -> None:  # type: ignore[no-untyped-def]
    _, _, objects, archive, placed = every_kind
    files = {name: list(entries) for name, entries in placed.files.items()}
    name, lost = next((n, p) for n, entries in files.items() for p in entries if p.entry.desc == desc)
    files[name].remove(lost)
    found = accounting.account(objects, archive, dataclasses.replace(placed, files=files))
    assert found and all(f.code == accounting.NOT_MIGRATED for f in found), found
    assert any(lost.obj is None or lost.obj.identity in f.message for f in found), found


def test_excluded_tables_objects_are_named(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table kept (id int primary key); create table left_out (id int primary key, "
                        "v text); create index on left_out (v); comment on table left_out is 'x';")
    doc = compile_json(source, tmp_path, "public", "public.left_out")
    (finding,) = findings(doc, "PC602")
    assert finding["severity"] == "info" and "public.left_out" in finding["message"]
    assert doc["ok"]


def test_database_settings_are_named(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table t (id int primary key);")
    name = psycopg.conninfo.conninfo_to_dict(source)["dbname"]
    run_sql(source, f'alter database "{name}" set work_mem = \'64MB\'; comment on database "{name}" is \'app\'')
    doc = compile_json(source, tmp_path, "public")
    (finding,) = findings(doc, "PC603")
    assert finding["severity"] == "warn" and "settings" in finding["message"] and "comment" in finding["message"]


def test_grants_on_what_pg_dump_does_not_dump_are_named(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """A range's constructor function has no archive entry (CREATE TYPE makes it), so a grant on it is
    lost by pg_dump | pg_restore too: compile says so instead of passing silently."""
    source = new_db(sql="create type span as range (subtype = int4); create table t (id int primary key, s span);"
                        "grant execute on function span(int4, int4) to public;"
                        "revoke execute on function span(int4, int4) from public;")
    doc = compile_json(source, tmp_path, "public")
    (finding,) = findings(doc, "PC601")
    assert finding["severity"] == "error" and "privileges on function public.span(integer,integer)" in \
        finding["message"]
    assert not doc["ok"] and not (tmp_path / "target").exists()


def test_subscriptions_pg_dump_cannot_read_are_named(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table t (id int primary key); create publication p for table t;")
    name = psycopg.conninfo.conninfo_to_dict(source)["dbname"]
    run_sql(source, "create subscription s connection 'dbname=nowhere' publication p "
                    "with (connect = false, slot_name = none)")
    run_sql(source, "create role pc_subscription_reader login; grant pg_read_all_data to pc_subscription_reader")
    try:
        reader = psycopg.conninfo.make_conninfo(source, user="pc_subscription_reader")
        doc = compile_json(reader, tmp_path, "public")
    finally:
        run_sql(source, "alter subscription s disable; alter subscription s set (slot_name = none); "
                        "drop subscription s; drop owned by pc_subscription_reader; drop role pc_subscription_reader")
    (finding,) = findings(doc, "PC601")
    assert "subscription s" in finding["message"] and "superuser" in finding["message"], name
