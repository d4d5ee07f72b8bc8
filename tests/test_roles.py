"""project.yml `roles:`: init proposes the source's application roles, compile renders them into the shared
file (created when missing, memberships granted when missing), run creates them on a target that lacks them,
and the platform's roles or a password are refused with the file and line."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import yaml

from conftest import DatabaseFactory, invoke, new_role, query, run_sql
from pgconvoy import compiler, preflight, runner
from pgconvoy.manifest import ManifestError, load_project
from pgconvoy.runner import contract


def test_init_compile_run_creates_the_roles_grants_name(new_db: DatabaseFactory, tmp_path: Path,
                                                        roles: list[str], pg_server: str) -> None:
    parent = new_role(roles, pg_server)
    reader = new_role(roles, pg_server, f'LOGIN NOINHERIT CONNECTION LIMIT 3 IN ROLE "{parent}", pg_read_all_data')
    source = new_db(sql=f"""create table notes (id int primary key, owner text);
        grant select on notes to "{reader}";
        alter table notes enable row level security;
        create policy readers on notes for select to "{parent}" using (true);""")
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    declared = yaml.safe_load((tmp_path / "project.yml").read_text())["roles"]
    assert declared == [{"name": parent},
                        {"name": reader, "login": True, "inherit": False, "connection_limit": 3,
                         "member_of": sorted([parent, "pg_read_all_data"])}]
    result = compiler.compile_project(tmp_path, source=source)
    assert result.ok, [str(f) for f in result.findings]
    shared = (tmp_path / "target" / "00-schema-shared.sql").read_text()
    assert "pg_catalog.format('CREATE ROLE %I WITH LOGIN NOINHERIT" in shared and "$roles$" in shared
    plan = contract.read(tmp_path / "target")
    assert plan.requires is not None
    assert [r.name for r in plan.requires.creates_roles] == [parent, reader]

    # The target's cluster has neither role: the migration creates both, with their memberships.
    run_sql(source, f'DROP OWNED BY "{reader}", "{parent}"')
    run_sql(pg_server, f'DROP ROLE "{reader}"; DROP ROLE "{parent}"')
    target = new_db()
    with psycopg.connect(target) as conn:
        assert preflight.findings(conn, plan) == []
    runner.run(target, tmp_path / "target")
    assert query(target, "select rolcanlogin, rolinherit, rolconnlimit from pg_roles where rolname = %s",
                 (reader,)) == [(True, False, 3)]
    assert sorted(r[0] for r in query(
        target, "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
                "join pg_roles u on u.oid = m.member where u.rolname = %s", (reader,))) \
        == sorted([parent, "pg_read_all_data"])
    assert query(target, "select has_table_privilege(%s, 'public.notes', 'SELECT')", (reader,)) == [(True,)]
    assert query(target, "select polroles::regrole[]::text[] from pg_policy") == [([parent],)]
    # A second target of the same cluster: the roles exist, the file skips them and loads.
    runner.run(new_db(), tmp_path / "target")


def test_a_reserved_role_is_refused_with_its_line(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql="create table t (id int primary key);")
    (tmp_path / "project.yml").write_text("name: r\nroles:\n  - name: app_reader\n    login: true\n"
                                          "  - name: service_role\n")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "01-all.yml").write_text("tables: [t]\n")
    result = compiler.compile_project(tmp_path, source=source)
    assert not result.ok and result.files == ()
    [found] = [f for f in result.findings if f.code == "PC701"]
    assert (found.file, found.line, found.severity) == ("project.yml", 5, "error")
    assert "'service_role' is a role the platform reserves" in found.message


@pytest.mark.parametrize(("entry", "problem"), [
    ("{name: app, password: secret}", "project.yml:3: roles[0]: a role's password is never written into a migration"),
    ("{name: app, superuser: true}", "project.yml:3: roles[0].superuser: unknown key"),
    ("{name: app, connection_limit: -2}", "project.yml:3: roles[0].connection_limit: expected a number >= -1"),
])
def test_a_role_entry_is_validated_with_its_line(tmp_path: Path, entry: str, problem: str) -> None:
    (tmp_path / "project.yml").write_text(f"name: r\nroles:\n  - {entry}\n")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "01-all.yml").write_text("tables: [t]\n")
    with pytest.raises(ManifestError) as raised:
        load_project(tmp_path)
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems
