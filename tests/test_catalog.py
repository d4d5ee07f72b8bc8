"""Catalog introspection against a real server, checked against independent pg_catalog queries."""

from __future__ import annotations

import psycopg
import pytest

from conftest import DatabaseFactory, query, run_sql
from pgconvoy import catalog, graph
from pgconvoy.catalog.model import Name
from pgconvoy.catalog.objects import read_objects
from pgconvoy.errors import CatalogError


def read(uri: str, **options: object) -> catalog.Catalog:
    with psycopg.connect(uri) as conn:
        return catalog.introspect(conn, catalog.Options(**options))  # type: ignore[arg-type]


@pytest.fixture
def graph_db(new_db: DatabaseFactory) -> str:
    return new_db(files=["graph_fixture.sql"])


def test_tables_and_schemas_by_default_leave_managed_schemas_out(graph_db: str) -> None:
    cat = read(graph_db)
    assert [s.name for s in cat.schemas] == ["billing", "public"]
    assert "auth" in cat.excluded_schemas
    expected = query(graph_db, """
        select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p') and n.nspname in ('public', 'billing') order by 1""")
    assert sorted(str(t.qualified) for t in cat.tables) == [r[0] for r in expected]


def test_same_table_name_in_two_schemas_stays_two_tables(graph_db: str) -> None:
    cat = read(graph_db)
    billing, public = cat.table(Name("billing", "accounts")), cat.table(Name("public", "accounts"))
    assert billing is not None and public is not None
    assert billing.foreign_keys[0].ref_table == Name("public", "accounts")


def test_foreign_keys_match_pg_constraint(graph_db: str) -> None:
    cat = read(graph_db)
    expected = query(graph_db, """
        select c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text from pg_constraint c
        where c.contype = 'f' and c.conparentid = 0
          and c.connamespace in ('public'::regnamespace, 'billing'::regnamespace)""")
    def short(text: str) -> str:
        return text if "." in text else f"public.{text}"
    assert sorted((str(fk.table), fk.name, str(fk.ref_table)) for fk in cat.foreign_keys) == sorted(
        (short(t), c, short(r)) for t, c, r in expected  # type: ignore[arg-type]
    )
    external = [fk for fk in cat.foreign_keys if fk.external]
    assert [(str(fk.table), str(fk.ref_table)) for fk in external] == [("public.accounts", "auth.users")]
    deferrable = [fk.name for fk in cat.foreign_keys if fk.deferrable]
    assert deferrable == ["cyc_a_c_fk"]


def test_partitions_belong_to_their_root(graph_db: str) -> None:
    cat = read(graph_db)
    parts = sorted(str(t.qualified) for t in cat.tables if t.partition_of == Name("public", "events"))
    assert parts == ["public.events_2025", "public.events_2026"]
    root = cat.table(Name("public", "events"))
    assert root is not None and root.kind == "partitioned" and root.partition_of is None


def test_exact_row_counts_match_count_star(graph_db: str) -> None:
    cat = read(graph_db)
    for t in cat.tables:
        only = "" if t.kind == "partitioned" else "only"
        (count,) = query(graph_db, f'select count(*) from {only} "{t.schema}"."{t.name}"')[0]
        assert t.rows == count, t.qualified
    events = cat.table(Name("public", "events"))
    assert events is not None and events.rows == 3


def test_graph_of_the_fixture(graph_db: str) -> None:
    g = graph.build(read(graph_db))
    assert g.cycles == ((Name("public", "cyc_a"), Name("public", "cyc_b"), Name("public", "cyc_c")),)
    assert g.nodes[Name("public", "accounts")].self_references == ("parent_id",)
    assert g.nodes[Name("public", "accounts")].external == (Name("auth", "users"),)
    assert Name("public", "events_2025") not in g.nodes  # partitions load through their root
    depths = {str(k): v.depth for k, v in g.nodes.items()}
    assert depths["public.tenants"] == 0
    assert depths["public.accounts"] == 1
    assert depths["billing.accounts"] == depths["public.events"] == 2
    assert depths["public.after_cycle"] == depths["public.cyc_a"] + 1


def test_schema_option_reads_only_those_and_names_missing_ones(graph_db: str) -> None:
    cat = read(graph_db, schemas=("billing",))
    assert [str(t.qualified) for t in cat.tables] == ["billing.accounts"]
    assert cat.tables[0].foreign_keys[0].external
    with pytest.raises(CatalogError, match="'nope' does not exist"):
        read(graph_db, schemas=("public", "nope"))


def test_every_object_kind_is_read(new_db: DatabaseFactory) -> None:
    uri = new_db(sql="""
        create type mood as enum ('sad', 'ok', 'happy');
        create domain email as text check (value like '%@%');
        create type pair as (a int, b text);
        create sequence free_seq start 5;
        create table things (
            id int generated always as identity (start with 100) primary key,
            code text collate "C" not null default 'x',
            m mood,
            e email,
            n numeric(12, 3),
            total int generated always as (id * 2) stored,
            unique (code)
        );
        create unlogged table scratch (id serial primary key) with (fillfactor = 70);
        create index things_lower on things (lower(code)) where n > 0;
        alter table things enable row level security;
        alter table things force row level security;
        create role pc_reader nologin;
        create policy p_read on things as restrictive for select to pc_reader using (id > 0);
        grant select on things to pc_reader;
        grant update (code) on things to pc_reader;
        comment on table things is 'the things';
        comment on column things.code is 'a code';
        create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
        create trigger things_touch before update on things for each row execute function touch();
        alter table things disable trigger things_touch;
        create view v_things as select id, code from things;
        create materialized view mv_things as select count(*) from things;
        insert into things (code) values ('a'), ('b');
        select setval('free_seq', 42);
    """)
    try:
        cat = read(uri)
    finally:
        run_sql(uri, "drop owned by pc_reader; drop role pc_reader")
    things = cat.table(Name("public", "things"))
    assert things is not None
    cols = {c.name: c for c in things.columns}
    assert cols["id"].identity == "always"
    assert cols["total"].generated == "(id * 2)" and cols["code"].default == "'x'::text"
    assert cols["m"].type == "public.mood" and cols["e"].type == "public.email"
    assert cols["n"].type == "numeric(12,3)"
    assert {c.kind for c in things.constraints} == {"primary key", "unique"}
    assert things.rls_enabled and things.rls_forced
    (policy,) = things.policies
    assert (policy.permissive, policy.command, policy.roles, policy.using) == (False, "SELECT", ("pc_reader",),
                                                                               "(id > 0)")
    index = next(i for i in things.indexes if i.name == "things_lower")
    assert index.columns == (None,) and index.predicate is not None and index.constraint is None
    assert things.rows == 2
    seqs = {s.name: s for s in cat.sequences}
    assert seqs["free_seq"].last_value == 42 and seqs["free_seq"].owned_by is None
    assert seqs["things_id_seq"].last_value == 101
    assert seqs["scratch_id_seq"].owned_by == (Name("public", "scratch"), "id")
    assert seqs["scratch_id_seq"].last_value is None  # never called


# The API roles of a Supabase project, created once on the cluster (roles are cluster-wide; other
# fixtures create them the same way).
API_ROLES_SQL = """
    do $$ begin
      if not exists (select from pg_roles where rolname = 'anon') then
        create role anon nologin;
      end if;
      if not exists (select from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
      end if;
    end $$;
"""


def test_what_the_api_roles_reach_views_functions_and_extensions(new_db: DatabaseFactory) -> None:
    uri = new_db(sql=API_ROLES_SQL + """
        create schema api;
        grant usage on schema api to authenticated;
        create schema private;
        create role pc_api_member nologin;
        grant pc_api_member to anon;
        create table api.open (id int primary key);
        grant select, update on api.open to pc_api_member;
        grant insert on api.open to public;
        create table api.closed (id int primary key);
        create table api.some_columns (id int primary key, secret text);
        grant select (id) on api.some_columns to authenticated;
        create view api.v_definer as select id from api.open;
        grant select on api.v_definer to authenticated;
        create view api.v_invoker with (security_invoker = on) as select id from api.open;
        create view api.v_off with (security_invoker = false) as select id from api.open;
        create materialized view api.mv as select id from api.open;
        create function api.plain(a int, "b b" text) returns int language sql as 'select 1';
        create function api.fixed() returns int language sql security definer set search_path = '' as 'select 1';
        create procedure api.proc() language sql as 'select 1';
        create aggregate api.total(int) (sfunc = int4pl, stype = int);
        create extension pg_trgm schema api;
    """)
    try:
        cat = read(uri, schemas=("api", "private"))
    finally:
        run_sql(uri, "drop owned by pc_api_member; drop role pc_api_member")
    assert [(s.name, s.exposed) for s in cat.schemas] == [("api", True), ("private", False)]
    open_, closed = cat.table(Name("api", "open")), cat.table(Name("api", "closed"))
    assert open_ is not None and closed is not None
    # through a role anon is a member of, and through PUBLIC
    assert open_.api_privileges == (("anon", "SELECT"), ("anon", "INSERT"), ("anon", "UPDATE"),
                                    ("authenticated", "INSERT"))
    assert closed.api_privileges == ()
    columns = cat.table(Name("api", "some_columns"))
    assert columns is not None and columns.api_privileges == (("authenticated", "SELECT"),)  # some of its columns
    views = {v.name: v for v in cat.views}
    assert set(views) == {"v_definer", "v_invoker", "v_off"}  # no materialized view
    assert (views["v_definer"].security_invoker, views["v_definer"].api_roles_can_select) == (False, ("authenticated",))
    assert views["v_invoker"].security_invoker and not views["v_off"].security_invoker
    # pg_trgm's own functions are its members: left out
    functions = {f.name: f for f in cat.functions}
    assert set(functions) == {"plain", "fixed", "proc"}
    assert functions["plain"].arguments == 'a integer, "b b" text' and not functions["plain"].search_path_set
    assert functions["fixed"].security_definer and functions["fixed"].search_path_set
    assert functions["proc"].kind == "procedure"
    assert ("pg_trgm", "api", True) in {(e.name, e.schema, e.relocatable) for e in cat.extensions}


def test_objects_to_account_for_say_which_need_an_archive_entry(new_db: DatabaseFactory) -> None:
    """The accounting's side of the source: what pg_dump must give an entry of its own, and what comes
    with its parent (an index behind a key, a row type, an inline CHECK, a view's rewrite rule)."""
    uri = new_db(sql="""
        create type mood as enum ('sad', 'ok');
        create domain email as text check (value like '%@%');
        create table things (id int primary key, code text check (code <> ''), m mood);
        create index things_code on things (code);
        comment on table things is 'the things';
        comment on column things.code is 'a code';
        comment on constraint things_code_check on things is 'not empty';
        create role pc_objects nologin;
        grant select on things to pc_objects;
        grant update (code) on things to pc_objects;
        create function touch() returns trigger language plpgsql as $$ begin return new; end $$;
        revoke all on function touch() from public;
        create trigger things_touch before update on things for each row execute function touch();
        create view v_things as select id, code from things;
        create extension if not exists hstore;
    """)
    try:
        with psycopg.connect(uri) as conn:
            found = {(o.kind, o.identity): o for o in read_objects(conn, ["public"]).values()}
    finally:
        run_sql(uri, "drop owned by pc_objects; drop role pc_objects")
    own = {key for key, o in found.items() if o.own_entry}
    assert {("type", "public.mood"), ("type", "public.email"), ("table", "public.things"),
            ("index", "public.things_code"), ("table constraint", "things_pkey on public.things"),
            ("function", "public.touch()"), ("trigger", "things_touch on public.things"),
            ("view", "public.v_things"), ("extension", "hstore")} <= own
    # Created with their parent and without a comment of their own, they count for nothing: left out.
    assert not {("index", "public.things_pkey"), ("type", "public.things"), ("type", "public.mood[]"),
                ('rule', '"_RETURN" on public.v_things')} & found.keys()
    assert found.keys() - own == {("table constraint", "things_code_check on public.things")}
    assert not any(key[1].startswith("public.hstore") for key in found)  # an extension's members are its own
    things = found[("table", "public.things")]
    assert (things.comments, things.acl_changed, things.column_acls) == (2, True, 1)
    check = found[("table constraint", "things_code_check on public.things")]
    assert check.owner_key == things.key and check.comments == 1  # counted with its table
    assert found[("function", "public.touch()")].acl_changed  # owner-only: not the default


def test_queries_sent_do_not_grow_with_the_catalog(new_db: DatabaseFactory) -> None:
    small = new_db(sql="create table a (id int primary key);")
    big = new_db(sql="".join(
        f"create table t{i} (id int primary key, p int references t{max(i - 1, 0)});" for i in range(60)
    ))
    traces: list[list[str]] = []
    for uri in (small, big):
        trace: list[str] = []
        with psycopg.connect(uri) as conn:
            catalog.introspect(conn, trace=trace)
        traces.append(trace)
    assert traces[0] == traces[1]
    assert len(traces[1]) <= 16


def test_estimated_rows_skip_counting(graph_db: str) -> None:
    trace: list[str] = []
    with psycopg.connect(graph_db) as conn:
        cat = catalog.introspect(conn, catalog.Options(rows="estimate"), trace=trace)
    assert "row_counts" not in trace
    assert all(t.rows is None for t in cat.tables) and not cat.exact_rows
