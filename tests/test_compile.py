"""`init` then `compile` on a real database: exit codes, determinism, nothing rendered on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DatabaseFactory, invoke, repository_project


@pytest.fixture
def sample_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    result = invoke("init", "--source", "sample:hotel", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    return tmp_path


def test_init_then_compile_has_no_error_finding(sample_project: Path) -> None:
    groups = sorted(p.name for p in (sample_project / "groups").glob("*.yml"))
    assert groups[0] == "01-foundation.yml" and len(groups) <= 9
    result = invoke("compile", "--project-dir", str(sample_project), "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, data["findings"]
    assert [f for f in data["findings"] if f["severity"] == "error"] == []
    files = data["files"]
    assert "01-schema-foundation.sql" in files and "10-data-foundation.sql" in files
    assert "manifest.json" in files and "MIGRATION_ORDER.md" in files


def test_init_never_overwrites_without_force(sample_project: Path) -> None:
    before = (sample_project / "project.yml").read_text()
    result = invoke("init", "--source", "sample:hotel", "--dir", str(sample_project))
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (sample_project / "project.yml").read_text() == before
    assert invoke("init", "--source", "sample:hotel", "--dir", str(sample_project), "--force").exit_code == 0


def test_compile_is_deterministic(sample_project: Path) -> None:
    def snapshot() -> dict[str, bytes]:
        target = sample_project / "target"
        return {p.relative_to(target).as_posix(): p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()}

    assert invoke("compile", "--project-dir", str(sample_project)).exit_code == 0
    first = snapshot()
    assert invoke("compile", "--project-dir", str(sample_project)).exit_code == 0
    assert snapshot() == first


def test_error_findings_exit_1_and_leave_target_untouched(sample_project: Path) -> None:
    assert invoke("compile", "--project-dir", str(sample_project)).exit_code == 0
    marker = (sample_project / "target" / "manifest.json").read_bytes()
    # move the group that holds the roots to the end: every other group now loads before what it references
    groups = sorted((sample_project / "groups").glob("*.yml"))
    groups[0].rename(groups[0].with_name("09-foundation.yml"))
    result = invoke("compile", "--project-dir", str(sample_project), "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["ok"] is False and data["files"] == []
    order = [f for f in data["findings"] if f["code"] == "PC201"]
    assert order and all(f["file"].startswith("groups/") and f["line"] > 0 for f in order)
    assert "09-foundation" in order[0]["message"] and "loads later" in order[0]["message"]
    assert (sample_project / "target" / "manifest.json").read_bytes() == marker


def test_compile_without_a_project_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("compile", "--project-dir", str(tmp_path))
    assert result.exit_code == 2 and "project.yml" in result.stderr


def test_compile_with_an_unreachable_source_is_exit_2(sample_project: Path) -> None:
    result = invoke("compile", "--project-dir", str(sample_project), "--source", "postgresql://u:pw@127.0.0.1:1/x")
    assert result.exit_code == 2 and "cannot connect" in result.stderr and "pw@" not in result.stderr


def test_repository_project_compiles_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    project = repository_project(tmp_path / "repo")
    result = invoke("compile", "--project-dir", str(project), "--format", "json")
    assert result.exit_code == 0, result.stdout
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    assert manifest["groups"][0]["name"] == "foundation"
    assert sum(g["rows"] for g in manifest["groups"]) == sum(
        t["rows"] for g in manifest["groups"] for t in g["tables"])


def test_new_database_compiles_with_cycles_and_self_references(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(files=["graph_fixture.sql"])
    assert invoke("init", "--source", uri, "--dir", str(tmp_path)).exit_code == 0
    result = invoke("compile", "--project-dir", str(tmp_path), "--source", uri, "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0, data["findings"]


def test_schema_command_writes_schemas_that_validate_the_repository_manifests(tmp_path: Path) -> None:
    import jsonschema
    import yaml

    from conftest import REPO

    result = invoke("schema", "--dir", str(tmp_path))
    assert result.exit_code == 0
    project_schema = json.loads((tmp_path / "project.schema.json").read_text())
    group_schema = json.loads((tmp_path / "group.schema.json").read_text())
    jsonschema.validate(yaml.safe_load((REPO / "project.yml").read_text()), project_schema)
    for group in sorted((REPO / "groups").glob("*.yml")):
        jsonschema.validate(yaml.safe_load(group.read_text()), group_schema)
    bad = {"tables": [{"hotels": {"rows": "three"}}], "colour": "blue"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, group_schema)


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("configured", ["groups", "groups/x", ".", "..", "../elsewhere", "<absolute>", "project.yml"])
def test_target_never_replaces_what_is_not_its_own(sample_project: Path, configured: str) -> None:
    """compile replaces target/ whole: pointed at the manifests, the project, or outside it, it refuses
    and changes nothing (before, `target: groups` deleted the group files). The absolute case is a
    directory of the test's own, never a shared one such as /tmp: were the guard broken, it is replaced."""
    if configured == "<absolute>":
        outside = sample_project.parent / "outside"
        outside.mkdir()
        (outside / "keep.txt").write_text("kept")
        configured = str(outside)
    project = sample_project / "project.yml"
    project.write_text(project.read_text() + f"target: {json.dumps(configured)}\n")
    watched = sample_project.parent if configured.startswith("..") or Path(configured).is_absolute() else sample_project
    before = _tree(watched)
    result = invoke("compile", "--project-dir", str(sample_project))
    assert result.exit_code == 2
    assert "project.yml: target:" in result.stderr
    assert _tree(watched) == before
    assert not list(sample_project.glob(".target-*"))


def test_target_with_files_of_its_own_is_not_replaced(sample_project: Path) -> None:
    mine = sample_project / "out"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    project = sample_project / "project.yml"
    project.write_text(project.read_text() + "target: out\n")
    result = invoke("compile", "--project-dir", str(sample_project))
    assert result.exit_code == 2 and "holds files pgconvoy did not write" in result.stderr
    assert (mine / "notes.txt").read_text() == "mine"
    (mine / "notes.txt").unlink()
    assert invoke("compile", "--project-dir", str(sample_project)).exit_code == 0  # empty: fine
    assert (mine / ".pgconvoy-target").is_file()
    assert invoke("compile", "--project-dir", str(sample_project)).exit_code == 0  # its own: replaced
    assert not list(sample_project.glob(".target-*")) and not list(sample_project.glob(".out-old"))


def test_a_table_truncated_and_reloaded_during_compile_is_exported_whole(
        new_db: DatabaseFactory, tmp_path: Path) -> None:
    """TRUNCATE is not MVCC-safe: a snapshot taken before it sees the table empty. compile takes ACCESS
    SHARE on every table before its snapshot, so the TRUNCATE waits for the export to end."""
    import subprocess
    import sys
    import threading
    import time

    import psycopg

    source = new_db(sql="create table big (id int primary key, body text);"
                        "insert into big select g, repeat(md5(g::text), 20) from generate_series(1, 200000) g;")
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    compile_ = subprocess.Popen([sys.executable, "-m", "pgconvoy.cli", "compile", "--project-dir", str(tmp_path),
                                 "--source", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    truncated: list[str] = []

    def truncate_and_reload() -> None:
        with psycopg.connect(source) as conn:
            conn.execute("truncate big")
            conn.execute("insert into big values (1, 'reloaded')")
            truncated.append("done")

    with psycopg.connect(source, autocommit=True) as watcher:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and compile_.poll() is None:
            held = watcher.execute("select count(*) from pg_locks l join pg_stat_activity a using (pid) "
                                   "where a.application_name = 'pgconvoy' and l.relation = 'big'::regclass "
                                   "and l.mode = 'AccessShareLock' and l.granted").fetchone()
            if held and held[0]:
                break
            time.sleep(0.005)
        assert compile_.poll() is None, "compile ended before the test saw its locks: make the table bigger"
        worker = threading.Thread(target=truncate_and_reload)
        worker.start()
        time.sleep(0.2)
        assert not truncated, "the TRUNCATE went through while compile held its snapshot"
    out, err = compile_.communicate(timeout=120)
    worker.join(timeout=60)
    assert truncated == ["done"]
    said = (out + err).decode()
    # Either pg_dump had its locks before the TRUNCATE queued: the export is the 200000 rows. Or it queued
    # behind it: compile let the TRUNCATE go first and read again, and saw the one reloaded row (which
    # init's expected count then flags). Never the empty table a snapshot before the TRUNCATE would see.
    if compile_.returncode == 0:
        data = (tmp_path / "target" / "10-data-foundation.sql").read_bytes()
        assert data.count(b"\n") > 200000 and b"reloaded" not in data
    else:
        assert compile_.returncode == 1, said
        assert "compile reads the source again" in said
        assert "public.big has 1 rows in the source, expected 200000" in said


def test_timeouts_of_compile_and_run_come_from_project_yml(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """compile waits `timeouts: compile: lock:` for its locks and names the blocker; run bounds each
    statement by `timeouts: run: statement:`; a duration that is none is refused with file and line."""
    import threading
    import time

    import psycopg

    source = new_db(sql="create table big (id int primary key); insert into big select generate_series(1, 100000);")
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    project = tmp_path / "project.yml"
    base = project.read_text()
    project.write_text(base + "timeouts: {compile: {lock: 300ms}, run: {lock: 1s, statement: 1ms}}\n")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(source) as conn:
            conn.execute("lock table big in access exclusive mode")
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        holding.wait(10)
        started = time.monotonic()
        blocked = invoke("compile", "--project-dir", str(tmp_path), "--source", source)
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join()
    assert blocked.exit_code == 2 and "within 0.3s" in blocked.stderr
    assert "public.big is locked by pid" in blocked.stderr
    assert "timeouts: compile: lock:" in blocked.stderr
    assert invoke("compile", "--project-dir", str(tmp_path), "--source", source).exit_code == 0
    target = new_db()
    ran = invoke("run", "--project-dir", str(tmp_path), "--target", target)
    assert ran.exit_code == 1 and "statement timeout" in ran.stderr, ran.output
    project.write_text(base + "timeouts: {run: {lock: soon}}\n")
    bad = invoke("compile", "--project-dir", str(tmp_path), "--source", source)
    assert bad.exit_code == 2 and "timeouts.run.lock: expected a duration" in bad.stderr
