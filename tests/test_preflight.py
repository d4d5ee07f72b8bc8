"""`pgconvoy preflight`: each kind of finding, on a real server, from a real compile. Every check reads the
target in a read-only transaction: each test asserts the target's catalog is the same after it."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import DatabaseFactory, invoke, new_role, pg15_database, query, run_sql
from pgconvoy import compiler, embedded, preflight, runner
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import contract

# What a preflight must leave as it was: relations, schemas, roles and their attributes, memberships,
# extensions, and the grants on schemas and on the database.
CATALOG = """
SELECT (SELECT array_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || coalesce(c.relacl::text, '')
                         ORDER BY 1) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace),
       (SELECT array_agg(nspname || ':' || coalesce(nspacl::text, '') ORDER BY 1) FROM pg_namespace),
       (SELECT array_agg(row(r.*)::text ORDER BY r.rolname) FROM pg_roles r),
       (SELECT array_agg(row(m.roleid, m.member, m.admin_option)::text ORDER BY 1) FROM pg_auth_members m),
       (SELECT array_agg(extname || ':' || extversion || ':' || extnamespace::regnamespace::text ORDER BY 1)
        FROM pg_extension),
       (SELECT datacl::text FROM pg_database WHERE datname = current_database())
"""


def _as(uri: str, user: str) -> str:
    return make_conninfo(uri, user=user)


def _compile(root: Path, uri: str, schemas: tuple[str, ...] = ("public",), project: str = "") -> contract.Contract:
    tables = query(uri, "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') "
                        "AND NOT c.relispartition ORDER BY c.oid", (list(schemas),))
    (root / "project.yml").write_text(f"name: pf\nschemas: [{', '.join(schemas)}]\n{project}\n")
    (root / "groups").mkdir()
    (root / "groups" / "01-all.yml").write_text("tables: [" + ", ".join(str(t[0]) for t in tables) + "]\n")
    result = compiler.compile_project(root, source=uri)
    assert result.ok, [f"{f.code} {f.message}" for f in result.findings if f.severity == "error"]
    return contract.read(root / "target")


def _catalog(uri: str) -> list[object]:
    return list(query(uri, CATALOG)[0])


def _preflight(target: str, plan: contract.Contract) -> list[preflight.Finding]:
    """The findings, with the proof that reading them changed nothing on the target."""
    before = _catalog(target)
    with psycopg.connect(target) as conn:
        found = preflight.findings(conn, plan)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _catalog(target) == before
    return found


def _kinds(found: list[preflight.Finding], kind: str) -> dict[str, preflight.Finding]:
    return {f.subject: f for f in found if f.kind == kind}


APP = """
create schema app;
create table app.tenants (id int primary key, name text);
create table app.notes (id int primary key, tenant_id int references app.tenants, body text);
insert into app.tenants values (1, 'a');
"""


def test_a_target_that_can_take_the_migration_passes(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql=APP)
    plan = _compile(tmp_path, source, ("app",))
    assert plan.requires is not None and plan.requires.creates_schemas == ("app",)
    assert plan.requires.tables == 2 and plan.requires.locks >= 6
    target = new_db()
    assert _preflight(target, plan) == []
    before = _catalog(target)
    result = invoke("preflight", "--project-dir", str(tmp_path), "--target", target)
    assert result.exit_code == 0, result.output
    assert "Preflight passed" in result.output
    doc = json.loads(invoke("preflight", "--project-dir", str(tmp_path), "--target", target,
                            "--format", "json").stdout)
    assert doc["ok"] is True and doc["findings"] == []
    assert _catalog(target) == before


def test_without_a_compile_it_cannot_run(tmp_path: Path, new_db: DatabaseFactory) -> None:
    (tmp_path / "project.yml").write_text("name: pf\n")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "01-all.yml").write_text("tables: [t]\n")
    result = invoke("preflight", "--project-dir", str(tmp_path), "--target", new_db())
    assert result.exit_code == 2
    assert "manifest.json is missing" in result.output


def test_older_target(new_db: DatabaseFactory, tmp_path: Path, pg15: str) -> None:
    plan = _compile(tmp_path, new_db(sql=APP), ("app",))
    target = pg15_database(pg15, "pf_older")
    found = _kinds(_preflight(target, plan), "older_target")
    assert list(found) == ["PostgreSQL 15"]
    assert "older than the source's 18" in found["PostgreSQL 15"].message
    before = _catalog(target)
    result = invoke("preflight", "--project-dir", str(tmp_path), "--target", target, "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and [f["kind"] for f in doc["findings"]] == ["older_target"]
    assert _catalog(target) == before
    with pytest.raises(PgConvoyError, match="older than the source"):
        preflight.refuse(_preflight(target, plan))
    shown = preflight.refuse(_preflight(target, plan), allow_older_target=True)  # run prints it as a warning
    assert [f.kind for f in shown] == ["older_target"]


def test_no_create_on_the_database_for_create_schema(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                                     pg_server: str) -> None:
    plan = _compile(tmp_path, new_db(sql=APP), ("app",))
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN")
    found = _kinds(_preflight(_as(target, user), plan), "create_schema_privilege")
    assert list(found) == ["app"] and "no CREATE on the database" in found["app"].message
    assert found["app"].fix.startswith("GRANT CREATE ON DATABASE")
    run_sql(target, f'GRANT CREATE ON DATABASE "{conninfo_to_dict(target)["dbname"]}" TO "{user}"')
    assert _preflight(_as(target, user), plan) == []


def test_no_create_on_a_schema_the_migration_creates_objects_in(new_db: DatabaseFactory, tmp_path: Path,
                                                                roles: list[str], pg_server: str) -> None:
    plan = _compile(tmp_path, new_db(sql="create table t (id int primary key);"))
    assert plan.requires is not None and plan.requires.uses_schemas == ("public",)
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN")
    found = _kinds(_preflight(_as(target, user), plan), "schema_privilege")
    assert list(found) == ["public"] and found["public"].fix == f"GRANT CREATE ON SCHEMA public TO {user}"
    run_sql(target, f'GRANT CREATE ON SCHEMA public TO "{user}"')
    assert _preflight(_as(target, user), plan) == []


def test_extension_not_available_and_version_not_available(new_db: DatabaseFactory, tmp_path: Path,
                                                           pg15: str) -> None:
    """PostgreSQL 15 of Debian has no pgvector, and pg_stat_statements only up to 1.10 (18 has 1.12)."""
    source = new_db(sql="create extension vector; create extension pg_stat_statements; "
                        "create table t (id int primary key, v vector(3));")
    plan = _compile(tmp_path, source)
    assert plan.requires is not None
    assert {e.name: e.schema for e in plan.requires.extensions} == {"vector": "public", "pg_stat_statements": "public"}
    target = pg15_database(pg15, "pf_extensions")
    found = _preflight(target, plan)
    assert list(_kinds(found, "extension_unavailable")) == ["vector"]
    version = _kinds(found, "extension_version")
    assert list(version) == ["pg_stat_statements"] and version["pg_stat_statements"].severity == "warn"
    assert "installs 1.10" in version["pg_stat_statements"].message


def test_extension_installed_in_another_schema(new_db: DatabaseFactory, tmp_path: Path) -> None:
    plan = _compile(tmp_path, new_db(sql="create extension pg_trgm; create table t (id int primary key, s text);"))
    target = new_db(sql="create schema ext; create extension pg_trgm schema ext;")
    found = _kinds(_preflight(target, plan), "extension_schema")
    assert list(found) == ["pg_trgm"]
    assert "installed in schema ext" in found["pg_trgm"].message
    run_sql(target, "drop extension pg_trgm; create extension pg_trgm schema public;")
    assert _preflight(target, plan) == []


def test_extension_the_role_cannot_create(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                          pg_server: str) -> None:
    """pg_trgm is trusted (CREATE on the database is enough), pg_stat_statements needs a superuser."""
    source = new_db(sql="create extension pg_trgm; create extension pg_stat_statements; "
                        "create table t (id int primary key);")
    plan = _compile(tmp_path, source)
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN")
    database = conninfo_to_dict(target)["dbname"]
    run_sql(target, f'GRANT CREATE ON DATABASE "{database}" TO "{user}"; GRANT CREATE ON SCHEMA public TO "{user}"')
    found = _kinds(_preflight(_as(target, user), plan), "extension_privilege")
    assert list(found) == ["pg_stat_statements"]
    assert "not a trusted extension" in found["pg_stat_statements"].message
    run_sql(target, "create extension pg_stat_statements")  # as the platform would, beforehand
    assert _preflight(_as(target, user), plan) == []


def test_roles_the_grants_and_policies_name_are_missing(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                                        pg_server: str) -> None:
    reader, writer = new_role(roles, pg_server), new_role(roles, pg_server)
    source = new_db(sql=f"""create table t (id int primary key, owner text);
        grant select on t to "{reader}";
        alter table t enable row level security;
        create policy p on t for insert to "{writer}" with check (owner = current_user);""")
    plan = _compile(tmp_path, source)
    assert plan.requires is not None
    named = {r.name: r.named_by for r in plan.requires.roles}
    assert named[reader] == ("grant",) and named[writer] == ("policy",)
    target = new_db()
    assert _kinds(_preflight(target, plan), "role_missing") == {}
    run_sql(source, f'DROP OWNED BY "{reader}", "{writer}"')
    run_sql(pg_server, f'DROP ROLE "{reader}"; DROP ROLE "{writer}"')
    found = _kinds(_preflight(target, plan), "role_missing")
    assert sorted(found) == sorted([reader, writer])
    assert "a grantee" in found[reader].message and "a policy's role" in found[writer].message
    assert found[reader].fix.startswith(f"CREATE ROLE {reader} NOLOGIN")


def test_owners_the_role_cannot_become(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                       pg_server: str) -> None:
    owner = new_role(roles, pg_server)
    source = new_db(sql=f'create table t (id int primary key); alter table t owner to "{owner}";')
    plan = _compile(tmp_path, source, project="owners: keep")
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN")
    run_sql(target, f'GRANT CREATE ON SCHEMA public TO "{user}"')
    found = _kinds(_preflight(_as(target, user), plan), "owner_privilege")
    assert list(found) == [owner] and "SET ROLE" in found[owner].message
    run_sql(pg_server, f'GRANT "{owner}" TO "{user}"')
    assert _preflight(_as(target, user), plan) == []


def test_grants_the_role_could_not_make(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                        pg_server: str) -> None:
    """A member that may SET ROLE to the owner but does not inherit its privileges can change the owner,
    then its GRANTs on that owner's objects are skipped with a mere warning."""
    owner, reader = new_role(roles, pg_server), new_role(roles, pg_server)
    source = new_db(sql=f'create table t (id int primary key); alter table t owner to "{owner}"; '
                        f'grant select on t to "{reader}";')
    plan = _compile(tmp_path, source, project="owners: keep")
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN")
    run_sql(target, f'GRANT CREATE ON SCHEMA public TO "{user}"')
    run_sql(pg_server, f'GRANT "{owner}" TO "{user}" WITH INHERIT FALSE, SET TRUE')
    found = _preflight(_as(target, user), plan)
    assert _kinds(found, "owner_privilege") == {}
    grants = _kinds(found, "grant_privilege")
    assert list(grants) == [owner] and "does not inherit" in grants[owner].message


def test_lock_table_too_small_for_one_file(tmp_path: Path, new_db: DatabaseFactory) -> None:
    """A server whose lock table holds 10 x (5 + 0) locks, and a group of 30 tables with a key each."""
    source = new_db(sql="".join(f"create table t{i} (id int primary key, note text);" for i in range(30)))
    plan = _compile(tmp_path, source)
    assert plan.requires is not None and plan.requires.locks >= 120
    pgdata = Path(tempfile.mkdtemp(prefix="pgconvoy-locks-")) / "pgdata"
    base = embedded.start(pgdata, delete_on_exit=True, settings={
        "max_locks_per_transaction": "10", "max_connections": "5", "superuser_reserved_connections": "0",
        "max_prepared_transactions": "0"})
    try:
        target = embedded.create_database(base, "pf_locks")
        found = _kinds(_preflight(target, plan), "locks")
        assert list(found) == ["max_locks_per_transaction"]
        assert "holds 50 (10 x (5 + 0))" in found["max_locks_per_transaction"].message
    finally:
        from pgconvoy.scratch import _stop

        _stop(pgdata)


def test_a_target_that_holds_the_migration_already(new_db: DatabaseFactory, tmp_path: Path) -> None:
    plan = _compile(tmp_path, new_db(sql=APP), ("app",))
    target = new_db()
    runner.run(target, tmp_path / "target")
    rows = query(target, "select count(*) from app.tenants")
    found = _kinds(_preflight(target, plan), "not_empty")
    assert set(found) == {"schema app", "app.tenants", "app.notes"}
    assert query(target, "select count(*) from app.tenants") == rows
    result = invoke("preflight", "--project-dir", str(tmp_path), "--target", target)
    assert result.exit_code == 1
    assert "not_empty" in result.output and "app.tenants exists" in result.output
    with pytest.raises(PgConvoyError, match="cannot take this migration"):
        preflight.refuse(_preflight(target, plan))
    assert {f.kind for f in preflight.refuse(_preflight(target, plan), allow_nonempty=True)} == {"not_empty"}


def test_roles_of_the_project_the_role_cannot_create(new_db: DatabaseFactory, tmp_path: Path, roles: list[str],
                                                     pg_server: str) -> None:
    """A CREATEROLE role without CREATEDB cannot create a CREATEDB role, nor grant a role it has no ADMIN
    OPTION on (PostgreSQL 16 on)."""
    parent = new_role(roles, pg_server)
    declared = f"pf_declared_{os.getpid()}"
    roles.append(declared)
    plan = _compile(tmp_path, new_db(sql="create table t (id int primary key);"),
                    project=f"roles: [{{name: {declared}, createdb: true, member_of: [{parent}]}}]")
    assert plan.requires is not None
    assert [(r.name, r.member_of) for r in plan.requires.creates_roles] == [(declared, (parent,))]
    target = new_db()
    user = new_role(roles, pg_server, "LOGIN CREATEROLE")
    run_sql(target, f'GRANT CREATE ON SCHEMA public TO "{user}"')
    found = _preflight(_as(target, user), plan)
    assert _kinds(found, "role_missing") == {}
    created = _kinds(found, "create_role_privilege")
    assert list(created) == [declared] and "lacks CREATEDB" in created[declared].message
    assert list(_kinds(found, "grant_privilege")) == [f"{parent} -> {declared}"]
    run_sql(pg_server, f'ALTER ROLE "{user}" CREATEDB; GRANT "{parent}" TO "{user}" WITH ADMIN OPTION')
    assert _preflight(_as(target, user), plan) == []


PLATFORM = """
create schema auth;
create table auth.users (id uuid primary key, email text, phone text);
create table auth.identities (id uuid primary key, user_id uuid not null references auth.users, provider text);
create table public.profiles (id uuid primary key references auth.users, name text);
"""


def test_platform_data_tables_missing_short_of_a_column_or_closed_to_the_role(
        new_db: DatabaseFactory, tmp_path: Path, pg_server: str, roles: list[str]) -> None:
    source = new_db(sql=PLATFORM)
    plan = _compile(tmp_path, source, project="platform_data: [auth.users, auth.identities]")
    assert plan.requires is not None
    assert [(str(n), cols) for n, cols in plan.requires.platform_tables] == [
        ("auth.users", ("id", "email", "phone")), ("auth.identities", ("id", "user_id", "provider"))]
    # an older platform: no phone column, no identities table; a role that may read users but not insert
    target = new_db(sql="create schema auth; create table auth.users (id uuid primary key, email text);")
    user = new_role(roles, pg_server, "LOGIN")
    run_sql(target, f'grant usage on schema auth, public to "{user}"; grant select on auth.users to "{user}"; '
                    f'grant create on schema public to "{user}"')
    found = _preflight(_as(target, user), plan)
    assert set(_kinds(found, "platform_table")) == {"auth.identities"}
    assert "phone" in _kinds(found, "platform_columns")["auth.users"].message
    assert "cannot INSERT" in _kinds(found, "platform_privilege")["auth.users"].message
    # what a platform of the source's version gives: nothing to report
    run_sql(target, "alter table auth.users add column phone text; create table auth.identities (id uuid primary key,"
                    " user_id uuid not null references auth.users, provider text); "
                    f'grant insert on auth.users, auth.identities to "{user}"')
    found = _preflight(_as(target, user), plan)
    assert not [f for f in found if f.kind.startswith("platform")], found
