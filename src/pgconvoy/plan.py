"""`pgconvoy plan`: the migration order as data (JSON), a table for people, or a Mermaid / DOT drawing."""

from __future__ import annotations

import json
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table as RichTable
from rich.text import Text

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.graph import FkGraph


def to_dict(catalog: Catalog, graph: FkGraph) -> dict[str, Any]:
    """The plan as the JSON contract that tools and CI read."""
    partitions: dict[Name, list[str]] = {}
    for t in catalog.tables:
        if t.partition_of is not None:
            partitions.setdefault(t.partition_of, []).append(str(t.qualified))
    tables = []
    for name in graph.order:
        node, table = graph.nodes[name], catalog.table(name)
        rows = None if table is None else table.rows if catalog.exact_rows else table.estimated_rows
        tables.append({
            "name": str(name),
            "schema": name.schema,
            "table": name.name,
            "depth": node.depth,
            "references": [str(r) for r in node.references],
            "referenced_by": [str(r) for r in node.referenced_by],
            "self_references": list(node.self_references),
            "external_references": [str(r) for r in node.external],
            "blocks": node.blocks,
            "blocks_directly": len(node.referenced_by),
            "cycle": node.cycle,
            "rows": rows,
            "partitions": sorted(partitions.get(name, [])),
        })
    return {
        "database": catalog.database,
        "server_version": catalog.server_version,
        "schemas": [s.name for s in catalog.schemas],
        "rows_exact": catalog.exact_rows,
        "tables": tables,
        "cycles": [[str(n) for n in c] for c in graph.cycles],
        "order": [str(n) for n in graph.order],
        "summary": {
            "tables": len(graph.order),
            "foreign_keys": len(catalog.foreign_keys),
            "rows": sum(t["rows"] or 0 for t in tables),
            "max_depth": graph.max_depth,
            "self_referencing_tables": sum(1 for n in graph.nodes.values() if n.self_references),
            "cycles": len(graph.cycles),
        },
    }


def to_json(catalog: Catalog, graph: FkGraph) -> str:
    return json.dumps(to_dict(catalog, graph), indent=2, ensure_ascii=False)


def render_text(catalog: Catalog, graph: FkGraph, console: Console) -> None:
    data = to_dict(catalog, graph)
    table = RichTable(box=box.SIMPLE_HEAD, title=f"Migration order of {catalog.database}", title_justify="left")
    for header, justify in [("#", "right"), ("table", "left"), ("depth", "right"), ("rows", "right"),
                            ("references", "left"), ("blocks", "right"), ("notes", "left")]:
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for i, t in enumerate(data["tables"], 1):
        table.add_row(
            str(i), t["name"], str(t["depth"]), _rows(t["rows"], data["rows_exact"]),
            ", ".join(t["references"]) or "-", f"{t['blocks_directly']} / {t['blocks']}", _notes(t),
        )
    s = data["summary"]
    summary = Text(
        f"{s['tables']} tables, {s['foreign_keys']} foreign keys, {s['rows']:,} rows"
        f"{'' if data['rows_exact'] else ' (estimated)'}, max depth {s['max_depth']}, "
        f"{s['self_referencing_tables']} self-referencing, {s['cycles']} cycles. "
        "blocks = tables that reference it directly / that wait for it in all."
    )
    parts: list[Any] = [table, summary]
    for i, cycle in enumerate(data["cycles"]):
        parts.append(Text(f"cycle {i}: {' -> '.join([*cycle, cycle[0]])} (needs a two-pass rule or a "
                          "DEFERRABLE constraint)", style="yellow"))
    console.print(Group(*parts))


def _rows(rows: int | None, exact: bool) -> str:
    if rows is None:
        return "?"
    return f"{rows:,}" if exact else f"~{rows:,}"


def _notes(t: dict[str, Any]) -> str:
    notes = []
    if t["self_references"]:
        notes.append(f"two-pass: {', '.join(t['self_references'])}")
    if t["cycle"] is not None:
        notes.append(f"cycle {t['cycle']}")
    if t["external_references"]:
        notes.append(f"external: {', '.join(t['external_references'])}")
    if t["partitions"]:
        notes.append(f"{len(t['partitions'])} partitions")
    return "; ".join(notes)


def to_mermaid(graph: FkGraph) -> str:
    """A flowchart; an arrow goes from a table to a table that references it (the load order)."""
    ids = {name: f"t{i}" for i, name in enumerate(graph.order)}
    lines = ["flowchart LR"]
    lines += [f'  {ids[n]}["{_escape(str(n))} (depth {graph.nodes[n].depth})"]' for n in graph.order]
    for n in graph.order:
        node = graph.nodes[n]
        lines += [f"  {ids[n]} --> {ids[child]}" for child in node.referenced_by]
        lines += [f"  {ids[n]} -. {_escape(col)} .-> {ids[n]}" for col in node.self_references]
    return "\n".join(lines) + "\n"


def to_dot(graph: FkGraph) -> str:
    """Graphviz; an edge goes from a table to a table that references it (the load order)."""
    lines = ["digraph migration_order {", "  rankdir=LR;", "  node [shape=box];"]
    for n in graph.order:
        label = _quote(f"{n}") [:-1] + f'\\ndepth {graph.nodes[n].depth}"'
        lines.append(f"  {_quote(str(n))} [label={label}];")
    for n in graph.order:
        node = graph.nodes[n]
        lines += [f"  {_quote(str(n))} -> {_quote(str(child))};" for child in node.referenced_by]
        lines += [f"  {_quote(str(n))} -> {_quote(str(n))} [style=dashed, label={_quote(col)}];"
                  for col in node.self_references]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
