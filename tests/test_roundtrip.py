"""The core promise: a migration rendered by pgconvoy, applied to an empty database, gives the same schema
and the same data as the source. Proven through the commands users run (`compile`, `run`), on the sample,
on a `deferred` table, and on a run killed half-way through a data file and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fidelity import prepared_target, schema_lines

from conftest import DatabaseFactory, invoke, query, repository_project, run_sql
from pgconvoy import compare, samples


def assert_same(source: str, target: str, schemas: list[str]) -> None:
    assert schema_lines(target) == schema_lines(source)
    result = compare.compare_urls(source, target, schemas=schemas)
    assert result.equal, result.differences
    assert result.tables and all(t.checksum_equal and t.rows_a == t.rows_b for t in result.tables)


def project_copy(tmp_path: Path, data_format: str = "copy", foreign_keys: str = "during") -> Path:
    project = repository_project(tmp_path / "project")
    text = (project / "project.yml").read_text()
    data = f"data: {{format: {data_format}, foreign_keys: {foreign_keys}}}"
    (project / "project.yml").write_text(text.replace("data: {format: copy}", data))
    return project


@pytest.mark.parametrize(("data_format", "foreign_keys"), [("copy", "during"), ("insert", "during"),
                                                         ("copy", "after")])
def test_sample_round_trip(new_db: DatabaseFactory, tmp_path: Path, data_format: str, foreign_keys: str) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = project_copy(tmp_path, data_format, foreign_keys)
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    data_file = (project / "target" / "13-data-reservations.sql").read_text()
    assert ("COPY public.calendar_events" in data_file) == (data_format == "copy")
    schema_file = (project / "target" / "04-schema-reservations.sql").read_text()
    assert ("FOREIGN KEY" in schema_file) == (foreign_keys == "during")
    target = prepared_target(new_db, source)
    ran = invoke("run", "--project-dir", str(project), "--target", target)
    assert ran.exit_code == 0, ran.output
    assert_same(source, target, ["public", "hotels"])
    positions = "select schemaname, sequencename, last_value from pg_sequences order by 1, 2"
    assert query(target, positions) == query(source, positions)


# Every row references the next one, so each INSERT batch (500 rows) points into the batch after it.
# Within one statement immediate checks wait for the statement's end (a single COPY would pass anyway);
# across statements the FK must be added after the data, or be DEFERRABLE and checked at commit.
def chained_nodes(fk: str) -> str:
    return f"""
create table nodes (id int primary key, parent_id int references nodes {fk}, label text);
insert into nodes select g, nullif(g + 1, 1201), 'n' || g from generate_series(1, 1200) g;
"""


def compile_one_group(source: str, directory: Path, tables: str) -> Path:
    """A one-group project over `source` in INSERT format, compiled; returns its target directory."""
    (directory / "groups").mkdir()
    # keys in place while rows load: what these tests are about
    (directory / "project.yml").write_text("name: t\nschemas: [public]\ndata: {format: insert, foreign_keys: during}\n")
    (directory / "groups" / "01-all.yml").write_text(f"tables: {tables}\n")
    compiled = invoke("compile", "--project-dir", str(directory), "--source", source, "--format", "json")
    assert compiled.exit_code == 0, compiled.stdout
    return directory / "target"


def run_and_compare(new_db: DatabaseFactory, source: str, directory: Path) -> None:
    target = new_db()
    ran = invoke("run", "--project-dir", str(directory), "--target", target)
    assert ran.exit_code == 0, ran.output
    assert_same(source, target, ["public"])


def test_deferred_table_loads_without_a_second_pass(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql=chained_nodes(""))
    target_dir = compile_one_group(source, tmp_path, "[{nodes: {rows: 1200, deferred: true}}]")
    assert "FOREIGN KEY" not in (target_dir / "01-schema-all.sql").read_text()
    late = "".join(p.read_text() for p in target_dir.glob("*-post-constraints.sql"))
    assert "FOREIGN KEY (parent_id)" in late  # added once the rows are in
    run_and_compare(new_db, source, tmp_path)


def test_deferrable_self_reference_loads_without_two_pass(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(sql=chained_nodes("deferrable"))
    target_dir = compile_one_group(source, tmp_path, "[nodes]")
    assert "DEFERRABLE" in (target_dir / "01-schema-all.sql").read_text()  # in place during the load
    run_and_compare(new_db, source, tmp_path)


BIG_SQL = """
create table parents (id int primary key, name text not null);
create table children (id bigint generated always as identity primary key,
                       parent_id int not null references parents, body text, doc jsonb);
insert into parents select g, 'p' || g from generate_series(1, 1000) g;
insert into children (parent_id, body, doc)
select 1 + g % 1000, repeat(md5(g::text), 8), jsonb_build_object('n', g, 'tags', array['a', 'b'])
from generate_series(1, 150000) g;
"""


def test_run_killed_in_the_middle_of_a_data_file_resumes_to_the_same_result(
    new_db: DatabaseFactory, tmp_path: Path
) -> None:
    source = new_db(sql=BIG_SQL)
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    assert invoke("compile", "--project-dir", str(tmp_path), "--source", source).exit_code == 0
    target = new_db()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgconvoy.cli", "run", "--project-dir", str(tmp_path), "--target", target],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ | {"PYTHONWARNINGS": "ignore"},
    )
    try:
        assert _wait_for_copy(target, proc), "the run never reached a COPY"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    state = json.loads((tmp_path / "target" / "run_results.json").read_text())
    done = {name for name, f in state["files"].items() if f["status"] == "done"}
    data_files = sorted(p.name for p in (tmp_path / "target").glob("*-data-*.sql"))
    assert not set(data_files) <= done, "the kill came after the data: the test proved nothing"
    _wait_until_idle(target)
    ((loaded,),) = query(target, "select count(*) from public.children")
    assert loaded == 0  # the killed file's transaction left nothing behind

    refused = invoke("run", "--project-dir", str(tmp_path), "--target", target)
    assert refused.exit_code != 0  # a half-loaded target is not loaded again from scratch by accident
    resumed = invoke("run", "--project-dir", str(tmp_path), "--target", target, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert_same(source, target, ["public"])

    uninterrupted = new_db()
    assert invoke("run", "--project-dir", str(tmp_path), "--target", uninterrupted).exit_code == 0
    assert compare.compare_urls(target, uninterrupted, schemas=["public"]).equal


def _wait_for_copy(target: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    with psycopg.connect(target, autocommit=True) as conn:
        while time.monotonic() < deadline and proc.poll() is None:
            row = conn.execute("select count(*) from pg_stat_activity where application_name = 'pgconvoy' "
                               "and query ilike '%copy public.children%'").fetchone()
            if row and row[0]:
                return True
            time.sleep(0.01)
    return False


def _wait_until_idle(target: str, seconds: float = 30) -> None:
    """The server notices the killed client on its next read; wait until its backend is gone."""
    deadline = time.monotonic() + seconds
    with psycopg.connect(target, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select count(*) from pg_stat_activity where application_name = 'pgconvoy' "
                               "and pid <> pg_backend_pid()").fetchone()
            if row and row[0] == 0:
                return
            time.sleep(0.05)


def test_the_rows_really_moved(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """Guard against a vacuous comparison: a target missing one row must not compare equal."""
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    target = new_db(sql=samples.sql_text(samples.STUB) + samples.sql_text("hotel"))
    run_sql(target, "delete from public.chat_messages where ctid = (select min(ctid) from public.chat_messages)")
    assert not compare.compare_urls(source, target, schemas=["public", "hotels"]).equal
