"""Data export details: refusals that protect the data, and the validation files (rollback.sql: test_fidelity)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from targets import write_manifest
from test_data_roundtrip import export, make_source, schema_only_target

from conftest import DatabaseFactory, query, run_sql
from pgconvoy import catalog, data, graph, layout, runner
from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.errors import PgConvoyError

RLS_SOURCE = """
create table public.notes (id int primary key, owner text, body text);
insert into public.notes values (1, 'ann', 'a'), (2, 'bo', 'b');
alter table public.notes enable row level security;
create policy notes_own on public.notes using (owner = current_user);
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'pgconvoy_reader') then
    create role pgconvoy_reader login;
  end if;
end $$;
grant usage on schema public to pgconvoy_reader;
grant select on public.notes to pgconvoy_reader;
"""


def test_a_role_subject_to_row_level_security_is_refused(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql=RLS_SOURCE)
    with psycopg.connect(uri) as conn:
        cat = read_catalog_of(conn)
    plan = layout.single_group(cat, graph.build(cat))
    with psycopg.connect(make_conninfo(uri, user="pgconvoy_reader")) as conn, \
            pytest.raises(PgConvoyError) as caught:
        data.write_data(conn, cat, plan, tmp_path)
    assert caught.value.message == (
        "role pgconvoy_reader cannot read table public.notes without row-level security: "
        "use a role with BYPASSRLS or the table owner"
    )
    assert not (tmp_path / plan.groups[0].data_file).exists()


def read_catalog_of(conn: psycopg.Connection[object]) -> Catalog:
    return catalog.introspect(conn, catalog.Options(schemas=("public",)))


@pytest.mark.parametrize(("ddl", "message"), [
    ("create table public.n (id int unique, parent int references public.n (id))",
     "table public.n has two-pass columns (parent) but no primary key or NOT NULL unique key"),
    ("create table public.n (id int primary key, parent int not null references public.n (id))",
     "two-pass column public.n.parent is NOT NULL, so it cannot load as NULL first"),
])
def test_two_pass_needs_a_key_and_a_nullable_column(new_db: DatabaseFactory, tmp_path: Path, ddl: str,
                                                     message: str) -> None:
    uri = new_db(sql=ddl)
    with psycopg.connect(uri) as conn:
        cat = read_catalog_of(conn)
        # what reconcile refuses (PC205), the export refuses too
        n = Name("public", "n")
        plan = layout.Layout((layout.Group(1, "all", (n,), ((n, ("parent",)),)),))
        with pytest.raises(PgConvoyError, match=message.replace("(", r"\(").replace(")", r"\)")):
            data.write_data(conn, cat, plan, tmp_path)


def test_two_pass_without_primary_key_uses_a_not_null_unique_key(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table public.n (code text not null unique, parent text references public.n (code));"
                        "insert into public.n values ('a', null), ('b', 'c'), ('c', 'b');")
    with psycopg.connect(source) as conn:
        cat = read_catalog_of(conn)
        files = data.write_data(conn, cat, layout.single_group(cat, graph.build(cat)), tmp_path)
    write_manifest(tmp_path, data_files=files)
    target = new_db(sql="create table public.n (code text not null unique, parent text references public.n (code))")
    runner.run(target, tmp_path)
    assert query(target, "select * from public.n order by 1") == [("a", None), ("b", "c"), ("c", "b")]


def test_validation_files(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = make_source(new_db, vector=False)
    target_dir = tmp_path / "target"
    files = export(source, target_dir)
    assert [f.file for f in files] == ["10-data-all.sql"]
    checks = (target_dir / "validate" / "01-all.sql").read_text()
    target = schema_only_target(new_db, source, target_dir, vector=False)

    assert len(query(target, checks)) > 0, "the empty target fails the row counts"
    write_manifest(target_dir, data_files=files)
    runner.run(target, target_dir)
    assert query(target, checks) == []

    # a missing row and a lost second pass are both reported
    run_sql(target, "delete from edge.tickets where id = 3")
    run_sql(target, "update edge.events set parent_id = null, merged_into = null where id = 3")
    failures = {(r[0], r[1], r[2], r[3]) for r in query(target, checks)}
    assert failures == {("edge.tickets", "row count", 2, 3),
                        ("edge.events", "second pass restored merged_into, parent_id", 2, 3)}
