"""The runner: files in order, one transaction each, clear errors, state for resume, refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path

import psycopg
import pytest
from rich.console import Console
from test_data_roundtrip import assert_same, make_source, read_catalog, schema_only_target

from conftest import DatabaseFactory, query
from pgconvoy import data, graph, layout, runner
from pgconvoy.errors import PgConvoyError


def two_groups(uri: str, target_dir: Path) -> None:
    """Export the edge fixture as two groups: 10-data-first.sql and 11-data-second.sql."""
    cat = read_catalog(uri)
    order = graph.build(cat).order
    rules = layout.two_pass_rules(cat, order)
    half = len(order) // 2
    groups = tuple(
        layout.Group(number, name, tables, tuple((t, rules[t]) for t in tables if t in rules))
        for number, name, tables in ((1, "first", order[:half]), (2, "second", order[half:]))
    )
    with psycopg.connect(uri) as conn:
        data.write_data(conn, cat, layout.Layout(groups), target_dir)


def corrupt_second_copy_block(path: Path) -> tuple[int, str]:
    """Make the first row of the file's second COPY block invalid; return (line number, table)."""
    lines = path.read_text().splitlines(keepends=True)
    copies = [i for i, line in enumerate(lines) if line.startswith("COPY ")]
    at = copies[1] + 1
    lines[at] = "not-a-number" + lines[at][lines[at].index("\t"):]
    path.write_text("".join(lines))
    return at + 1, lines[copies[1]].split()[1]


def state(target_dir: Path) -> dict[str, str]:
    files = json.loads((target_dir / runner.STATE_FILE).read_text())["files"]
    return {name: entry["status"] for name, entry in files.items()}


def test_failure_in_a_data_file_then_resume(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = make_source(new_db)
    target_dir = tmp_path / "target"
    two_groups(source, target_dir)
    target = schema_only_target(new_db, source, target_dir)
    second = target_dir / "11-data-second.sql"
    original = second.read_text()
    line, table = corrupt_second_copy_block(second)

    with pytest.raises(runner.RunFailed) as caught:
        runner.run(target, target_dir)

    message = caught.value.message
    assert message.startswith(f"11-data-second.sql, line {line}, COPY {table}: ")
    assert 'invalid input syntax for type' in message and '"not-a-number"' in message
    assert state(target_dir) == {"10-data-first.sql": "done", "11-data-second.sql": "failed"}
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
    assert set(state(target_dir).values()) == {"done"}

    # a file that was applied and then changed stops a resume
    first = target_dir / "10-data-first.sql"
    first.write_text(first.read_text() + "-- edited\n")
    with pytest.raises(PgConvoyError, match=r"10-data-first\.sql changed since it was applied"):
        runner.run(target, target_dir, resume=True)
    # and a new run into the loaded target is refused
    with pytest.raises(PgConvoyError, match=r"already holds tables of this migration: edge\.authors has rows"):
        runner.run(target, target_dir)


def test_refuses_a_target_where_a_table_to_create_exists(new_db: DatabaseFactory, tmp_path: Path) -> None:
    target = new_db(sql="create table public.hotels (id int)")
    (tmp_path / "01-schema-base.sql").write_text("-- base\ncreate table if not exists public.other (id int);\n"
                                                 "\ncreate table public.hotels (\n  id int\n);\n")
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
    out = io.StringIO()

    result = runner.run(target, tmp_path, only="a", progress=Console(file=out, width=100))

    assert [(f.file, f.rows) for f in result.files] == [("02-schema-a.sql", 0), ("10-data-a.sql", 2)]
    assert result.files[1].tables == {"public.t": 2}
    assert "2 of 2 OK 10-data-a.sql" in out.getvalue()
    runner.run(target, tmp_path, resume=True)
    assert query(target, "select n from t order by n") == [(1,), (2,), (3,)]
    assert [p.name for p in runner.files_to_run(tmp_path)] == ["02-schema-a.sql", "10-data-a.sql", "100-post-z.sql"]
