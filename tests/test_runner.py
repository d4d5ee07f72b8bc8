"""The runner: files in order, one transaction each, clear errors, state for resume, refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from targets import write_manifest
from test_data_roundtrip import assert_same, make_source, read_catalog, schema_only_target

from conftest import DatabaseFactory, query, run_sql
from pgconvoy import data, graph, layout, runner
from pgconvoy.catalog.model import Name
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import apply, state


def two_groups(uri: str, target_dir: Path) -> list[data.DataFileInfo]:
    """Export the edge fixture as two groups: 10-data-first.sql and 11-data-second.sql."""
    cat = read_catalog(uri)
    order = graph.build(cat).order
    half = len(order) // 2
    rules = layout.load_rules(cat, [order[:half], order[half:]])
    groups = tuple(
        layout.Group(number, name, tables, tuple((t, rules.two_pass[t]) for t in tables if t in rules.two_pass),
                     tuple(t for t in tables if t in rules.deferred))
        for number, name, tables in ((1, "first", order[:half]), (2, "second", order[half:]))
    )
    with psycopg.connect(uri) as conn:
        return data.write_data(conn, cat, layout.Layout(groups), target_dir)


def corrupt_second_copy_block(path: Path) -> tuple[int, str]:
    """Make the first row of the file's second COPY block invalid; return (line number, table)."""
    lines = path.read_text().splitlines(keepends=True)
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY ")]
    at = copies[1] + 1
    lines[at] = "not-a-number" + lines[at][lines[at].index("\t"):]
    path.write_text("".join(lines))
    return at + 1, lines[copies[1]].split()[1]


def report(target_dir: Path) -> dict[str, str]:
    """target/run_results.json: what the last run did."""
    files = json.loads((target_dir / runner.STATE_FILE).read_text())["files"]
    return {name: entry["status"] for name, entry in files.items()}


def applied(target: str) -> list[str]:
    """What the target itself says was applied."""
    return [str(r[0]) for r in query(target, "select file from pgconvoy.applied order by finished_at, file")]


def exported(new_db: DatabaseFactory, tmp_path: Path) -> tuple[str, Path, str]:
    """The edge fixture in two groups, its manifest, and a target with its schema: (source, target/, target)."""
    source = make_source(new_db)
    target_dir = tmp_path / "target"
    files = two_groups(source, target_dir)
    target = schema_only_target(new_db, source, target_dir)
    write_manifest(target_dir, data_files=files)
    return source, target_dir, target


def test_failure_in_a_data_file_then_resume(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source, target_dir, target = exported(new_db, tmp_path)
    second = target_dir / "11-data-second.sql"
    original = second.read_text()
    line, table = corrupt_second_copy_block(second)

    with pytest.raises(runner.RunFailed) as caught:
        runner.run(target, target_dir)

    message = caught.value.message
    assert message.startswith(f"11-data-second.sql, line {line}, COPY {table} ")
    assert 'invalid input syntax for type' in message and '"not-a-number"' in message
    assert report(target_dir) == {"10-data-first.sql": "done", "11-data-second.sql": "failed"}
    assert applied(target) == ["10-data-first.sql"]
    # the first file stays committed, the failed one left nothing behind
    assert query(target, "select count(*) from edge.authors") == [(3,)]
    assert query(target, "select count(*) from edge.kinds") == [(0,)]

    second.write_text(original)
    result = runner.run(target, target_dir, resume=True)

    assert [(f.file, f.status) for f in result.files] == [
        ("10-data-first.sql", "skipped"), ("11-data-second.sql", "done"),
        ("18-post-sequences.sql", "done"), ("20-post-triggers.sql", "done"),
    ]
    assert_same(source, target)
    assert set(report(target_dir).values()) == {"skipped", "done"}
    assert applied(target) == ["10-data-first.sql", "11-data-second.sql", "18-post-sequences.sql",
                               "20-post-triggers.sql"]

    # a new run into the loaded target is refused, and so is a resume of another compile
    with pytest.raises(PgConvoyError, match=r"already holds 4 files of this migration"):
        runner.run(target, target_dir)
    first = target_dir / "10-data-first.sql"
    first.write_text(first.read_text() + "-- edited\n")
    with pytest.raises(PgConvoyError, match=r"10-data-first\.sql changed since compile"):
        runner.run(schema_only_target(new_db, source, tmp_path / "unused"), target_dir)
    write_manifest(target_dir)  # compiled again
    with pytest.raises(PgConvoyError, match=r"the target holds files of another compile"):
        runner.run(target, target_dir, resume=True)


def test_refuses_a_target_where_a_table_to_create_exists(new_db: DatabaseFactory, tmp_path: Path) -> None:
    target = new_db(sql="create table public.hotels (id int)")
    (tmp_path / "01-schema-base.sql").write_text("-- base\ncreate table if not exists public.other (id int);\n"
                                                 "\ncreate table public.hotels (\n  id int\n);\n")
    write_manifest(tmp_path, creates=[Name("public", "other"), Name("public", "hotels")])
    with pytest.raises(PgConvoyError, match=r"already holds tables of this migration: public.hotels exists$"):
        runner.run(target, tmp_path)

    with pytest.raises(runner.RunFailed) as caught:
        runner.run(target, tmp_path, allow_nonempty=True)
    assert caught.value.message == (
        '01-schema-base.sql, line 4, create table public.hotels (: relation "hotels" already exists'
    )
    assert query(target, "select to_regclass('public.other') is null") == [(True,)]


def test_files_in_number_order_only_and_progress(new_db: DatabaseFactory, tmp_path: Path) -> None:
    target = new_db()
    (tmp_path / "100-post-z.sql").write_text("insert into t values (3);\n")
    (tmp_path / "02-schema-a.sql").write_text("create table t (n int);\n")
    (tmp_path / "10-data-a.sql").write_text("copy t (n) from stdin;\n1\n2\n\\.\n")
    (tmp_path / "rollback.sql").write_text("drop table t;\n")
    write_manifest(tmp_path)
    out = io.StringIO()

    result = runner.run(target, tmp_path, only="a", progress=Console(file=out, width=100))

    assert [(f.file, f.rows) for f in result.files] == [("02-schema-a.sql", 0), ("10-data-a.sql", 2)]
    assert "2 of 2 OK 10-data-a.sql" in out.getvalue()
    result = runner.run(target, tmp_path, resume=True)
    assert [(f.file, f.status) for f in result.files] == [
        ("02-schema-a.sql", "skipped"), ("10-data-a.sql", "skipped"), ("100-post-z.sql", "done")]
    assert query(target, "select n from t order by n") == [(1,), (2,), (3,)]


def test_resume_into_another_target_applies_everything_there(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """The state is the target's: a run into A says nothing about B."""
    source, target_dir, target = exported(new_db, tmp_path)
    runner.run(target, target_dir)
    other = schema_only_target(new_db, source, tmp_path / "unused")
    result = runner.run(other, target_dir, resume=True)
    assert {f.status for f in result.files} == {"done"}
    assert_same(source, other)


def test_two_runs_at_once_are_refused(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source, target_dir, target = exported(new_db, tmp_path)
    with psycopg.connect(target, autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s)", (state.LOCK_KEY,))
        with pytest.raises(PgConvoyError, match=r"another pgconvoy run is applying a migration to this database "
                                                r"\(pid \d+"):
            runner.run(target, target_dir)
    assert query(target, "select count(*) from edge.authors") == [(0,)]
    runner.run(target, target_dir)  # released with its session
    assert_same(source, target)


def test_a_file_committed_before_a_crash_is_not_applied_again(new_db: DatabaseFactory, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed between a file's COMMIT and anything written locally (a full disk, a SIGKILL): the target's
    own record, committed with the file, makes --resume skip it; a table without a key gets no duplicates."""
    source, target_dir, target = exported(new_db, tmp_path)
    run_sql(source, "create table edge.keyless (v text); insert into edge.keyless values ('a'), ('a'), ('b')")
    files = two_groups(source, target_dir)
    run_sql(target, "create table edge.keyless (v text)")
    write_manifest(target_dir, data_files=files)

    def crash(name: str) -> None:
        if name == "10-data-first.sql":
            raise KeyboardInterrupt("killed after COMMIT")

    monkeypatch.setattr(apply, "after_commit", crash)
    with pytest.raises(KeyboardInterrupt):
        runner.run(target, target_dir)
    monkeypatch.setattr(apply, "after_commit", None)
    assert applied(target) == ["10-data-first.sql"]
    assert not (target_dir / runner.STATE_FILE).exists()  # nothing local was written

    result = runner.run(target, target_dir, resume=True)
    assert result.files[0].status == "skipped"
    assert query(target, "select v, count(*) from edge.keyless group by v order by v") == [("a", 2), ("b", 1)]
    assert_same(source, target)


def test_the_data_is_validated_before_post_data(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """After the last data file every group's checks run: a target whose rows differ from the export
    (here a trigger the target already had eats a row) fails, naming the table and the check."""
    _, target_dir, target = exported(new_db, tmp_path)
    run_sql(target, "create function edge.eat() returns trigger language plpgsql as $$ begin "
                    "if new.id = 3 then return null; end if; return new; end $$;"
                    "create trigger eat before insert on edge.tickets for each row execute function edge.eat()")
    with pytest.raises(runner.RunFailed, match=r"the data is not what compile exported: edge\.tickets row count: "
                                               r"2 where 3 were expected"):
        runner.run(target, target_dir)
    assert applied(target) == ["10-data-first.sql", "11-data-second.sql"]  # no post-data file ran
    assert report(target_dir) == {"10-data-first.sql": "done", "11-data-second.sql": "done"}


@pytest.mark.parametrize("foreign_keys", ["during", "after"])
def test_forced_row_level_security_does_not_filter_the_load(new_db: DatabaseFactory, tmp_path: Path,
                                                            pg_server: str, foreign_keys: str) -> None:
    """A self-reference restored by a second pass, on a table with FORCE ROW LEVEL SECURITY and a policy
    that hides every row, loaded by a role that is not a superuser: the policy comes after the data and
    its validation, so every parent_id arrives (before, the UPDATE was filtered: every one NULL)."""
    from fidelity import migrate

    from pgconvoy import embedded

    source = new_db(sql="create table nodes (id int primary key, parent_id int references nodes, label text);"
                        "insert into nodes select g, nullif(g - 1, 0), 'n' || g from generate_series(1, 50) g;"
                        "alter table nodes enable row level security; alter table nodes force row level security;"
                        "create policy nobody on nodes using (false) with check (false);")
    run_sql(pg_server, "do $$ begin if not exists (select from pg_roles where rolname = 'pc_loader') then "
                       "create role pc_loader login; end if; end $$")
    name = f"forced_rls_{tmp_path.name[-12:]}".lower().replace("-", "_")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}" owner pc_loader')
    target = psycopg.conninfo.make_conninfo(embedded.with_database(pg_server, name), user="pc_loader")
    try:
        project = migrate(source, target, tmp_path / "project", ("public",), foreign_keys=foreign_keys)
        # during: the self-reference loads in a second pass; after: in one pass, the key added later
        assert bool(json.loads((project / "target" / "manifest.json").read_text())["groups"][0]["tables"][0][
            "two_pass"]) == (foreign_keys == "during")
        superuser = embedded.with_database(pg_server, name)
        assert query(superuser, "select count(*), count(parent_id) from nodes") == [(50, 49)]
        assert query(superuser, "select relforcerowsecurity from pg_class where relname = 'nodes'") == [(True,)]
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
