"""compare against real databases: two loaded from the same fixture are equal; each single change is found."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from rich.console import Console

from conftest import DatabaseFactory, invoke, query, run_sql
from pgconvoy import compare
from pgconvoy.errors import ConnectionFailed

FILES = ["compare_schema.sql", "compare_rows.sql"]


@pytest.fixture
def pair(new_db: DatabaseFactory) -> tuple[str, str]:
    return new_db(files=FILES), new_db(files=FILES)


def test_databases_loaded_from_one_fixture_are_equal(pair: tuple[str, str]) -> None:
    result = compare.compare_urls(*pair)
    assert result.differences == ()
    assert result.equal and compare.compare_exit_code(result) == 0
    doc = json.loads(compare.to_json(result))
    assert doc == {
        "equal": True,
        "tables": [
            {"name": "public.hotels", "rows_a": 3, "rows_b": 3, "checksum_equal": True},
            {"name": "public.tenants", "rows_a": 2, "rows_b": 2, "checksum_equal": True},
        ],
        "differences": [],
    }


def test_checksum_does_not_depend_on_physical_row_order(new_db: DatabaseFactory) -> None:
    a = new_db(files=FILES)
    b = new_db(files=["compare_schema.sql", "compare_rows_reversed.sql"])
    # The heaps really are in different orders ...
    assert query(a, "select id from public.hotels order by ctid") == [(1,), (2,), (3,)]
    assert query(b, "select id from public.hotels order by ctid") == [(3,), (2,), (1,)]
    # ... and the content is the same.
    assert compare.compare_urls(a, b).equal


CHANGES = [
    ("update public.hotels set stars = 3 where id = 1", ("checksum", "public.hotels", "same 3 rows")),
    ("update public.hotels set tags = null where id = 2", ("checksum", "public.hotels", "same 3 rows")),
    ("update public.hotels set price = 120.51 where id = 1", ("checksum", "public.hotels", "same 3 rows")),
    ("delete from public.hotels where id = 2", ("rows", "public.hotels", "3 vs 2")),
    ("select setval('public.hotels_id_seq', 1)", ("sequence", "public.hotels_id_seq", "last_value 3 vs 1")),
    ("select setval('public.hotels_id_seq', 3, false)",
     ("sequence", "public.hotels_id_seq", "last_value 3 vs not called")),
    # Schema: each object of pg_dump's archive, by its type and name, and where the two texts part.
    ("drop policy hotels_tenant_read on public.hotels",
     ("policy", "public.hotels hotels_tenant_read", "missing in B")),
    ("alter policy hotels_tenant_read on public.hotels using (tenant_id = 2)",
     ("policy", "public.hotels hotels_tenant_read", "((tenant_id = 1))' vs '...OR SELECT USING ((tenant_id = 2))")),
    ("alter table public.hotels alter column name set default 'x'",
     ("table", "public.hotels", "DEFAULT 'unnamed'::text NOT NULL\" vs \"name text DEFAULT 'x'::text")),
    ("alter table public.hotels alter column kind set not null",
     ("table", "public.hotels", "'kind public.room_kind' vs 'kind public.room_kind NOT NULL'")),
    ("drop index public.hotels_tenant_id_idx", ("index", "public.hotels_tenant_id_idx", "missing in B")),
    ("alter table public.hotels disable row level security", ("row security", "public.hotels", "missing in B")),
    ("alter table public.hotels drop constraint hotels_stars_check",
     ("table", "public.hotels", "only A has CONSTRAINT hotels_stars_check CHECK")),
    ("alter table public.hotels drop constraint hotels_tenant_id_fkey",
     ("fk constraint", "public.hotels hotels_tenant_id_fkey", "missing in B")),
    ("create table public.extra (id int)", ("table", "public.extra", "missing in A")),
    ("create or replace view public.hotel_names as select id, name, stars from public.hotels",
     ("view", "public.hotel_names", "only B has stars")),
    ("create or replace function public.hotel_count() returns bigint language sql stable as $$ select 1::bigint $$",
     ("function", "public.hotel_count()", "select count(*) from public.hotels $$' vs 'AS $$ select 1::bigint")),
    ("alter type public.room_kind add value 'family'", ("type", "public.room_kind", "only B has 'family'")),
    ("grant select on public.hotels to public", ("acl", "TABLE hotels in schema public", "missing in A")),
    ("comment on column public.hotels.name is 'the name'",
     ("comment", "COLUMN hotels.name in schema public", "missing in A")),
    ("create statistics public.hotels_stats on tenant_id, stars from public.hotels",
     ("statistics", "public.hotels_stats", "missing in A")),
    ("alter table public.hotels alter column name set storage external",
     ("table", "public.hotels", "ALTER COLUMN name SET STORAGE EXTERNAL")),
    ("alter table public.hotels set (fillfactor = 70)", ("table", "public.hotels", "fillfactor")),
    ("create rule hotels_keep as on delete to public.hotels do instead nothing",
     ("rule", "public.hotels hotels_keep", "missing in A")),
    ("alter default privileges grant select on tables to public",
     ("default acl", "DEFAULT PRIVILEGES FOR TABLES", "missing in A")),
    ("select lo_from_bytea(777001, 'x')", ("large object", "777001", "missing in A")),
]


@pytest.mark.parametrize(("change", "expected"), CHANGES, ids=[c[0][:50] for c in CHANGES])
def test_one_change_on_b_is_named(pair: tuple[str, str], change: str, expected: tuple[str, str, str]) -> None:
    a, b = pair
    run_sql(b, change)
    result = compare.compare_urls(a, b)
    assert not result.equal and compare.compare_exit_code(result) == 1
    kind, obj, detail = expected
    matching = [d for d in result.differences if d.kind == kind and d.object == obj]
    assert matching, result.differences
    assert detail in matching[0].detail


def test_duplicated_row_with_the_same_count_is_found(new_db: DatabaseFactory) -> None:
    # Without a key, ('a','b') -> ('a','a') keeps the count; an XOR of row hashes would miss it
    # when a row is doubled, a sum does not.
    a = new_db(sql="create table public.log (msg text); insert into public.log values ('a'), ('b'), ('b');")
    b = new_db(sql="create table public.log (msg text); insert into public.log values ('a'), ('a'), ('b');")
    result = compare.compare_urls(a, b)
    assert result.differences == (compare.Difference("checksum", "public.log", "same 3 rows, different content"),)


def test_column_order_does_not_hide_equal_rows_but_the_schema_differs(new_db: DatabaseFactory) -> None:
    a = new_db(sql="create table public.t (x int, y text); insert into public.t values (1, 'one');")
    b = new_db(sql="create table public.t (y text, x int, z int); insert into public.t values ('one', 1, 7);")
    result = compare.compare_urls(a, b)
    # The rows are checksummed by column name, over the columns both sides have: equal. The tables are
    # not the same (column order matters to SELECT * and COPY), and that is named.
    assert result.tables[0].checksum_equal is True
    assert [(d.kind, d.object) for d in result.differences] == [("table", "public.t")]


def test_tables_whose_joined_names_collide_are_two_tables(new_db: DatabaseFactory) -> None:
    """a."b.c" and "a.b".c print alike joined with a dot: they are still matched by (schema, name)."""
    shape = 'create schema a; create schema "a.b"; create table a."b.c" (v int); create table "a.b".c (v int);'
    a = new_db(sql=shape + 'insert into a."b.c" values (1);')
    b = new_db(sql=shape + 'insert into "a.b".c values (1);')
    result = compare.compare_urls(a, b)
    assert not result.equal
    assert {(d.kind, d.object, d.detail) for d in result.differences} == {
        ("rows", 'a."b.c"', "1 vs 0"), ("rows", '"a.b".c', "0 vs 1")}


def test_schemas_limit_what_is_compared(new_db: DatabaseFactory) -> None:
    a = new_db(sql="create schema app; create table app.t (id int); create table public.u (id int);")
    b = new_db(sql="create schema app; create table app.t (id int); create table public.u (id int);"
                   "insert into public.u values (1);")
    assert compare.compare_urls(a, b, schemas=["app"]).equal
    assert not compare.compare_urls(a, b).equal


def _counting(conn: psycopg.Connection[Any], sent: list[str]) -> None:
    """Record every statement the connection sends (an independent count, outside compare's code)."""

    class Counting(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            sent.append(str(query)[:40])
            return super().execute(query, params, **kwargs)

    conn.cursor_factory = Counting


def _statements_for(new_db: DatabaseFactory, tables: int) -> tuple[int, int]:
    script = "".join(f"create table public.t{i} (id int primary key, v text); insert into public.t{i} "
                     f"values (1, 'x');" for i in range(tables))
    a, b = new_db(sql=script), new_db(sql=script)
    sent_a: list[str] = []
    sent_b: list[str] = []
    with psycopg.connect(a) as conn_a, psycopg.connect(b) as conn_b:
        _counting(conn_a, sent_a)
        _counting(conn_b, sent_b)
        result = compare.compare(conn_a, conn_b)
    assert result.equal and len(result.tables) == tables
    return len(sent_a), len(sent_b)


def test_statements_sent_do_not_grow_with_the_number_of_tables(new_db: DatabaseFactory) -> None:
    few, many = _statements_for(new_db, 2), _statements_for(new_db, 40)
    assert few == many
    assert few[0] < 40


def test_text_output_lists_differences_and_a_summary(pair: tuple[str, str]) -> None:
    a, b = pair
    console = Console(record=True, width=200)
    compare.render_text(compare.compare_urls(a, b), console)
    assert console.export_text().strip().splitlines() == ["Same: 2 tables, 5 rows, schema and content identical."]
    run_sql(b, "delete from public.hotels where id = 3")
    console = Console(record=True, width=200)
    compare.render_text(compare.compare_urls(a, b), console)
    lines = console.export_text().strip().splitlines()
    assert lines[-1] == "Different: 1 difference across 2 tables."
    assert "public.hotels" in lines[1] and "3 vs 2" in lines[1]


def test_unreachable_database_is_a_connection_error(pair: tuple[str, str]) -> None:
    with pytest.raises(ConnectionFailed) as err:
        compare.compare_urls(pair[0], "postgresql://nobody@127.0.0.1:1/none")
    assert err.value.exit_code == 2


def test_a_role_that_cannot_read_every_row_is_told_so(new_db: DatabaseFactory) -> None:
    uri = new_db(sql="create table public.secret (id int); insert into public.secret values (1);"
                     "alter table public.secret enable row level security;"
                     "do $$ begin if not exists (select from pg_roles where rolname = 'pc_peeker') then "
                     "create role pc_peeker login; end if; end $$;"
                     "grant select on public.secret to pc_peeker;")
    peeker = psycopg.conninfo.make_conninfo(uri, user="pc_peeker")
    result = invoke("compare", uri, peeker)
    assert result.exit_code == 2
    assert "role pc_peeker" in result.stderr and "cannot read every row" in result.stderr
