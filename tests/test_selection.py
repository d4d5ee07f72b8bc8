"""Selection (`--select`, `--exclude`, `--state`) end to end: the graph operators choose exactly the tables a
recursive query over pg_constraint finds, on the sample, on a graph with cycles and partitions, and on a
2,000-table catalog; `state:modified+` after an edit chooses what changed and what depends on it; `build`
of that selection loads only those tables (and what they reference) into the scratch database."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import REPO, DatabaseFactory, invoke, query, repository_project, run_sql
from pgconvoy import embedded

SCHEMAS = ["public", "hotels"]

# The foreign-key edges between tables of the schemas (partitions stand for their partitioned table: their
# copies of its keys, conparentid <> 0, are left out), then the closures from the tables in %(seeds)s: `up`
# follows references, `down` the tables referencing, `closure` is down then up. With a limit, `up` and
# `down` count their steps (a path can be no longer than that, cycles included).
_EDGES = """
WITH RECURSIVE edges(child, parent) AS (
    SELECT cn.nspname || '.' || c.relname, pn.nspname || '.' || p.relname
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
    JOIN pg_catalog.pg_class p ON p.oid = k.confrelid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
    WHERE k.contype = 'f' AND k.conparentid = 0 AND cn.nspname = ANY(%(schemas)s) AND pn.nspname = ANY(%(schemas)s)
),
seeds(t) AS (SELECT s COLLATE "C" FROM unnest(%(seeds)s::text[]) s),
"""
_UNLIMITED = """
up(t) AS (SELECT t FROM seeds UNION SELECT e.parent FROM edges e JOIN up ON e.child = up.t),
down(t) AS (SELECT t FROM seeds UNION SELECT e.child FROM edges e JOIN down ON e.parent = down.t),
closure(t) AS (SELECT t FROM down UNION SELECT e.parent FROM edges e JOIN closure ON e.child = closure.t)
"""
_LIMITED = """
up(t, depth) AS (SELECT t, 0 FROM seeds
                 UNION SELECT e.parent, up.depth + 1 FROM edges e JOIN up ON e.child = up.t WHERE up.depth < %(limit)s),
down(t, depth) AS (SELECT t, 0 FROM seeds UNION
                   SELECT e.child, down.depth + 1 FROM edges e JOIN down ON e.parent = down.t
                   WHERE down.depth < %(limit)s)
"""


def closure(uri: str, kind: str, seeds: list[str], schemas: list[str], limit: int | None = None) -> set[str]:
    """What `+t` (kind up), `t+` (down) and `@t` (closure) mean, `N+t` and `t+N` with a limit, computed by the
    database itself."""
    statement = _EDGES + (_UNLIMITED if limit is None else _LIMITED) + f"SELECT DISTINCT t FROM {kind}"
    rows = query(uri, statement, {"seeds": seeds, "schemas": schemas, "limit": limit})  # type: ignore[arg-type]
    return {str(r[0]) for r in rows}


def planned(uri: str, schemas: list[str], *selectors: str) -> set[str]:
    args = [a for s in selectors for a in ("--select", s)]
    result = invoke("plan", "--source", uri, "--schemas", ",".join(schemas), "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {t["name"] for t in json.loads(result.stdout)["tables"]}


def tables_in(uri: str, schemas: list[str]) -> set[str]:
    rows = query(uri, "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "
                 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s)", (schemas,))
    return {str(r[0]) for r in rows}


@pytest.fixture(scope="module")
def sample(pg_server: str) -> Iterator[str]:
    from conftest import load_sql

    uri = embedded.create_database(pg_server, "selection_sample", replace=True)
    run_sql(uri, load_sql("sample:supabase_platform"))
    run_sql(uri, load_sql("sample:hotel"))
    yield uri
    embedded.drop_database(pg_server, "selection_sample")


@pytest.mark.parametrize("table", ["public.chat_messages", "public.hotels", "public.staff_users",
                                   "public.calendar_events", "hotels.accommodation_units"])
def test_graph_operators_match_a_recursive_query_on_the_sample(sample: str, table: str) -> None:
    assert planned(sample, SCHEMAS, f"+{table}") == closure(sample, "up", [table], SCHEMAS)
    assert planned(sample, SCHEMAS, f"{table}+") == closure(sample, "down", [table], SCHEMAS)
    assert planned(sample, SCHEMAS, f"@{table}") == closure(sample, "closure", [table], SCHEMAS)
    assert planned(sample, SCHEMAS, f"1+{table}") == closure(sample, "up", [table], SCHEMAS, 1)
    assert planned(sample, SCHEMAS, f"{table}+2") == closure(sample, "down", [table], SCHEMAS, 2)


def test_cycles_partitions_globs_union_and_intersection(new_db: DatabaseFactory) -> None:
    uri = new_db(files=["graph_fixture.sql"])
    schemas = ["public", "billing"]
    for table in ("public.cyc_a", "public.accounts", "public.events", "public.tenants"):
        for kind, selector in (("up", f"+{table}"), ("down", f"{table}+"), ("closure", f"@{table}")):
            assert planned(uri, schemas, selector) == closure(uri, kind, [table], schemas), selector
    everything = tables_in(uri, schemas)
    assert planned(uri, schemas, "table:public.cyc_*") == {t for t in everything if t.startswith("public.cyc_")}
    assert planned(uri, schemas, "accounts") == {"public.accounts", "billing.accounts"}  # a name in any schema
    assert planned(uri, schemas, "public.tenants public.cyc_a") == {"public.tenants", "public.cyc_a"}
    assert planned(uri, schemas, "+public.accounts,public.tenants+") == (
        closure(uri, "up", ["public.accounts"], schemas) & closure(uri, "down", ["public.tenants"], schemas))


# --- a 2,000-table catalog ------------------------------------------------------------------------------

def _bench_catalog() -> object:
    spec = importlib.util.spec_from_file_location("bench_catalog", REPO / "benchmarks" / "bench_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wide(pg_server: str) -> Iterator[str]:
    """benchmarks/bench_catalog.py's catalog: 2,000 tables, each referencing its predecessor, every other one
    also the table at half its index; one self-reference."""
    uri = embedded.create_database(pg_server, "selection_wide", replace=True)
    statements = _bench_catalog().schema_sql(2000).splitlines()  # type: ignore[attr-defined]
    with psycopg.connect(uri, autocommit=True) as conn:
        for i in range(0, len(statements), 500):  # one transaction for 2,000 tables runs out of lock slots
            conn.execute("\n".join(statements[i:i + 500]).encode())
    yield uri
    embedded.drop_database(pg_server, "selection_wide")


@pytest.mark.parametrize("table", ["public.t01999", "public.t01000", "public.t00333", "public.t00000"])
def test_graph_operators_match_a_recursive_query_on_2000_tables(wide: str, table: str) -> None:
    schemas = ["public"]
    assert planned(wide, schemas, f"+{table}") == closure(wide, "up", [table], schemas)
    assert planned(wide, schemas, f"{table}+") == closure(wide, "down", [table], schemas)
    assert planned(wide, schemas, f"@{table}") == closure(wide, "closure", [table], schemas)
    assert planned(wide, schemas, f"3+{table}") == closure(wide, "up", [table], schemas, 3)


def test_state_modified_on_2000_tables(wide: str, tmp_path: Path) -> None:
    project = tmp_path / "wide"
    assert invoke("init", "--source", wide, "--dir", str(project)).exit_code == 0
    (project / "project.yml").write_text((project / "project.yml").read_text() + "\nwarn_error: false\n")
    full = invoke("compile", "--project-dir", str(project), "--source", wide)
    assert full.exit_code == 0, full.output
    state = tmp_path / "state"
    shutil.copytree(project / "target", state)
    run_sql(wide, "ALTER TABLE public.t01500 ADD COLUMN note text")
    try:
        again = invoke("compile", "--project-dir", str(project), "--source", wide, "--select", "state:modified+",
                       "--state", str(state))
        assert again.exit_code == 0, again.output
        chosen = json.loads((project / "target" / "manifest.json").read_text())["selection"]
        requested = closure(wide, "down", ["public.t01500"], ["public"])
        assert set(chosen["requested"]) == requested
        assert set(chosen["tables"]) == closure(wide, "up", sorted(requested), ["public"])
    finally:
        run_sql(wide, "ALTER TABLE public.t01500 DROP COLUMN note")


# --- state:modified and build on the sample ---------------------------------------------------------------

def _compiled(project: Path, source: str, *args: str) -> dict[str, object]:
    result = invoke("compile", "--project-dir", str(project), "--source", source, *args)
    assert result.exit_code == 0, result.output
    return json.loads((project / "target" / "manifest.json").read_text())  # type: ignore[no-any-return]


def test_state_modified_names_what_changed(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = repository_project(tmp_path / "project")
    first = _compiled(project, source)
    assert first.get("selection") is None and len(first["state"]) == 42  # type: ignore[arg-type]
    state = tmp_path / "state"
    shutil.copytree(project / "target", state)

    # nothing changed: nothing selected, target/ left as it was
    result = invoke("compile", "--project-dir", str(project), "--source", source, "--select", "state:modified",
                    "--state", str(state))
    assert result.exit_code == 0 and "Nothing selected" in result.output

    # a definition (on the source), expected rows and a two-pass rule (in the manifests), a group move
    run_sql(source, "ALTER TABLE public.sire_content ADD COLUMN note text")
    catalog = project / "groups" / "02-catalog.yml"
    catalog.write_text(catalog.read_text().replace("accommodation_units_manual: {rows: 8}",
                                                   "accommodation_units_manual: {rows: {expected: 8, tolerance: 1}}"))
    foundation = project / "groups" / "01-foundation.yml"
    text = foundation.read_text().replace("  - sire_field_mappings: {rows: 24}\n", "")
    foundation.write_text(text.replace("expect: {tables: 9, rows: 5204}", "expect: {tables: 8, rows: 5180}"))
    integrations = project / "groups" / "06-integrations.yml"
    lines = integrations.read_text().split("\ntables:\n", 1)
    moved = lines[0] + "\ntables:\n  - sire_field_mappings: {rows: 24}\n" + lines[1]
    integrations.write_text(moved.replace("expect: {tables: 3, rows: 42}", "expect: {tables: 4, rows: 66}"))
    result = invoke("compile", "--project-dir", str(project), "--source", source, "--select", "state:modified",
                    "--state", str(state))
    assert result.exit_code == 0, result.output
    doc = json.loads((project / "target" / "manifest.json").read_text())
    assert set(doc["selection"]["requested"]) == {"public.sire_content", "public.accommodation_units_manual",
                                                  "public.sire_field_mappings"}


def policy_tables(uri: str, tables: set[str]) -> set[str]:
    """The tables of the schemas that the policies on `tables` depend on (a subquery in USING)."""
    rows = query(uri, """
        SELECT DISTINCT rn.nspname || '.' || r.relname
        FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
        JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid = p.oid
             AND d.refclassid = 'pg_catalog.pg_class'::regclass
        JOIN pg_catalog.pg_class r ON r.oid = d.refobjid JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
        WHERE cn.nspname || '.' || c.relname = ANY(%s) AND r.relkind IN ('r', 'p') AND rn.nspname = ANY(%s)""",
                 (sorted(tables), SCHEMAS))
    return {str(r[0]) for r in rows}


def _edit_catalog_group(project: Path) -> None:
    catalog = project / "groups" / "02-catalog.yml"
    catalog.write_text(catalog.read_text().replace("accommodation_units_manual: {rows: 8}",
                                                   "accommodation_units_manual: {rows: {expected: 8, tolerance: 1}}"))


def test_build_of_state_modified_loads_only_that_closure(new_db: DatabaseFactory, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = repository_project(tmp_path / "project")
    _compiled(project, source)
    state = tmp_path / "state"
    shutil.copytree(project / "target", state)
    _edit_catalog_group(project)
    (project / "project.yml").write_text((project / "project.yml").read_text().replace(
        "source: \"{{ env_var('PGCONVOY_SOURCE', 'sample:hotel') }}\"", f"source: {json.dumps(source)}").replace(
        # known gap: a selection that leaves out the view's tables keeps pg_dump's placeholder of the view
        # (no security_invoker option), which PC509 rightly reports on the scratch
        "lints:\n", "lints:\n  security_definer_view: warn\n"))
    scratch = new_db()
    built = invoke("build", "--project-dir", str(project), "--select", "state:modified+", "--state", str(state),
                   "--scratch", "url", "--scratch-url", scratch, "--format", "json")
    assert built.exit_code == 0, built.output
    modified = closure(source, "down", ["public.accommodation_units_manual"], SCHEMAS)
    by_keys = closure(source, "up", sorted(modified), SCHEMAS)
    # besides what the foreign keys need: the tables the policies of those tables read (and what they need)
    expected = closure(source, "up", sorted(by_keys | policy_tables(source, by_keys)), SCHEMAS)
    doc = json.loads((project / "target" / "manifest.json").read_text())
    assert set(doc["selection"]["requested"]) == modified
    assert tables_in(scratch, SCHEMAS) == set(doc["selection"]["tables"]) == expected
    assert len(tables_in(scratch, SCHEMAS)) < len(tables_in(source, SCHEMAS))
    results = json.loads(built.stdout)["results"]
    checked = {r["table"] for r in results if r["table"]}
    assert checked and checked <= modified


def test_selection_errors_are_one_line(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = repository_project(tmp_path / "project")
    cases = {
        ("--select", "+public.chat_messages", "--exclude", "public.hotels"):
            "--exclude leaves out public.hotels, which public.accommodation_units references",
        ("--select", "public.nope*"): "selector 'public.nope*' matches no table",
        ("--select", "model:x"): "unknown method model:",
        ("--select", "state:modified"): "state: selectors need --state DIR",
        ("--select", "state:modified", "--state", str(tmp_path)): "no manifest.json there",
    }
    for args, message in cases.items():
        result = invoke("compile", "--project-dir", str(project), "--source", source, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2, result.stderr
    assert not (project / "target").exists()


def test_check_selects_the_checks_of_tables_and_still_takes_check_names(new_db: DatabaseFactory,
                                                                         tmp_path: Path) -> None:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = repository_project(tmp_path / "project")
    _compiled(project, source)
    target = new_db(files=["sample:supabase_platform", "sample:hotel"])
    chosen = invoke("check", "--project-dir", str(project), "--target", target, "--select", "group:catalog",
                    "--format", "json")
    assert chosen.exit_code == 0, chosen.output
    tables = {r["table"] for r in json.loads(chosen.stdout)["results"] if r["table"]}
    catalog = {"public.accommodation_units_public", "public.accommodation_units", "public.accommodation_units_manual",
               "public.accommodation_units_manual_chunks"}
    assert tables and tables <= catalog
    by_name = invoke("check", "--project-dir", str(project), "--target", target, "--select", "rule:row_count*",
                     "--format", "json")
    assert [r["name"] for r in json.loads(by_name.stdout)["results"]] == ["rule:row_count_out_of_tolerance"]
    both = invoke("check", "--project-dir", str(project), "--target", target, "--select", "public.hotels",
                  "--checks", "foreign_key:*", "--format", "json")
    names = {r["name"] for r in json.loads(both.stdout)["results"]}
    assert names == {"foreign_key:public.hotels.hotels_tenant_id_fkey"}
