"""`run --source`: rows copied server to server in the run's own snapshot, in parallel where no foreign key
is in place, binary where the types allow it. Judged as every round trip is: pg_dump of both sides line
for line, per-table checksums, sequence positions; and a streaming run killed mid-copy, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fidelity import prepared_target
from test_roundtrip import assert_same, project_copy

from conftest import DatabaseFactory, invoke, pg15_database, query, run_sql


def streaming_project(tmp_path: Path, foreign_keys: str, rows: str) -> Path:
    project = project_copy(tmp_path, "copy", foreign_keys)
    text = (project / "project.yml").read_text()
    (project / "project.yml").write_text(text.replace(f"foreign_keys: {foreign_keys}}}",
                                                      f"foreign_keys: {foreign_keys}, rows: {rows}}}"))
    return project


def manifest(project: Path) -> dict[str, object]:
    return json.loads((project / "target" / "manifest.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(("foreign_keys", "rows", "jobs"), [("after", "stream", "2"), ("during", "files", "2"),
                                                           ("after", "files", "2"), ("after", "stream", "1")])
def test_sample_streams_equal_to_the_source(new_db: DatabaseFactory, tmp_path: Path, foreign_keys: str, rows: str,
                                            jobs: str) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = streaming_project(tmp_path, foreign_keys, rows)
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    data_file = (project / "target" / "13-data-reservations.sql").read_text()
    assert ("COPY public.calendar_events" in data_file) == (rows == "files")
    if streamed_rows := rows == "stream" or foreign_keys == "during":
        # rows written after compile travel too: the run reads its own snapshot, sequences included
        run_sql(source, "insert into public.hotels (id, tenant_id, name) select gen_random_uuid(), tenant_id, "
                "'late' from public.tenant_registry limit 3; select nextval(c.oid) from pg_class c where "
                "c.relkind = 'S' and c.relnamespace in ('public'::regnamespace, 'hotels'::regnamespace)")
    target = prepared_target(new_db, source)
    if rows == "stream":
        refused = invoke("run", "--project-dir", str(project), "--target", target)
        assert refused.exit_code == 2 and "--source" in refused.output
    streamed = ["--source", source] if streamed_rows else []
    ran = invoke("run", "--project-dir", str(project), "--target", target, *streamed, "--jobs", jobs)
    assert ran.exit_code == 0, ran.output
    assert_same(source, target, ["public", "hotels"])
    positions = "select schemaname, sequencename, last_value from pg_sequences order by 1, 2"
    assert query(target, positions) == query(source, positions)
    units = [r[0] for r in query(target, "select file from pgconvoy.applied")]
    assert any("#rows:" in u for u in units) == (foreign_keys == "after")  # table by table, in parallel or not


TYPES = """
create extension if not exists vector;
create type mood as enum ('sad', 'ok', 'happy');
create type pair as (a int, b text);
create domain short_text as text check (length(value) < 100);
create table plain (id bigint primary key, v vector(3), j jsonb, n numeric, t text[], m mood, d short_text,
                    r int4range, ts timestamptz, b bytea);
create table moods (id int primary key, ms mood[]);
create table pairs (id int primary key, p pair);
insert into plain select g, ('[' || g || ',2,3]')::vector, jsonb_build_object('g', g), g / 7.0,
       array['a', 'b' || g], 'ok', 'x' || g, int4range(g, g + 5), '2026-01-01'::timestamptz + g * interval '1 h',
       decode(md5(g::text), 'hex') from generate_series(1, 500) g;
insert into moods select g, array['sad', 'happy']::mood[] from generate_series(1, 50) g;
insert into pairs select g, row(g, 'p' || g)::pair from generate_series(1, 50) g;
"""


def types_project(tmp_path: Path) -> Path:
    project = tmp_path / "types"
    (project / "groups").mkdir(parents=True)
    (project / "project.yml").write_text("name: t\nschemas: [public]\ndata: {foreign_keys: after, rows: stream}\n")
    (project / "groups" / "01-all.yml").write_text("tables: [plain, moods, pairs]\n")
    return project


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_binary_where_the_types_allow_it_text_elsewhere(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db()
    run_sql(source, TYPES)
    project = types_project(tmp_path)
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    steps = {s["table"]: s["binary"] for f in manifest(project)["files"]  # type: ignore[attr-defined]
             for s in f.get("stream") or []}
    # an array of an enum names the enum's OID, a composite value its fields' types: both differ per database
    assert steps == {"plain": True, "moods": False, "pairs": False}
    target = new_db()
    ran = invoke("run", "--project-dir", str(project), "--target", target, "--source", source)
    assert ran.exit_code == 0, ran.output
    assert_same(source, target, ["public"])


def test_between_major_versions_rows_travel_as_text(new_db: DatabaseFactory, pg15: str, tmp_path: Path) -> None:
    source = pg15_database(pg15, "stream_types")
    run_sql(source, TYPES.replace("create extension if not exists vector;\n", "").replace(" v vector(3),", "")
            .replace("('[' || g || ',2,3]')::vector, ", ""))
    project = types_project(tmp_path)
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    target = new_db()
    ran = invoke("run", "--project-dir", str(project), "--target", target, "--source", source)
    assert ran.exit_code == 0, ran.output
    from pgconvoy import compare

    result = compare.compare_urls(source, target, schemas=["public"])
    assert all(t.checksum_equal and t.rows_a == t.rows_b for t in result.tables), result.differences


def test_a_streaming_run_killed_mid_copy_resumes_to_the_same_data(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db()
    run_sql(source, """
        create table small (id int primary key, note text);
        create table big (id bigint primary key, small_id int references small, body text);
        insert into small select g, 's' || g from generate_series(1, 100) g;
        insert into big select g, 1 + g % 100, repeat(md5(g::text), 8) from generate_series(1, 400000) g;
    """)
    project = tmp_path / "kill"
    (project / "groups").mkdir(parents=True)
    (project / "project.yml").write_text("name: k\nschemas: [public]\ndata: {foreign_keys: after, rows: stream}\n")
    (project / "groups" / "01-all.yml").write_text("tables: [small, big]\n")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    target = new_db()
    cli = [sys.executable, "-m", "pgconvoy.cli", "run", "--project-dir", str(project), "--target", target,
           "--source", source, "--jobs", "2"]
    proc = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # the small table is in, the big one half way
            if query(target, "select to_regclass('pgconvoy.applied') is not null")[0][0] and query(
                    target, "select count(*) from pgconvoy.applied where file like '%#rows:public.small'")[0][0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run never loaded the small table")
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the run only: its workers must die with it
        proc.wait()
    for _ in range(40):  # a worker left running would finish the big table and commit it
        if query(target, "select count(*) from big")[0][0]:
            break
        time.sleep(0.25)
    assert query(target, "select count(*) from big")[0][0] == 0  # its transaction died with the run
    assert not query(target, "select file from pgconvoy.applied where file like '%#rows:public.big'")
    os.killpg(proc.pid, signal.SIGKILL) if _group_alive(proc.pid) else None
    resumed = invoke("run", "--project-dir", str(project), "--target", target, "--source", source, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert query(target, "select count(*) from big")[0][0] == 400000
    from pgconvoy import compare

    result = compare.compare_urls(source, target, schemas=["public"])
    assert result.equal, result.differences


def test_indexes_build_in_parallel_per_table_and_resume_per_table(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = project_copy(tmp_path, "copy", "after")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    indexes = next(f for f in manifest(project)["files"] if f["name"].endswith("-post-indexes.sql"))  # type: ignore
    tables = {(b["schema"], b["table"]) for b in indexes["batches"] if b["kind"] == "table"}
    assert len(tables) > 5
    target = prepared_target(new_db, source)
    # a relation holding the name of one table's primary key makes that table's batch fail, and only it
    schema, table = sorted(tables)[0]
    pkey = query(source, "select conname from pg_constraint where conrelid = %s::regclass and contype = 'p'",
                 (f'"{schema}"."{table}"',))[0][0]
    first = invoke("run", "--project-dir", str(project), "--target", target, "--only", "0*-schema-*.sql")
    assert first.exit_code == 0, first.output
    run_sql(target, f'create table "{schema}"."{pkey}" (x int)')
    failed = invoke("run", "--project-dir", str(project), "--target", target, "--resume", "--jobs", "2")
    assert failed.exit_code == 1 and indexes["name"] in failed.output and pkey in failed.output, failed.output
    built = {r[0] for r in query(target, "select file from pgconvoy.applied where file like %s",
                                 (indexes["name"] + "#table:%",))}
    assert len(built) == len(tables) - 1 and not any(f"{schema}.{table}" in b for b in built)
    run_sql(target, f'drop table "{schema}"."{pkey}"')
    resumed = invoke("run", "--project-dir", str(project), "--target", target, "--resume", "--jobs", "2")
    assert resumed.exit_code == 0, resumed.output
    assert_same(source, target, ["public", "hotels"])
    # the foreign keys were added NOT VALID, then validated one table per worker: valid as on the source
    constraints = next(f for f in manifest(project)["files"]  # type: ignore[attr-defined]
                       if f["name"].endswith("-post-constraints.sql"))
    validated = {(b["schema"], b["table"]) for b in constraints["batches"] if b["kind"] == "table"}
    assert len(validated) > 5
    assert len(query(target, "select 1 from pgconvoy.applied where file like %s",
                     (constraints["name"] + "#table:%",))) == len(validated)
    fks = "select conrelid::regclass::text, conname, convalidated from pg_constraint where contype = 'f' order by 1, 2"
    assert query(target, fks) == query(source, fks)


def test_parallel_file_load_refuses_rows_changed_since_compile(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db()
    run_sql(source, """
        create table a (id int primary key, note text);
        create table b (id int primary key, a_id int references a, note text);
        insert into a select g, 'a' || g from generate_series(1, 1000) g;
        insert into b select g, 1 + g % 1000, 'b' || g from generate_series(1, 1000) g;
    """)
    project = tmp_path / "edit"
    (project / "groups").mkdir(parents=True)
    (project / "project.yml").write_text("name: e\nschemas: [public]\ndata: {foreign_keys: after}\n")
    (project / "groups" / "01-all.yml").write_text("tables: [a, b]\n")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    data = next(f for f in manifest(project)["files"] if f["step"] == "data")  # type: ignore[attr-defined]
    step = next(s for s in data["stream"] if s["table"] == "b")
    path = project / "target" / data["name"]
    raw = bytearray(path.read_bytes())
    at = step["offset"] + raw[step["offset"]:].index(b"b1")  # one value of table b, same length: 'b1' -> 'c1'
    raw[at] = ord("c")
    path.write_bytes(bytes(raw))
    target = new_db()
    ran = invoke("run", "--project-dir", str(project), "--target", target, "--jobs", "2")
    assert ran.exit_code == 1 and "public.b: its rows in" in ran.output and "changed since compile" in ran.output
    assert query(target, "select count(*) from b")[0][0] == 0
    assert query(target, "select count(*) from a")[0][0] == 1000  # the other table's transaction stands


@pytest.mark.parametrize("rows", ["files", "stream"])
def test_large_tables_load_in_parts(new_db: DatabaseFactory, tmp_path: Path, rows: str) -> None:
    source = new_db()
    run_sql(source, """
        create table keyed (id bigint primary key, body text);
        create table heap (n int, body text);
        insert into keyed select g, repeat(md5(g::text), 4) from generate_series(1, 20000) g;
        insert into heap select g, repeat(md5(g::text), 4) from generate_series(1, 20000) g;
    """)
    project = tmp_path / "split"
    (project / "groups").mkdir(parents=True)
    (project / "project.yml").write_text(
        f"name: s\nschemas: [public]\ndata: {{foreign_keys: after, rows: {rows}, split_larger_than: 1MB}}\n")
    (project / "groups" / "01-all.yml").write_text("tables: [keyed, heap]\n")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    steps = [s for f in manifest(project)["files"] for s in f.get("stream") or []]  # type: ignore[attr-defined]
    parts = {t["table"]: {s["part"]["by"] for s in steps if s["table"] == t["table"] and s.get("part")}
             for t in steps}
    assert parts == {"keyed": {"id"}, "heap": {"ctid"}}
    assert all(s["part"]["of"] >= 3 for s in steps)  # about 2.5 MB each: three parts of at most 1 MB
    # rows beyond the ranges seen at compile belong to the last part
    run_sql(source, "insert into keyed select g, 'late' from generate_series(30001, 30010) g")
    target = new_db()
    extra = ["--source", source] if rows == "stream" else []
    ran = invoke("run", "--project-dir", str(project), "--target", target, "--jobs", "2", *extra)
    assert ran.exit_code == 0, ran.output
    units = {r[0].split("#")[1] for r in query(target, "select file from pgconvoy.applied where file like '%#%'")}
    assert {u for u in units if u.startswith("rows:public.keyed[")} == {
        f"rows:public.keyed[{i}/{len([s for s in steps if s['table'] == 'keyed'])}]"
        for i in range(1, len([s for s in steps if s["table"] == "keyed"]) + 1)}
    from pgconvoy import compare

    result = compare.compare_urls(source, target, schemas=["public"])
    if rows == "files":  # the late rows were not exported
        assert query(target, "select count(*) from keyed")[0][0] == 20000
        assert query(target, "select count(*), sum(n) from heap") == query(source, "select count(*), sum(n) from heap")
    else:
        assert result.equal, result.differences


def test_batches_that_do_not_cover_the_indexes_file_are_refused(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = project_copy(tmp_path, "copy", "after")
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    doc = manifest(project)
    entry = next(f for f in doc["files"] if f["name"].endswith("-post-indexes.sql"))  # type: ignore[attr-defined]
    path = project / "target" / entry["name"]
    path.write_text(path.read_text() + "\nCREATE INDEX extra ON public.hotels (name);\n")
    from pgconvoy.data import file_sha256

    entry["sha256"] = file_sha256(path)  # a manifest edited by hand: the sha256 matches, the batches do not
    (project / "target" / "manifest.json").write_text(json.dumps(doc))
    target = prepared_target(new_db, source)
    ran = invoke("run", "--project-dir", str(project), "--target", target, "--jobs", "2")
    assert ran.exit_code == 1 and "it is not the file compile wrote" in ran.output, ran.output
    assert query(target, "select count(*) from pg_indexes where indexname = 'extra'")[0][0] == 0
