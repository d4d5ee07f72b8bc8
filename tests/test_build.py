"""`check` and `build` end to end: the pull-request gate on the repository's own project."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import DatabaseFactory, invoke, repository_project, run_sql
from pgconvoy import samples


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own project (the sample), copied so the test can write target/."""
    return repository_project(tmp_path_factory.mktemp("build") / "project")


def test_build_of_the_repository_project_passes_and_writes_junit(project: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    junit = project / "out" / "junit.xml"
    result = invoke("build", "--project-dir", str(project), "--format", "junit", "--output", str(junit))
    assert result.exit_code == 0, result.output
    summary = re.search(r"PASS=(\d+) WARN=(\d+) FAIL=(\d+) ERROR=(\d+) SKIP=(\d+) TOTAL=(\d+)", result.stderr)
    assert summary is not None
    passed, warned, failed, errors, skipped, total = map(int, summary.groups())
    assert failed == errors == 0 and total == passed + warned + skipped and total > 50
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")  # type: ignore[assignment]
    assert suite is not None and int(suite.get("tests", "0")) == total
    assert int(suite.get("failures", "0")) == 0 and len(suite.findall("testcase")) == total


def test_check_on_a_broken_target_fails_and_names_the_check(project: Path, new_db: DatabaseFactory,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    target = new_db(files=["sample:supabase_platform", "sample:hotel"])
    clean = invoke("check", "--project-dir", str(project), "--target", target, "--format", "json")
    assert clean.exit_code == 0, clean.stdout
    run_sql(target, "delete from public.chat_messages where id in (select id from public.chat_messages limit 40);"
                    "drop policy \"Members can view their hotels\" on public.hotels;")
    broken = invoke("check", "--project-dir", str(project), "--target", target, "--format", "json")
    assert broken.exit_code == 1
    data = json.loads(broken.stdout)
    results = data["results"] if isinstance(data, dict) else data
    failed = {r["name"]: r["message"] for r in results if r["status"] == "FAIL"}
    assert "public.chat_messages has" in failed["rule:row_count_out_of_tolerance"]
    assert "public.hotels has no policy 'Members can view their hotels'" in failed["rule:policy_missing"]


def test_github_annotations(project: Path, new_db: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    target = new_db(files=["sample:supabase_platform", "sample:hotel"])
    run_sql(target, "delete from public.job_logs")
    result = invoke("check", "--project-dir", str(project), "--target", target, "--format", "github",
                    "--select", "rule:row_count*")
    assert result.exit_code == 1
    lines = [ln for ln in result.stdout.splitlines() if ln]
    assert lines and all(re.match(r"^::(error|warning|notice)( [a-z]+=[^:]*)?::", ln) for ln in lines)
    assert any("public.job_logs" in ln for ln in lines)


def test_check_against_an_unreachable_target_is_exit_2(project: Path) -> None:
    result = invoke("check", "--project-dir", str(project), "--target", "postgresql://u:pw@127.0.0.1:1/x")
    assert result.exit_code == 2 and "pw@" not in result.stderr


def test_compare_sample_with_itself_and_a_changed_copy(new_db: DatabaseFactory) -> None:
    a = new_db(files=["sample:supabase_platform", "sample:hotel"])
    b = new_db(sql=samples.sql_text(samples.STUB) + samples.sql_text("hotel"))
    assert invoke("compare", a, b, "--schemas", "public,hotels").exit_code == 0
    run_sql(b, "update public.hotels set name = name || '!' "
               "where id = (select id from public.hotels order by id limit 1)")
    result = invoke("compare", a, b, "--schemas", "public,hotels", "--format", "json")
    assert result.exit_code == 1
    assert any("public.hotels" in json.dumps(d) for d in json.loads(result.stdout)["differences"])


def test_build_into_a_given_empty_database(project: Path, new_db: DatabaseFactory,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    scratch_db = new_db()
    result = invoke("build", "--project-dir", str(project), "--scratch", "url", "--scratch-url", scratch_db,
                    "--format", "json")
    assert result.exit_code == 0, result.output
    assert all(r["status"] in ("PASS", "WARN") for r in json.loads(result.stdout)["results"])
    from conftest import query

    assert query(scratch_db, "select count(*) from public.code_embeddings") == [(4333,)]


def test_build_of_a_source_that_grants_to_its_own_roles(new_db: DatabaseFactory, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The scratch server has none of the source's roles: build gives it a stand-in for each role a grant or
    a policy names, so the GRANTs and CREATE POLICYs of target/ load (before, build failed on them)."""
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    source = new_db(sql="create table t (id int primary key, owner text);")
    roles = ["pc_build_reader", "Pc Build Writer"]
    run_sql(source, 'create role pc_build_reader; create role "Pc Build Writer";'
                    'grant select on t to pc_build_reader; grant insert (owner) on t to "Pc Build Writer";'
                    "alter table t enable row level security;"
                    'create policy mine on t for select to pc_build_reader, "Pc Build Writer" '
                    "using (owner = current_user);")
    try:
        assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
        result = invoke("build", "--project-dir", str(tmp_path), "--format", "json")
        assert result.exit_code == 0, result.output
    finally:
        run_sql(source, "drop table t")
        for role in roles:
            run_sql(source, f'drop role "{role}"')


def test_a_build_that_does_not_load_says_so_without_resume(new_db: DatabaseFactory, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A scratch database is thrown away: the failure names the statement and asks for a new build, not
    for `run --resume`."""
    from fidelity import resign

    from pgconvoy import gate
    from pgconvoy.manifest import load_project

    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    source = new_db(sql="create table t (id int primary key); insert into t values (1), (2);")
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    assert invoke("compile", "--project-dir", str(tmp_path), "--source", source).exit_code == 0
    (data,) = tmp_path.glob("target/*-data-*.sql")
    data.write_text(data.read_text().replace("COPY public.t (id)", "COPY public.t (id, nope)"))
    resign(tmp_path / "target")
    with pytest.raises(gate.runner.RunFailed) as failed:
        gate.check_scratch(tmp_path, load_project(tmp_path), gate.ScratchOptions())
    assert "does not load into a scratch database" in failed.value.message and "nope" in failed.value.message
    assert "resume" not in (failed.value.hint or "") and "compile and build again" in (failed.value.hint or "")


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-not-found, unused-ignore]

        docker.from_env().ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _docker_answers(), reason="no Docker daemon answers on this machine")
def test_build_into_a_docker_postgres_15(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    result = invoke("build", "--project-dir", str(project), "--scratch", "docker", "--image", "pgvector/pgvector:pg15")
    assert result.exit_code == 0, result.output


def test_docker_scratch_without_a_daemon_is_a_clear_exit_2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if _docker_answers():
        pytest.skip("a Docker daemon answers here")
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = invoke("check", "--project-dir", str(project), "--scratch", "docker")
    assert result.exit_code == 2
    assert "Docker" in result.stderr


def test_custom_checks_use_project_wide_defaults(project: Path, new_db: DatabaseFactory, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """checks/*.sql and checks/*.yml without thresholds of their own take project.yml's check_defaults."""
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    own = repository_project(tmp_path / "own")
    (own / "checks").mkdir(exist_ok=True)
    # 3 failing rows each: hotels as failing rows
    (own / "checks" / "three_hotels.sql").write_text("select id from public.hotels\n")
    (own / "checks" / "more.yml").write_text("checks:\n  - name: three_tenants\n"
                                             "    sql: select tenant_id from public.tenant_registry\n")
    target = new_db(files=["sample:supabase_platform", "sample:hotel"])

    def statuses(defaults: str) -> dict[str, str]:
        text = (project / "project.yml").read_text() + defaults
        (own / "project.yml").write_text(text)
        result = invoke("check", "--project-dir", str(own), "--target", target, "--format", "json",
                        "--select", "custom:*")
        return {r["name"]: r["status"] for r in json.loads(result.stdout)["results"]}

    assert statuses("") == {"custom:three_hotels": "FAIL", "custom:three_tenants": "FAIL"}
    relaxed = "check_defaults: {error_if: '>5', warn_if: '>0'}\n"
    assert statuses(relaxed) == {"custom:three_hotels": "WARN", "custom:three_tenants": "WARN"}
    assert statuses("check_defaults: {severity: warn, warn_if: '>10'}\n") == {
        "custom:three_hotels": "PASS", "custom:three_tenants": "PASS"}


def test_a_build_that_does_not_compile_reports_its_findings_in_sarif(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No check runs when compile has errors: the machine formats carry the findings instead, on their lines."""
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    own = repository_project(tmp_path / "own")
    group = own / "groups" / "01-foundation.yml"
    group.write_text(group.read_text().replace("  - hotels: {rows: 3}\n", "  - hotels: {rows: 3}\n  - no_such_table\n"))
    line = group.read_text().splitlines().index("  - no_such_table") + 1
    monkeypatch.chdir(own)
    result = invoke("build", "--format", "sarif")
    assert result.exit_code == 1 and "Not compiled" in result.stderr
    results = json.loads(result.stdout)["runs"][0]["results"]
    unknown = next(r for r in results if r["ruleId"] == "PC102")
    assert unknown["level"] == "error" and "no_such_table" in unknown["message"]["text"]
    assert unknown["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "groups/01-foundation.yml"}, "region": {"startLine": line}}
