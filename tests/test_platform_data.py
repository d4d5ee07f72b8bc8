"""platform_data: the rows of the platform's own tables (auth.users, auth.identities, storage.buckets,
storage.objects, ...) copied data-only into the target's, first, in foreign-key order, in the compile's
snapshot, with a conflict policy.

The round trip is the one a Supabase user makes: a source on the Supabase stand-in (built from Supabase's
own migrations) carrying a real application (the user-management example: profiles keyed by auth.users,
a SECURITY DEFINER trigger on auth.users, storage policies) and more (identities, sessions and refresh
tokens with their sequence, a pgvector column, a function only service_role may call, a custom role),
migrated into a fresh stand-in connected as `app_owner`, the non-superuser that plays Supabase's
`postgres` and owns the database. Judged by pg_dump of the whole database line for line (every ACL and
the application's objects on the platform's tables included), compare with the platform rows, and the
sequence positions."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from fidelity import schema_lines
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import SQL_DIR, DatabaseFactory, invoke, new_role, query, run_sql
from pgconvoy import compare
from pgconvoy.catalog.model import Name

PLATFORM = ["auth.users", "auth.identities", "auth.sessions", "auth.refresh_tokens", "storage.buckets",
            "storage.objects"]


def _user_management() -> str:
    """The upstream migration and rows of tests/sql/real/supabase_user_management.sql, without the stand-in
    section the older stub needed (the stand-in has those tables whole)."""
    text = (SQL_DIR / "real" / "supabase_user_management.sql").read_text()
    return text[text.index("-- [pgconvoy fixture] upstream"):]


MORE = """
create extension if not exists vector with schema extensions;
alter table public.profiles add column embedding extensions.vector(3);
update public.profiles set embedding = '[1,2,3]' where username = 'ada';
insert into auth.identities (provider_id, user_id, identity_data, provider, created_at)
  select id::text, id, jsonb_build_object('sub', id::text, 'email', email), 'email', created_at from auth.users;
insert into auth.sessions (id, user_id, created_at)
  select gen_random_uuid(), id, '2024-05-01 00:00:00+00' from auth.users;
insert into auth.refresh_tokens (token, user_id, revoked, session_id)
  select 'tok-' || s.user_id || '-' || g, s.user_id::text, g = 1, s.id from auth.sessions s, generate_series(1, 3) g;
create function public.purge_profile(who uuid) returns void language sql security definer set search_path = ''
  as $$ delete from public.profiles where id = who $$;
revoke execute on function public.purge_profile(uuid) from public, anon, authenticated;
grant execute on function public.purge_profile(uuid) to service_role;
grant select on public.profiles to {reader};
"""


def _as_app_owner(uri: str) -> str:
    params = conninfo_to_dict(uri)
    params["user"] = "app_owner"
    params.pop("password", None)
    return make_conninfo(**params)  # type: ignore[arg-type]


def _stand_in(new_db: DatabaseFactory, app: str | None = None) -> str:
    """A database on the Supabase stand-in, owned by app_owner as a Supabase project's is by postgres; `app`
    runs as app_owner."""
    uri = new_db(files=["sample:supabase_platform"])
    name = conninfo_to_dict(uri)["dbname"]
    run_sql(uri, f'alter database "{name}" owner to app_owner')
    if app is not None:
        with psycopg.connect(_as_app_owner(uri)) as conn:
            conn.execute(app.encode())
    return uri


@pytest.fixture
def reader(pg_server: str, roles: list[str]) -> str:
    return new_role(roles, pg_server)  # a custom role the application grants to


def _project(tmp_path: Path, source: str, extra: str) -> Path:
    project = tmp_path / "project"
    initialized = invoke("init", "--source", source, "--schemas", "public", "--dir", str(project))
    assert initialized.exit_code == 0, initialized.output
    (project / "project.yml").write_text((project / "project.yml").read_text() + extra)
    return project


@pytest.mark.parametrize("rows", ["files", "stream"])
def test_supabase_round_trip_with_platform_rows_as_the_non_superuser_owner(
        new_db: DatabaseFactory, tmp_path: Path, reader: str, rows: str) -> None:
    source = _stand_in(new_db, _user_management() + MORE.format(reader=f'"{reader}"'))
    target = _stand_in(new_db)
    project = _project(tmp_path, source, f"platform_data: [{', '.join(reversed(PLATFORM))}]\n")
    if rows == "stream":
        text = (project / "project.yml").read_text()
        (project / "project.yml").write_text(text.replace("  format: copy\n", "  format: copy\n  rows: stream\n"))

    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    doc = json.loads((project / "target" / "manifest.json").read_text())
    platform_file = next(f for f in doc["files"] if f.get("platform"))
    assert platform_file["name"] == "09-data-platform.sql"
    # foreign-key order whatever the order written: users before identities and sessions, sessions before tokens
    order = [f"{t['schema']}.{t['table']}" for t in platform_file["loads"]]
    assert sorted(order) == sorted(PLATFORM)
    assert order.index("auth.users") < order.index("auth.identities") < len(order)
    assert order.index("auth.sessions") < order.index("auth.refresh_tokens")
    assert order.index("storage.buckets") < order.index("storage.objects")
    assert {t["table"] for t in doc["requires"]["platform_tables"]} == {n.split(".")[1] for n in PLATFORM}

    if rows == "stream":  # rows written after compile travel too: the run reads its own snapshot
        run_sql(source, "insert into storage.objects (bucket_id, name) values ('avatars', 'late.png')")
    streamed = ["--source", source] if rows == "stream" else []
    ran = invoke("run", "--project-dir", str(project), "--target", _as_app_owner(target), *streamed)
    assert ran.exit_code == 0, ran.output

    assert schema_lines(target) == schema_lines(source)
    names = [Name.parse(n) for n in PLATFORM]
    result = compare.compare_urls(source, target, schemas=["public"], platform_tables=names)
    assert result.equal, result.differences
    compared = {t.name: t for t in result.tables}
    assert compared["auth.refresh_tokens"].rows_a == 6 and compared["auth.refresh_tokens"].checksum_equal
    assert compared["public.profiles"].rows_b == 2  # the trigger on auth.users did not fire twice
    positions = "select last_value, is_called from auth.refresh_tokens_id_seq"
    assert query(target, positions) == query(source, positions)
    cli = invoke("compare", source, target, "--schemas", "public", "--project-dir", str(project))
    assert cli.exit_code == 0, cli.output


def test_a_platform_row_the_target_holds_fails_or_is_kept(new_db: DatabaseFactory, tmp_path: Path) -> None:
    rows = ("insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), "
            "('docs', 'docs', false);")
    source = _stand_in(new_db, "create table public.notes (id int primary key, bucket text);" + rows)
    target = _stand_in(new_db, "insert into storage.buckets (id, name, public) values ('avatars', 'kept', false);")
    before = query(target, "select id, name, public from storage.buckets order by 1")
    project = _project(tmp_path, source, "platform_data: [storage.buckets]\n")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0

    failed = invoke("run", "--project-dir", str(project), "--target", _as_app_owner(target))
    assert failed.exit_code != 0
    assert "09-data-platform.sql" in failed.output and "buckets_pkey" in failed.output
    assert query(target, "select id, name, public from storage.buckets order by 1") == before
    assert query(target, "select to_regclass('public.notes') is not null")[0][0] is True  # the schema went in

    yaml_text = (project / "project.yml").read_text().replace(
        "platform_data: [storage.buckets]", "platform_data: {tables: [storage.buckets], on_conflict: skip-existing}")
    (project / "project.yml").write_text(yaml_text)
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    fresh = _stand_in(new_db, "insert into storage.buckets (id, name, public) values ('avatars', 'kept', false);")
    ran = invoke("run", "--project-dir", str(project), "--target", _as_app_owner(fresh))
    assert ran.exit_code == 0, ran.output
    assert query(fresh, "select id, name, public from storage.buckets order by 1") == [
        ("avatars", "kept", False), ("docs", "docs", False)]


@pytest.mark.parametrize(("written", "said"), [
    ("platform_data: [users]", "name the platform table with its schema"),
    ("platform_data: [public.notes]", "schema public is the application's"),
    ("platform_data: {tables: [auth.nothing]}", "no table auth.nothing in the source"),
    ("platform_data: {tables: [auth.users], on_conflict: replace}", "on_conflict"),
])
def test_platform_data_that_cannot_be_is_named_with_file_and_line(new_db: DatabaseFactory, tmp_path: Path,
                                                                  written: str, said: str) -> None:
    source = _stand_in(new_db, "create table public.notes (id int primary key);")
    project = _project(tmp_path, source, written + "\n")
    line = len((project / "project.yml").read_text().splitlines())
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code != 0
    assert said in compiled.output and f"project.yml:{line}" in compiled.output, compiled.output
    assert not (project / "target").exists()
