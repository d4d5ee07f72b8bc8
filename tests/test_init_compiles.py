"""`init` proposes what `compile` accepts, always, and what it proposes runs: on every fixture of the
repository, and on foreign-key graphs hypothesis draws (cycles, self-references, NOT NULL and DEFERRABLE
keys, names with dots and quotes), init then compile has no error and run loads every row."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DatabaseFactory, invoke, query
from pgconvoy import embedded

SQL_DIR = Path(__file__).parent / "sql"

# A table name that a manifest must quote, and one that looks like a schema-qualified name.
NAMES = ["t0", "t1", "Odd.Name", 'say "hi"', "t4", "t5"]


@st.composite
def fk_graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, bool, bool]]]:
    """(tables, edges): edge (child, parent, not_null, deferrable); parent == child is a self-reference."""
    n = draw(st.integers(2, len(NAMES)))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans(), st.booleans()),
                          min_size=1, max_size=8))
    return n, edges


def _schema(n: int, edges: list[tuple[int, int, bool, bool]]) -> str:
    """Tables with ids 1..3 whose every key holds: loaded with triggers off (replica), the rows are
    consistent whatever the cycles, as a production database's are."""
    ident = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731
    lines = [f"create table {ident(NAMES[i])} (id int primary key);" for i in range(n)]
    for k, (child, _, not_null, _) in enumerate(edges):
        lines.append(f"alter table {ident(NAMES[child])} add column c{k} int{' not null' if not_null else ''};")
    lines.append("set session_replication_role = replica;")
    for i in range(n):
        cols = [f"c{k}" for k, e in enumerate(edges) if e[0] == i]
        values = ", ".join(["g", *["1 + g % 3" for _ in cols]])
        lines.append(f"insert into {ident(NAMES[i])} (id{''.join(', ' + c for c in cols)}) "
                     f"select {values} from generate_series(1, 3) g;")
    lines.append("set session_replication_role = origin;")
    for k, (child, parent, _, deferrable) in enumerate(edges):
        lines.append(f"alter table {ident(NAMES[child])} add foreign key (c{k}) references {ident(NAMES[parent])}"
                     f"{' deferrable' if deferrable else ''};")
        lines.append(f"create index on {ident(NAMES[child])} (c{k});")
    return "\n".join(lines)


def _init_compile_run(source: str, target: str, project: Path) -> None:
    assert invoke("init", "--source", source, "--dir", str(project), "--force").exit_code == 0
    result = invoke("compile", "--project-dir", str(project), "--source", source, "--format", "json")
    doc = json.loads(result.stdout)
    errors = [f"{f['code']} {f['message']}" for f in doc["findings"] if f["severity"] == "error"]
    assert result.exit_code == 0 and not errors, errors
    ran = invoke("run", "--project-dir", str(project), "--target", target)
    assert ran.exit_code == 0, ran.output


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=fk_graphs())
def test_init_then_compile_then_run_on_drawn_fk_graphs(graph: tuple[int, list[tuple[int, int, bool, bool]]],
                                                       pg_server: str, tmp_path_factory: pytest.TempPathFactory
                                                       ) -> None:
    n, edges = graph
    source = embedded.create_database(pg_server, "prop_source", replace=True)
    target = embedded.create_database(pg_server, "prop_target", replace=True)
    with psycopg.connect(source) as conn:
        conn.execute(_schema(n, edges).encode())
    _init_compile_run(source, target, tmp_path_factory.mktemp("project"))
    for name in NAMES[:n]:
        quoted = '"' + name.replace('"', '""') + '"'
        assert query(target, f"select count(*) from {quoted}") == [(3,)]


# The real application schemas go through init -> compile -> run in test_real_schemas; here every
# other fixture of the repository, with what it is loaded after (the platform stand-in, a base schema).
PLATFORM = "sample:supabase_platform"
FIXTURES = {
    "hotel": [PLATFORM, "sample:hotel"],
    "every_kind": [PLATFORM, "every_kind.sql", "every_kind_pg18.sql"],
    "every_object": [PLATFORM, "every_object.sql"],
    "render_edges": [PLATFORM, "render_edges.sql"],
    "graph": ["graph_fixture.sql"],
    "reconcile": ["reconcile_base.sql"],
    "reconcile_rls": [PLATFORM, "reconcile_rls.sql"],
    "compare": ["compare_schema.sql", "compare_rows.sql"],
    "checks_bad": [PLATFORM, "checks_common.sql", "checks_bad.sql"],
    "checks_clean": [PLATFORM, "checks_common.sql", "checks_clean.sql"],
}


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_init_then_compile_on_every_fixture(fixture: str, new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=FIXTURES[fixture])
    assert invoke("init", "--source", source, "--dir", str(tmp_path)).exit_code == 0
    result = invoke("compile", "--project-dir", str(tmp_path), "--source", source, "--format", "json")
    doc = json.loads(result.stdout)
    assert [f for f in doc["findings"] if f["severity"] == "error"] == [], doc["findings"]


def test_every_fixture_is_listed() -> None:
    used = {f for files in FIXTURES.values() for f in files}
    assert {p.name for p in SQL_DIR.glob("*.sql")} - used == {"compare_rows_reversed.sql", "values_edge.sql",
                                                               "values_vector.sql"}  # rows only, no schema
