"""The machine- and human-readable records of a compile: `target/manifest.json` and
`target/MIGRATION_ORDER.md`, generated from facts (catalog, graph, layout, findings, files written).

Both are deterministic: no clock, no host names, nothing that changes between two compiles of the
same database and manifests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.contracts import MANIFEST_VERSION, RUN_STEPS
from pgconvoy.data import VALIDATE_DIR, DataFileInfo, StreamStep, file_sha256, sequences_file
from pgconvoy.findings import as_doc
from pgconvoy.graph import FkGraph
from pgconvoy.layout import Layout, run_order
from pgconvoy.manifest import LoadedProject
from pgconvoy.placement import POST_STEPS, SHARED_FILE, Placed, Placement, post_data_file
from pgconvoy.reconcile import Finding
from pgconvoy.render import Batch
from pgconvoy.rollback import ROLLBACK_FILE


def file_entries(directory: Path, layout: Layout, data_files: Sequence[DataFileInfo],
                 sequences: Sequence[Name] = (), batches: Mapping[str, Sequence[Batch]] | None = None
                 ) -> list[dict[str, Any]]:
    """Every file of target/ with its size, sha256 and step, in the order `run` applies them; a data file
    also lists the tables it loads with their rows (and the rows its second passes copy) and its COPY
    steps (what `run --source` streams instead); the sequences file lists its sequences."""
    steps = {SHARED_FILE: "schema", ROLLBACK_FILE: "rollback"}
    steps |= {g.schema_file: "schema" for g in layout.groups} | {g.data_file: "data" for g in layout.data_groups}
    steps |= {post_data_file(layout, s): "post" for s in POST_STEPS}
    loads = {f.file: f for f in data_files}
    entries = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        step = steps.get(name, "validate" if name.startswith(f"{VALIDATE_DIR}/") else "report")
        entry: dict[str, Any] = {"name": name, "bytes": path.stat().st_size, "sha256": file_sha256(path),
                                 "step": step}
        if name in loads:
            entry["loads"] = [{"schema": t.table.schema, "table": t.table.name, "rows": t.rows,
                               "second_pass_rows": t.restored} for t in loads[name].tables]
            entry["stream"] = [_step(s) for s in loads[name].steps]
            if layout.platform_group is not None and name == layout.platform_group.data_file:
                entry["platform"] = True
        if batches and name in batches:
            entry["batches"] = [{"kind": b.kind, "statements": b.statements}
                                | ({"schema": b.table.schema, "table": b.table.name} if b.table else {})
                                for b in batches[name]]
        if name == sequences_file(layout):
            entry["sequences"] = [{"schema": s.schema, "name": s.name} for s in sequences]
        entries.append(entry)
    return sorted(entries, key=lambda e: run_order(e["name"]))


def _step(step: StreamStep) -> dict[str, Any]:
    return {"kind": step.kind, "schema": step.table.schema, "table": step.table.name, "columns": list(step.columns),
            "nulls": list(step.nulls), "key": list(step.key), "only": step.only, "binary": step.binary,
            "rows": step.rows} | ({"offset": step.offset, "length": step.length, "sha256": step.sha256}
                                  if step.offset is not None else {}) | (
        {"part": {"by": step.part.by, "lower": step.part.lower, "upper": step.part.upper, "index": step.part.index,
                  "of": step.part.of}} if step.part is not None else {}) | (
        {"on_conflict": step.on_conflict} if step.on_conflict is not None else {})


def compile_id(files: Sequence[dict[str, Any]]) -> str:
    """What identifies one compile's output: the sha256 of its runnable files' names and sha256s."""
    digest = hashlib.sha256()
    for f in files:
        if f["step"] in RUN_STEPS:
            digest.update(f"{f['name']}\0{f['sha256']}\n".encode())
    return digest.hexdigest()


def manifest_json(
    catalog: Catalog, graph: FkGraph, project: LoadedProject, layout: Layout, findings: Sequence[Finding],
    files: list[dict[str, Any]], data_files: Sequence[DataFileInfo], source: str, placement: Placement,
    rows: str = "files", requires: dict[str, Any] | None = None, state: Sequence[dict[str, Any]] | None = None,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan, the findings, the files with their sha256 and the objects each creates: what `run`,
    `check` and CI read. `state`: every table's state (`selection.state_doc`); `selection`: what a compile
    of some tables selected."""
    loaded = {t.table: t.rows for f in data_files for t in f.tables}
    objects = {name: [_object(p) for p in placed] for name, placed in placement.files.items()}
    return {
        "version": MANIFEST_VERSION,
        "compile_id": compile_id(files),
        "project": project.project.name,
        "source": {"database": catalog.database, "server_version": catalog.server_version, "url": source},
        "schemas": [s.name for s in catalog.schemas],
        "data_format": layout.data_format,
        "run": {"lock_timeout": project.project.timeouts.run.lock,
                "statement_timeout": project.project.timeouts.run.statement,
                "foreign_keys": layout.foreign_keys, "rows": rows, "encoding": project.project.data.encoding},
        "groups": [
            {
                "number": g.number,
                "name": g.name,
                "description": g.description,
                "schema_file": g.schema_file,
                "data_file": g.data_file,
                "tables": [_table(catalog, graph, t, g.two_pass_columns(t), loaded.get(t)) for t in g.tables],
                "rows": sum(loaded.get(t) or 0 for t in g.tables),
            }
            for g in layout.groups
        ],
        "order": [str(t) for t in layout.tables],
        "cycles": [[str(n) for n in c] for c in graph.cycles],
        "findings": [as_doc(f) for f in findings],
        "files": [f | {"objects": objects[f["name"]]} if f["name"] in objects else f for f in files],
        "not_migrated": [{"type": d.entry.desc, "name": d.entry.name, "reason": d.reason}
                         for d in placement.dropped],
    } | ({"requires": requires} if requires is not None else {}) | (
        {"state": list(state)} if state is not None else {}) | (
        {"selection": selection} if selection is not None else {})


def _object(placed: Placed) -> dict[str, str]:
    """An entry of a file: its archive type and the object's name (as PostgreSQL identifies it); a table
    also by schema and name (what `run` checks a target for)."""
    entry = placed.entry
    name = placed.obj.identity if placed.obj is not None else entry.name
    found = {"type": entry.desc, "name": name}
    if entry.desc == "TABLE" and placed.table is not None:
        found |= {"schema": placed.table.schema, "table": placed.table.name}
    return found


def _table(catalog: Catalog, graph: FkGraph, name: Name, two_pass: tuple[str, ...], rows: int | None
           ) -> dict[str, Any]:
    node = graph.nodes[name]
    table = catalog.table(name)
    return {
        "name": str(name),
        "schema": name.schema,
        "table": name.name,
        "depth": node.depth,
        "references": [str(r) for r in node.references],
        "blocks": node.blocks,
        "rows": rows if rows is not None else (table.rows if table else None),
        "two_pass": list(two_pass),
        "self_references": list(node.self_references),
    }


def migration_order_md(
    catalog: Catalog, graph: FkGraph, project: LoadedProject, layout: Layout, findings: Sequence[Finding],
    files: list[dict[str, Any]], data_files: Sequence[DataFileInfo],
) -> str:
    """The report a person reads before the migration, as the seed report, but counted by the machine."""
    loaded = {t.table: t.rows for f in data_files for t in f.tables}
    groups: list[dict[str, Any]] = []
    for g in layout.groups:
        depths = [graph.nodes[t].depth for t in g.tables]
        groups.append({
            "group": g,
            "rows": sum(loaded.get(t, 0) for t in g.tables),
            "depth": _span(depths),
            "tables": [{"name": t, "depth": graph.nodes[t].depth, "rows": loaded.get(t, 0),
                        "two_pass": g.two_pass_columns(t)} for t in g.tables],
        })
    total = sum(int(x["rows"]) for x in groups) or 1
    blockers = sorted(layout.tables, key=lambda t: (-graph.nodes[t].blocks, str(t)))[:6]
    template = _env().get_template("migration_order.md.j2")
    return template.render(
        project=project.project.name, catalog=catalog, graph=graph, layout=layout, groups=groups, total=total,
        tables=len(layout.tables), fks=len(catalog.foreign_keys),
        blockers=[(t, graph.nodes[t]) for t in blockers if graph.nodes[t].blocks],
        two_pass=[(g.name, t, cols) for g in layout.groups for t, cols in g.two_pass],
        findings=findings, files=files, mermaid=group_mermaid(graph, layout),
    )


def group_mermaid(graph: FkGraph, layout: Layout) -> str:
    """The migrated tables as a Mermaid flowchart, one subgraph per group in load order; an arrow goes from
    a table to a table that references it, a dotted loop is a self-reference (its column named)."""
    ids = {name: f"t{i}" for i, name in enumerate(layout.tables)}
    lines = ["flowchart LR"]
    for g in layout.groups:
        lines.append(f'  subgraph g{g.number:02d}["{g.number:02d} {_mermaid_text(g.name)}"]')
        lines += [f'    {ids[t]}["{_mermaid_text(str(t))}"]' for t in g.tables]
        lines.append("  end")
    for t in layout.tables:
        node = graph.nodes[t]
        lines += [f"  {ids[t]} --> {ids[child]}" for child in node.referenced_by if child in ids]
        lines += [f"  {ids[t]} -. {_mermaid_text(col)} .-> {ids[t]}" for col in node.self_references]
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid label: quotes and the characters that open markup as entity codes."""
    return "".join(f"#{ord(c)};" if c in '"#<>&`' else c for c in text)


def _span(depths: list[int]) -> str:
    if not depths:
        return "-"
    low, high = min(depths), max(depths)
    return str(low) if low == high else f"{low}-{high}"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pgconvoy", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
