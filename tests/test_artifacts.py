"""The artifacts are contracts: manifest.json and run_results.json match the JSON Schemas `pgconvoy schema`
publishes, a reader refuses another version or a damaged document with the reason, and `run` follows
manifest.json (never what the SQL's comments say)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from fidelity import resign

from conftest import DatabaseFactory, invoke, query


@pytest.fixture
def compiled(new_db: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    source = new_db(sql="create table a (id int primary key, v text); create table b (id int primary key, "
                        "a_id int references a); create index on b (a_id);"
                        "insert into a select g, 'a' || g from generate_series(1, 30) g;"
                        "insert into b select g, 1 + g % 30 from generate_series(1, 7) g;")
    project = tmp_path / "project"
    assert invoke("init", "--source", source, "--dir", str(project)).exit_code == 0
    result = invoke("compile", "--project-dir", str(project), "--source", source)
    assert result.exit_code == 0, result.output
    return source, project


def _schemas(tmp_path: Path) -> dict[str, dict[str, object]]:
    assert invoke("schema", "--dir", str(tmp_path / "schemas")).exit_code == 0
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text())
            for p in (tmp_path / "schemas").glob("*.schema.json")}


def test_manifest_and_run_results_match_the_published_schemas(compiled: tuple[str, Path], new_db: DatabaseFactory,
                                                              tmp_path: Path) -> None:
    _, project = compiled
    schemas = _schemas(tmp_path)
    assert set(schemas) == {"project", "group", "checks", "manifest", "run_results"}
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    jsonschema.validate(manifest, schemas["manifest"])
    assert all(f["line"] is None or f["line"] >= 1 for f in manifest["findings"])
    target = new_db()
    assert invoke("run", "--project-dir", str(project), "--target", target).exit_code == 0
    jsonschema.validate(json.loads((project / "target" / "run_results.json").read_text()), schemas["run_results"])
    broken = dict(manifest, files=[dict(manifest["files"][0], sha256="not a digest"), *manifest["files"][1:]])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schemas["manifest"])


@pytest.mark.parametrize(("change", "said"), [
    (lambda doc: doc | {"version": 2}, "is of version 2, this pgconvoy reads version 5"),
    (lambda doc: {k: v for k, v in doc.items() if k != "compile_id"}, "compile_id: Field required"),
    (lambda doc: doc | {"files": [{k: v for k, v in doc["files"][0].items() if k != "step"}]}, "files.0.step"),
])
def test_run_refuses_a_manifest_of_another_version_or_shape(compiled: tuple[str, Path], new_db: DatabaseFactory,
                                                            change, said: str) -> None:  # type: ignore[no-untyped-def]
    _, project = compiled
    path = project / "target" / "manifest.json"
    path.write_text(json.dumps(change(json.loads(path.read_text()))))
    target = new_db()
    result = invoke("run", "--project-dir", str(project), "--target", target)
    assert result.exit_code == 2 and said in result.stderr, result.stderr
    assert query(target, "select count(*) from pg_class where relname in ('a', 'b')") == [(0,)]


def test_run_follows_the_manifest_not_the_comments_of_the_sql(compiled: tuple[str, Path],
                                                              new_db: DatabaseFactory) -> None:
    """The data file's comments name the other table and wrong row counts; the runner reads what each
    file loads from manifest.json, so the run, its progress and its validation are unchanged."""
    source, project = compiled
    target_dir = project / "target"
    data_files = sorted(target_dir.glob("*-data-*.sql"))
    swap = {b"public.a": b"public.b", b"public.b": b"public.a"}
    for data_file in data_files:
        lines = data_file.read_bytes().split(b"\n")
        lied = [b"-- " + b" ".join(swap.get(w, w) for w in ln[3:].split(b" ")) + b" (999 rows)"
                if ln.startswith(b"-- ") else ln for ln in lines]
        assert lied != lines
        data_file.write_bytes(b"\n".join(lied))
    resign(target_dir)
    target = new_db()
    result = invoke("run", "--project-dir", str(project), "--target", target)
    assert result.exit_code == 0, result.output
    for table in ("a", "b"):
        assert query(target, f"select count(*) from {table}") == query(source, f"select count(*) from {table}")
    results = json.loads((target_dir / "run_results.json").read_text())
    assert sum(results["files"][f.name]["rows"] for f in data_files) == 37


def test_migration_order_draws_the_foreign_keys_by_group_in_mermaid(new_db: DatabaseFactory, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.delenv("PGCONVOY_SOURCE", raising=False)
    source = new_db(sql='create table a (id int primary key); create table b (id int primary key, a_id int '
                        'references a); create table c (id int primary key, "parent""id" int references c);')
    project = tmp_path / "project"
    assert invoke("init", "--source", source, "--dir", str(project)).exit_code == 0
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0, "compile"
    text = (project / "target" / "MIGRATION_ORDER.md").read_text()
    (graph,) = re.findall(r"```mermaid\n(.*?)\n```", text, re.S)
    lines = graph.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = dict(re.findall(r'^    (t\d+)\["([^"]+)"\]$', graph, re.M))
    assert sorted(nodes.values()) == ["public.a", "public.b", "public.c"]  # every migrated table, once
    groups = sorted(p.stem for p in (project / "groups").glob("*.yml"))
    assert len(re.findall(r"^  subgraph g\d\d\[", graph, re.M)) == len(groups) == graph.count("\n  end")
    ids = {name: node for node, name in nodes.items()}
    assert f"  {ids['public.a']} --> {ids['public.b']}" in lines
    assert f"  {ids['public.c']} -. parent#34;id .-> {ids['public.c']}" in lines  # a quote, as an entity
