"""Nothing lost, on a database holding one object of every kind pg_dump's archive knows (PostgreSQL 18,
and PostgreSQL 15 to 18): init -> compile -> run into an empty target gives what pg_dump | pg_restore
gives, line for line, with the same data; and the comparison is not blind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fidelity import (
    NOT_MIGRATED,
    assert_same_lines,
    data_lines,
    migrate,
    pg_dump,
    prepared_target,
    resign,
    restored_copy,
    schema_lines,
)

from conftest import DatabaseFactory, invoke, load_sql, pg15_database, query, run_sql
from pgconvoy import compare

SCHEMAS = ("kinds", "kinds_pub")
DATA_KINDS = ("rows", "checksum", "large object", "sequence")
EVERY_KIND = ["sample:supabase_platform", "every_kind.sql", "every_kind_pg18.sql"]


def assert_migrated(source: str, target: str, copy: str, *, owners: bool = False) -> None:
    restored_copy(source, copy, NOT_MIGRATED, owners=owners)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    assert_same_lines(data_lines(source, NOT_MIGRATED), data_lines(target, NOT_MIGRATED), "the data")
    result = compare.compare_urls(source, target, schemas=list(SCHEMAS))
    if query(source, "show server_version_num") == query(target, "show server_version_num"):
        assert result.equal, result.differences
    else:  # the platform's extensions differ between major versions (pg_stat_statements 1.10 vs 1.12)
        assert [d for d in result.differences if d.kind in DATA_KINDS] == []
        assert [d for d in result.differences if "in schema kinds" in d.object or d.object.startswith("kinds")] == []


def test_every_kind_round_trip(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    project = migrate(source, target, tmp_path / "project", SCHEMAS)
    assert_migrated(source, target, copy)
    # What makes this fixture hard is really there, and really moved.
    assert query(target, "select count(*) from kinds.markers") == [(3,)]  # rows of a table without columns
    assert query(target, "select count(*) from pg_largeobject_metadata where oid >= 4242001") == [(2,)]
    assert query(target, "select has_function_privilege('anon', 'kinds.secret_count()', 'execute')") == [(False,)]
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    created = {o["type"] for f in manifest["files"] for o in f.get("objects", [])}
    assert {"TRANSFORM", "EVENT TRIGGER", "OPERATOR CLASS", "BLOB METADATA", "AGGREGATE"} <= created


def test_rollback_undoes_everything_then_run_gives_the_same_migration(new_db: DatabaseFactory,
                                                                       tmp_path: Path) -> None:
    """rollback.sql leaves the target as it was before the run (its whole schema, large objects and run
    state included; default privileges excepted, documented), so the recovery it is for (rollback, then
    run) works; before, it dropped the tables only and the next run failed on the types, functions and
    sequences left behind."""
    import subprocess

    from pgconvoy import embedded

    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    before = schema_lines(target)
    lobs = query(target, "select count(*) from pg_largeobject_metadata")
    project = migrate(source, target, tmp_path / "project", SCHEMAS)
    undone = subprocess.run([str(embedded.bin_dir() / "psql"), "--dbname", target, "-X", "-q", "-v",
                             "ON_ERROR_STOP=1", "--single-transaction", "-f", str(project / "target" / "rollback.sql")],
                            capture_output=True, text=True)
    assert undone.returncode == 0, undone.stderr
    after = schema_lines(target)
    # default privileges are changed, not created: they stay as the migration set them (documented)
    kept = [line for line in after if line.startswith("ALTER DEFAULT PRIVILEGES ")]
    assert_same_lines(before, [line for line in after if line not in kept or line in before],
                      "the target after rollback.sql")
    assert kept and all(line in schema_lines(source) for line in kept if line not in before)
    assert query(target, "select count(*) from pg_largeobject_metadata") == lobs
    assert query(target, "select count(*) from pg_namespace where nspname = 'pgconvoy'") == [(0,)]
    ran = invoke("run", "--project-dir", str(project), "--target", target)
    assert ran.exit_code == 0, ran.output
    assert_migrated(source, target, copy)


# What a Supabase project's default privileges do to every object its owner creates.
WIDENING = """
alter default privileges grant all on tables to anon, authenticated;
alter default privileges grant all on sequences to anon, authenticated;
alter default privileges grant all on functions to anon, authenticated;
alter default privileges grant all on types to anon, authenticated;
"""


def test_privileges_end_as_the_sources_on_a_target_whose_default_privileges_add_grants(
        new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    run_sql(target, WIDENING)
    migrate(source, target, tmp_path / "project", SCHEMAS)
    # The yardstick gets the same default privileges once its objects exist: what pg_restore would have
    # widened is not the point, the target's own defaults must show in both dumps.
    restored_copy(source, copy, NOT_MIGRATED)
    run_sql(copy, WIDENING)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    # Who may run each function, besides its owner (owners differ: not kept by default).
    acl = ("select p.oid::regprocedure::text, a.grantee::regrole::text, a.privilege_type from pg_proc p "
           "join pg_namespace n on n.oid = p.pronamespace "
           "cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a "
           "where n.nspname = 'kinds' and a.grantee <> p.proowner order by 1, 2, 3")
    assert query(target, acl) == query(source, acl)
    tables = ("select c.oid::regclass::text, a.grantee::regrole::text, a.privilege_type from pg_class c "
              "join pg_namespace n on n.oid = c.relnamespace "
              "cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a "
              "where n.nspname in ('kinds', 'kinds_pub') and c.relkind in ('r', 'p', 'v', 'm', 'f') "
              "and a.grantee <> c.relowner order by 1, 2, 3")
    assert query(target, tables) == query(source, tables)
    assert query(target, "select has_function_privilege('anon', 'kinds.secret_count()', 'execute')") == [(False,)]


def test_owners_keep_sets_the_sources_owners(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", SCHEMAS, project_yml="owners: keep\n")
    assert_migrated(source, target, copy, owners=True)
    assert query(target, "select tableowner from pg_tables where tablename = 'audit'") == [("kinds_owner",)]


def test_every_kind_round_trip_from_postgres_15(pg15: str, new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = pg15_database(pg15, "every_kind")
    for name in EVERY_KIND[:2]:  # PostgreSQL 15 has no pgvector and none of the 16-18 additions
        run_sql(source, load_sql(name))
    assert query(source, "select current_setting('server_version_num')::int / 10000") == [(15,)]
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    for uri in (target, copy):  # the stand-in adds pgvector where the server has it: PostgreSQL 15 has not
        run_sql(uri, "drop extension if exists vector")
    migrate(source, target, tmp_path / "project", SCHEMAS)
    assert_migrated(source, target, copy)


# Each a block of a rendered file; taking it out must make the round trip fail and compare name it.
DELETIONS = [
    ("INDEX kinds.things_rev_idx", "index", "kinds.things_rev_idx"),
    ("ACL FUNCTION secret_count() in schema kinds", "acl", "FUNCTION secret_count() in schema kinds"),
    ("RULE kinds.things things_notify", "rule", "kinds.things things_notify"),
    ("COMMENT STATISTICS things_stats in schema kinds", "comment", "STATISTICS things_stats in schema kinds"),
]


@pytest.mark.parametrize(("block", "kind", "name"), DELETIONS, ids=[d[1] for d in DELETIONS])
def test_a_missing_entry_fails_the_round_trip_and_compare_names_it(
        new_db: DatabaseFactory, tmp_path: Path, block: str, kind: str, name: str) -> None:
    source = new_db(files=EVERY_KIND)
    project = tmp_path / "project"
    assert invoke("init", "--source", source, "--schemas", ",".join(SCHEMAS), "--dir", str(project)).exit_code == 0
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    removed = [path for path in (project / "target").glob("*.sql") if _remove_block(path, block)]
    assert len(removed) == 1, f"no file holds {block!r}"
    resign(project / "target")
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    assert invoke("run", "--project-dir", str(project), "--target", target).exit_code == 0
    restored_copy(source, copy, NOT_MIGRATED)
    assert schema_lines(copy) != schema_lines(target)
    differences = compare.compare_urls(source, target, schemas=list(SCHEMAS)).differences
    assert (kind, name, "missing in B") in [(d.kind, d.object, d.detail) for d in differences], differences


def _remove_block(path: Path, label: str) -> bool:
    """Drop the block `-- LABEL` ... up to the next block of a rendered file."""
    text = path.read_text()
    pattern = re.compile(rf"^-- {re.escape(label)}\n.*?(?=^-- |\Z)", re.M | re.S)
    changed = pattern.sub("", text, count=1)
    if changed == text:
        return False
    path.write_text(changed)
    return True


# What a Supabase app attaches to the platform's tables (the supabase/supabase user-management example
# does both): a trigger on auth.users calling its own function, and policies on storage.objects.
ATTACHED = """
create table public.profiles (id uuid primary key references auth.users on delete cascade, name text);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = ''
  as $$ begin insert into public.profiles (id) values (new.id); return new; end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create policy "Avatar images are public" on storage.objects for select using (bucket_id = 'avatars');
create policy "Own uploads" on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and owner_id = (select auth.uid())::text);
comment on policy "Avatar images are public" on storage.objects is 'anyone may read avatars';
"""


def test_what_the_app_attached_to_platform_tables_comes_along(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform"], sql=ATTACHED)
    target = prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", ("public",))
    platform_tables = ("--table=auth.users", "--table=storage.objects")
    assert pg_dump(target, "--schema-only", *platform_tables) != pg_dump(new_db(files=["sample:supabase_platform"]),
                                                                          "--schema-only", *platform_tables)
    assert_same_lines(_lines(pg_dump(source, "--schema-only", *platform_tables)),
                      _lines(pg_dump(target, "--schema-only", *platform_tables)), "the platform's tables")
    run_sql(target, "insert into auth.users (id, instance_id, aud, role) values "
                    "('00000000-0000-0000-0000-00000000000a', null, 'authenticated', 'authenticated')")
    assert query(target, "select count(*) from public.profiles") == [(1,)]  # the trigger works there


def _lines(dump: str) -> list[str]:
    return [line for line in dump.splitlines() if line.strip() and not line.startswith(("--", "SET ",
            "SELECT pg_catalog.set_config(", "\\restrict", "\\unrestrict"))]


def test_a_target_older_than_the_source_is_refused_before_anything_is_written(
        pg15: str, new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table t (id int generated always as identity primary key, v text);"
                        "insert into t (v) values ('a');")
    target = pg15_database(pg15, "older_target")
    project = tmp_path / "project"
    assert invoke("init", "--source", source, "--schemas", "public", "--dir", str(project)).exit_code == 0
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    before = query(target, "select count(*) from pg_class")
    refused = invoke("run", "--project-dir", str(project), "--target", target)
    assert refused.exit_code == 2
    assert "the target runs PostgreSQL 15, older than the source's 18" in refused.output
    assert query(target, "select count(*) from pg_class") == before
    assert not (project / "target" / "run_results.json").exists()
    allowed = invoke("run", "--project-dir", str(project), "--target", target, "--allow-older-target")
    assert "warning: the target runs PostgreSQL 15" in allowed.output
