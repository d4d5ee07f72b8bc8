"""The bundled sample as pgconvoy reads it, checked against what pg_catalog says independently."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
from click.testing import CliRunner

from conftest import DatabaseFactory, query
from pgconvoy import catalog, graph, samples
from pgconvoy.catalog.model import Name
from pgconvoy.cli import main

# Depth by a recursive query over pg_constraint: the longest chain of references below each table
# (self-references left out; the sample has no multi-table cycle).
DEPTH_SQL = """
with recursive fk as (
    select distinct conrelid as child, confrelid as parent from pg_constraint
    where contype = 'f' and conrelid <> confrelid and conparentid = 0
      and connamespace in ('public'::regnamespace, 'hotels'::regnamespace)
      and confrelid in (select c.oid from pg_class c
                        where c.relnamespace in ('public'::regnamespace, 'hotels'::regnamespace))
), walk(tbl, depth) as (
    select c.oid, 0 from pg_class c
    where c.relkind in ('r', 'p') and c.relnamespace in ('public'::regnamespace, 'hotels'::regnamespace)
    union all
    select fk.child, walk.depth + 1 from walk join fk on fk.parent = walk.tbl
)
select n.nspname || '.' || c.relname, max(depth) from walk
join pg_class c on c.oid = walk.tbl join pg_namespace n on n.oid = c.relnamespace
group by 1 order by 1
"""


@pytest.fixture(scope="module")
def sample_db(pg_server: str) -> str:
    from pgconvoy import embedded

    uri = embedded.create_database(pg_server, "sample_test", replace=True)
    samples.load(uri, samples.sql_text(samples.STUB) + "\n" + samples.sql_text("hotel"))
    return uri


@pytest.fixture(scope="module")
def sample(sample_db: str) -> catalog.Catalog:
    with psycopg.connect(sample_db) as conn:
        return catalog.introspect(conn)


def test_tables_and_schemas(sample: catalog.Catalog, sample_db: str) -> None:
    assert [s.name for s in sample.schemas] == ["hotels", "public"]
    expected = query(sample_db, """select n.nspname || '.' || c.relname from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname in ('public', 'hotels') order by 1""")
    assert sorted(str(t.qualified) for t in sample.tables) == [r[0] for r in expected]
    assert sum(1 for t in sample.tables if t.schema == "public") == 38  # as the seed report counts
    assert {"auth", "extensions"} <= set(sample.excluded_schemas)


def test_foreign_keys_and_external_references(sample: catalog.Catalog, sample_db: str) -> None:
    ((public_fks,),) = query(sample_db, "select count(*) from pg_constraint where contype = 'f' "
                                        "and connamespace = 'public'::regnamespace")
    assert sum(1 for fk in sample.foreign_keys if fk.table.schema == "public") == public_fks == 46
    external = query(sample_db, """select distinct confrelid::regclass::text from pg_constraint
        where contype = 'f' and connamespace in ('public'::regnamespace, 'hotels'::regnamespace)
          and confrelid in (select oid from pg_class where relnamespace = 'auth'::regnamespace)""")
    assert {str(fk.ref_table) for fk in sample.foreign_keys if fk.external} == {r[0] for r in external}


def test_self_references(sample: catalog.Catalog, sample_db: str) -> None:
    expected = query(sample_db, """select conrelid::regclass::text, a.attname from pg_constraint
        join pg_attribute a on a.attrelid = conrelid and a.attnum = conkey[1]
        where contype = 'f' and conrelid = confrelid order by 1, 2""")
    g = graph.build(sample)
    found = sorted((f"{n.name}" if n.schema == "public" else str(n), col)
                   for n, node in g.nodes.items() for col in node.self_references)
    assert found == [(t, c) for t, c in expected]  # type: ignore[misc]
    assert found == [("calendar_events", "merged_into_id"), ("calendar_events", "parent_event_id"),
                     ("staff_users", "created_by")]


def test_depth_of_every_table(sample: catalog.Catalog, sample_db: str) -> None:
    g = graph.build(sample)
    expected = dict(query(sample_db, DEPTH_SQL))
    assert {str(n): node.depth for n, node in g.nodes.items()} == expected
    assert g.max_depth == 5 and g.cycles == ()
    chain = ["tenant_registry", "hotels", "accommodation_units", "guest_reservations", "guest_conversations",
             "chat_messages"]
    assert [g.nodes[Name("public", t)].depth for t in chain] == [0, 1, 2, 3, 4, 5]


def test_row_counts(sample: catalog.Catalog, sample_db: str) -> None:
    for t in sample.tables:
        ((count,),) = query(sample_db, f'select count(*) from "{t.schema}"."{t.name}"')
        assert t.rows == count, t.qualified
    assert sum(t.rows or 0 for t in sample.tables if t.schema == "public") == 6943  # the report's total
    assert sample.table(Name("public", "code_embeddings")).rows == 4333  # type: ignore[union-attr]


def test_sample_is_deterministic(new_db: DatabaseFactory, sample_db: str) -> None:
    other = new_db(files=["sample:supabase_platform", "sample:hotel"])
    digest = """select md5(string_agg(md5(t::text), '' order by md5(t::text)))
                from public.calendar_events t"""
    assert query(other, digest) == query(sample_db, digest)
    digest = "select md5(string_agg(md5(t::text), '' order by md5(t::text))) from public.code_embeddings t"
    assert query(other, digest) == query(sample_db, digest)


def test_plan_of_the_sample_url_is_cached_and_fast() -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["plan", "--source", "sample:hotel", "--format", "json"])
    assert first.exit_code == 0, first.output
    start = time.perf_counter()
    second = runner.invoke(main, ["plan", "--source", "sample:hotel", "--format", "json"])
    elapsed = time.perf_counter() - start
    assert second.exit_code == 0 and json.loads(second.stdout) == json.loads(first.stdout)
    data = json.loads(second.stdout)
    assert data["summary"]["max_depth"] == 5
    assert {t["name"]: t["depth"] for t in data["tables"]}["public.chat_messages"] == 5
    print(f"cached sample plan: {elapsed:.2f}s")
