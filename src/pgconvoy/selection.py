"""Selection: which tables a command works on (`--select`, `--exclude`, `--state`), dbt's node selection over
the foreign-key graph.

A selector is `[@][N+]METHOD:VALUE[+N]`:
- `table:schema.name` (a bare value is a table): a glob over `schema.name`, or over the name alone when it
  has no dot (`table:public.user*`, `users`);
- `group:NAME`: a glob over the group's name or its file stem (`group:catalog`, `group:0?-*`);
- `state:modified`: the tables whose group, catalog definition, expected rows or two-pass rules differ
  from the previous compile's `manifest.json` (`--state DIR`), new tables included; `state:new`: only
  the new ones.
Graph operators: `+t` is t and everything it references, transitively (what it needs to load); `t+` is t
and everything that references it (what it blocks); `@t` is `t+` plus everything those need; `2+t` and
`t+1` stop after that many steps. Space-separated selectors in one value are a union, comma-separated
ones an intersection (`group:catalog,+public.hotels`); repeated `--select` options are a union.
`--exclude` takes the same selectors and removes what they match.

What loads must be complete: the selected tables are joined by every table they reference, transitively
(a row cannot load before the row it references), so the result loads into an empty database. A table
that `--exclude` removed but that a selected table needs is an error, naming both.

Pure functions over plain data: the universe (tables in load order, their groups, the tables each
references) comes from the layout and the FK graph at compile, or from a compile's `manifest.json`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pgconvoy.catalog.model import Catalog, Name, Table
from pgconvoy.errors import PgConvoyError
from pgconvoy.graph import FkGraph, load_unit
from pgconvoy.layout import Group, Layout
from pgconvoy.manifest import LoadedGroup, LoadedProject, TableSpec
from pgconvoy.manifest.loading import Lines
from pgconvoy.placement import Dropped, Placed, Placement
from pgconvoy.rules import parse_written, tables_named

METHODS = ("table", "group", "state")
STATES = ("modified", "new")
# The names and kinds of checks (`--select rule:row_count*` on check and build): these select checks by
# name, as `--checks` does, not tables.
CHECK_PREFIXES = ("rule:", "foreign_key:", "self_reference:", "custom:", "rows:", "index:", "rls:", "tag:")
CHECK_KINDS = ("rule", "foreign_key", "self_reference", "custom", "rows", "index", "rls", "lint")

_SELECTOR = re.compile(r"^(?P<at>@)?(?:(?P<up>\d*)\+)?(?P<body>[^+@\s]+?)(?:\+(?P<down>\d*))?$")


@dataclass(frozen=True, slots=True)
class Request:
    """What the command line asked for."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    state: Path | None = None  # a directory holding a previous compile's manifest.json

    @property
    def active(self) -> bool:
        return bool(self.select or self.exclude)


@dataclass(frozen=True, slots=True)
class TableState:
    """What `state:modified` compares of a table between two compiles."""

    group: str  # the group's label, 02-catalog
    definition: str  # sha256 of its catalog definition (`definition_sha256`)
    rows: int | None = None  # expected rows as the manifest says (None: none)
    tolerance: str | int | None = None
    two_pass: tuple[str, ...] = ()
    deferred: bool = False


@dataclass(frozen=True)
class Universe:
    """The tables a selection chooses from."""

    tables: tuple[Name, ...]  # in load order
    groups: Mapping[Name, tuple[str, str]] = field(default_factory=dict)  # table -> (label 02-catalog, name)
    parents: Mapping[Name, frozenset[Name]] = field(default_factory=dict)  # the tables each references
    current: Mapping[Name, TableState] | None = None  # for state: methods
    previous: Mapping[Name, TableState] | None = None
    children: Mapping[Name, frozenset[Name]] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        below: dict[Name, set[Name]] = {t: set() for t in self.tables}
        for child, parents in self.parents.items():
            for parent in parents:
                below.setdefault(parent, set()).add(child)
        object.__setattr__(self, "children", {t: frozenset(c) for t, c in below.items()})


@dataclass(frozen=True, slots=True)
class Selection:
    requested: frozenset[Name]  # what the selectors chose
    tables: frozenset[Name]  # with every table those reference, transitively: what loads

    @property
    def pulled_in(self) -> frozenset[Name]:
        return self.tables - self.requested


# --- the universe -----------------------------------------------------------------------------------

def universe(layout: Layout, graph: FkGraph | None = None, *, current: Mapping[Name, TableState] | None = None,
             previous: Mapping[Name, TableState] | None = None) -> Universe:
    """The layout's tables, their groups and the references between them (references to tables the layout
    does not load, excluded ones, are left out: they cannot be pulled in)."""
    known = set(layout.tables)
    parents = {t: frozenset(r for r in graph.nodes[t].references if r in known) if graph and t in graph.nodes
               else frozenset() for t in layout.tables}
    groups = {t: (f"{g.number:02d}-{g.name}", g.name) for g in layout.groups for t in g.tables}
    return Universe(layout.tables, groups, parents, current, previous)


def graph_universe(graph: FkGraph) -> Universe:
    """Every table of the graph, no groups (`plan` reads no manifests)."""
    return Universe(graph.order, {}, {n: frozenset(node.references) for n, node in graph.nodes.items()})


def manifest_universe(doc: Any, previous: Mapping[Name, TableState] | None = None) -> Universe:
    """The tables a compile's manifest.json (`contracts.ManifestDoc`) loads."""
    tables = [Name(t.schema_, t.table) for g in doc.groups for t in g.tables]
    known = set(tables)
    parents = {Name(t.schema_, t.table): frozenset(n for r in t.references if (n := Name.parse(r)) in known)
               for g in doc.groups for t in g.tables}
    groups = {Name(t.schema_, t.table): (f"{g.number:02d}-{g.name}", g.name) for g in doc.groups for t in g.tables}
    return Universe(tuple(tables), groups, parents, states_of(doc), previous)


# --- state -----------------------------------------------------------------------------------------

def definition_sha256(catalog: Catalog, name: Name) -> str:
    """sha256 of what the catalog says a table is: kind, columns (name, type, nullability, default,
    identity, generated), constraints, foreign keys, indexes, policies and row-level security, and the
    same of its partitions. Row counts and object ids are not in it."""
    return definitions(catalog, [name])[name]


def definitions(catalog: Catalog, names: Iterable[Name]) -> dict[Name, str]:
    """`definition_sha256` of each of `names` (one pass over the catalog)."""
    unit = load_unit(catalog)
    wanted = set(names)
    parts: dict[Name, list[Table]] = {n: [] for n in wanted}
    for t in catalog.tables:
        if (root := unit(t.qualified)) in wanted:
            parts[root].append(t)
    return {n: hashlib.sha256(json.dumps([_definition(t) for t in sorted(ts, key=lambda t: (t.schema, t.name))],
                                         sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
            for n, ts in parts.items()}


def _definition(t: Table) -> dict[str, Any]:
    return {
        "name": [t.schema, t.name], "kind": t.kind, "partition_of": list(t.partition_of) if t.partition_of else None,
        "columns": [[c.name, c.type, c.not_null, c.default, c.identity, c.generated]
                    for c in sorted(t.columns, key=lambda c: c.position)],
        "constraints": sorted([c.name, c.kind, list(c.columns), c.validated] for c in t.constraints),
        "foreign_keys": sorted([f.name, f.definition, f.deferrable, f.deferred, f.validated, f.enforced]
                               for f in t.foreign_keys),
        "indexes": sorted([i.name, i.definition, i.valid] for i in t.indexes),
        "policies": sorted([p.name, p.permissive, p.command, list(p.roles), p.using, p.with_check]
                           for p in t.policies),
        "rls": [t.rls_enabled, t.rls_forced],
    }


def table_specs(catalog: Catalog, project: LoadedProject) -> dict[Name, TableSpec]:
    """Each manifest entry's spec by the catalog table it names (entries that name none are left out)."""
    found: dict[Name, TableSpec] = {}
    for group in project.groups:
        for written, spec in group.manifest.entries():
            name = _resolved(written, project, catalog)
            if name is not None:
                found.setdefault(name, spec)
    return found


def _resolved(written: str, project: LoadedProject, catalog: Catalog) -> Name | None:
    schema, name = parse_written(written)
    if schema is not None:
        return Name(schema, name)
    named = tables_named(catalog, project.project.schemas, name)
    return named[0] if len(named) == 1 else None


def table_states(catalog: Catalog, project: LoadedProject, layout: Layout) -> dict[Name, TableState]:
    """The state of every table the layout loads, as `state:modified` compares it."""
    specs = table_specs(catalog, project)
    defined = definitions(catalog, layout.tables)
    states = {}
    for g in layout.groups:
        for t in g.tables:
            spec = specs.get(t)
            rows = spec.rows if spec is not None else None
            states[t] = TableState(f"{g.number:02d}-{g.name}", defined[t],
                                   rows.expected if rows else None, rows.tolerance if rows else None,
                                   g.two_pass_columns(t), t in g.deferred)
    return states


def state_doc(states: Mapping[Name, TableState]) -> list[dict[str, Any]]:
    """The states as manifest.json's `state` (contracts.TableStateDoc), in load order."""
    return [{"name": str(n), "schema": n.schema, "table": n.name, "group": s.group, "definition": s.definition,
             "rows": s.rows, "tolerance": s.tolerance, "two_pass": list(s.two_pass), "deferred": s.deferred}
            for n, s in states.items()]


def states_of(doc: Any) -> dict[Name, TableState] | None:
    """The states a ManifestDoc records; None for a manifest written without them."""
    if doc.state is None:
        return None
    return {Name(s.schema_, s.table): TableState(s.group, s.definition, s.rows, s.tolerance, tuple(s.two_pass),
                                                 s.deferred) for s in doc.state}


def previous_state(directory: Path) -> dict[Name, TableState]:
    """The states of the compile whose manifest.json is in `directory` (`--state`)."""
    from pgconvoy import contracts

    path = directory / "manifest.json" if directory.is_dir() else directory
    if not path.exists():
        raise PgConvoyError(f"--state {directory}: no manifest.json there",
                            hint="point --state at the target/ of an earlier compile (a copy of it, kept in CI)")
    found = states_of(contracts.load(contracts.ManifestDoc, path))
    if found is None:
        raise PgConvoyError(f"{path} records no per-table state (it was written before state: selection)",
                            hint="compile the earlier version again with this pgconvoy, or select without state:")
    return found


def modified(universe: Universe, *, only_new: bool = False) -> set[Name]:
    """The tables whose state differs from the previous one, or that it does not have."""
    if universe.current is None:
        raise PgConvoyError("state: selectors need the state of this compile",
                            hint="state: selects at compile, build and check (of a target/ compiled by this pgconvoy)")
    if universe.previous is None:
        raise PgConvoyError("state: selectors need --state DIR", hint="the directory of an earlier manifest.json")
    previous, known = universe.previous, set(universe.tables)
    return {t for t, s in universe.current.items() if t in known
            and (t not in previous or (not only_new and previous[t] != s))}


# --- selectors -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Selector:
    text: str
    method: str
    value: str
    up: int | None = None  # -1: no limit; None: not asked
    down: int | None = None
    closure: bool = False  # @


def parse(text: str) -> Selector:
    match = _SELECTOR.match(text.strip())
    if match is None or (match["at"] and (match["up"] is not None)):
        raise PgConvoyError(f"selector {text!r}: expected [@][N+]METHOD:VALUE[+N]",
                            hint="e.g. public.hotels, +table:public.hotels, group:catalog+, @state:modified")
    body = match["body"]
    method, colon, value = body.partition(":")
    if not colon:
        method, value = "table", body
    if method not in METHODS:
        raise PgConvoyError(f"selector {text!r}: unknown method {method}:",
                            hint="methods: table:, group:, state: (a bare name is a table)")
    if not value:
        raise PgConvoyError(f"selector {text!r}: {method}: needs a value")
    if method == "state" and value not in STATES:
        raise PgConvoyError(f"selector {text!r}: state:{value} is no state", hint="state:modified or state:new")

    def limit(group: str | None) -> int | None:
        return None if group is None else (int(group) if group else -1)

    return Selector(text, method, value, limit(match["up"]), limit(match["down"]), bool(match["at"]))


def is_check_glob(text: str) -> bool:
    """Whether a `--select` of check or build names checks (`rule:row_count*`, `custom:*`, `tag:x`, a kind)."""
    return text.startswith(CHECK_PREFIXES) or text in CHECK_KINDS


def _matches(selector: Selector, universe: Universe) -> set[Name]:
    if selector.method == "state":
        return modified(universe, only_new=selector.value == "new")
    if selector.method == "group":
        if not universe.groups:
            raise PgConvoyError(f"selector {selector.text!r}: group: needs the project's groups",
                                hint="plan reads no manifests: select tables there, groups with compile or build")
        return {t for t, (label, name) in universe.groups.items()
                if fnmatch.fnmatchcase(label, selector.value) or fnmatch.fnmatchcase(name, selector.value)}
    qualified = "." in selector.value
    return {t for t in universe.tables
            if fnmatch.fnmatchcase(str(t) if qualified else t.name, selector.value)}


def _walk(seeds: Iterable[Name], edges: Mapping[Name, frozenset[Name]], limit: int) -> set[Name]:
    """The seeds and what `edges` reach from them in at most `limit` steps (-1: any number)."""
    found = set(seeds)
    frontier = set(found)
    steps = 0
    while frontier and (limit < 0 or steps < limit):
        frontier = {n for t in frontier for n in edges.get(t, ()) if n not in found}
        found |= frontier
        steps += 1
    return found


def needs(tables: Iterable[Name], universe: Universe) -> set[Name]:
    """The tables and every table they reference, transitively: what loading them needs."""
    return _walk(tables, universe.parents, -1)


def evaluate(selector: Selector, universe: Universe) -> set[Name]:
    seeds = _matches(selector, universe)
    if not seeds and selector.method != "state":
        raise PgConvoyError(f"selector {selector.text!r} matches no table",
                            hint="a table is schema.name or a glob (public.user*); group: takes a group's name")
    if selector.closure:
        return needs(_walk(seeds, universe.children, -1), universe)
    found = set(seeds)
    if selector.up is not None:
        found |= _walk(seeds, universe.parents, selector.up)
    if selector.down is not None:
        found |= _walk(seeds, universe.children, selector.down)
    return found


def _union(values: Sequence[str], universe: Universe) -> set[Name]:
    found: set[Name] = set()
    for value in values:
        for term in value.split():
            parts = [evaluate(parse(p), universe) for p in term.split(",") if p]
            found |= set.intersection(*parts) if parts else set()
    return found


def select(request: Request, universe: Universe) -> Selection:
    """The tables `request` chooses, and what loads: those with every table they reference."""
    chosen = _union(request.select, universe) if request.select else set(universe.tables)
    removed = _union(request.exclude, universe) if request.exclude else set()
    chosen -= removed
    loads = needs(chosen, universe)
    conflict = sorted((loads - chosen) & removed)
    if conflict:
        table = conflict[0]
        user = sorted(t for t in chosen if table in needs([t], universe))[0]
        raise PgConvoyError(f"--exclude leaves out {table}, which {user} references: it would not load",
                            hint=f"exclude what needs it too (--exclude {table}+), or keep {table}")
    return Selection(frozenset(chosen), frozenset(loads))


def ordered(tables: Iterable[Name], universe: Universe) -> list[Name]:
    """`tables` in the universe's load order."""
    keep = set(tables)
    return [t for t in universe.tables if t in keep]


# --- what a selection renders and checks --------------------------------------------------------------

def restrict_layout(layout: Layout, tables: frozenset[Name]) -> Layout:
    """The layout with only `tables` (groups keep their numbers; groups left empty are dropped)."""
    groups = []
    for g in layout.groups:
        kept = tuple(t for t in g.tables if t in tables)
        if kept:
            groups.append(Group(g.number, g.name, kept, tuple((t, c) for t, c in g.two_pass if t in tables),
                                tuple(t for t in g.deferred if t in tables), g.description))
    return Layout(tuple(groups), layout.data_format, layout.foreign_keys)


def restrict_project(project: LoadedProject, tables: frozenset[Name], *catalogs: Catalog) -> LoadedProject:
    """The project as if its groups listed only `tables`: what `check` judges a target loaded from a
    selection against. Entries keep their lines; `expect:` (about the whole group) goes; an index required
    by name alone stays when one of `catalogs` places it on a selected table (or places it nowhere: then it
    is missing, and reported). Custom checks that name a table stay for selected tables; SQL ones, which
    name none, go (select them by name: `--checks custom:*`)."""
    schemas = project.project.schemas

    def chosen(written: str) -> bool:
        schema, name = parse_written(written)
        return any(Name(s, name) in tables for s in ([schema] if schema is not None else schemas))

    index_table: dict[tuple[str | None, str], Name] = {}
    for c in catalogs:
        for t in c.tables:
            for i in t.indexes:
                index_table[(t.schema, i.name)] = index_table[(None, i.name)] = load_unit(c)(t.qualified)
    groups = []
    for group in project.groups:
        manifest = group.manifest
        entries = [i for i, (written, _) in enumerate(manifest.entries()) if chosen(written)]
        if not entries:
            continue
        indexes = [i for i, spec in enumerate(manifest.indexes)
                   if (chosen(spec.table) if spec.table is not None else _index_kept(spec.name or "", index_table,
                                                                                     tables))]
        restricted = manifest.model_copy(update={
            "tables": [manifest.tables[i] for i in entries], "indexes": [manifest.indexes[i] for i in indexes],
            "rls": {k: v for k, v in manifest.rls.items() if chosen(k)}, "expect": None})
        lines = _renumbered(group.lines, {"tables": entries, "indexes": indexes})
        groups.append(LoadedGroup(group.number, group.name, restricted, lines))
    checks = tuple(c for c in project.checks if c.spec.sql is None and chosen(str(c.spec.params.get("table", ""))))
    return replace(project, groups=tuple(groups), checks=checks)


def _index_kept(written: str, index_table: Mapping[tuple[str | None, str], Name], tables: frozenset[Name]) -> bool:
    schema, name = parse_written(written)
    table = index_table.get((schema, name))
    return table is None or table in tables


def _renumbered(lines: Lines, kept: Mapping[str, list[int]]) -> Lines:
    """`lines` with the items of each list in `kept` renumbered to their new positions."""
    new = {key: {old: i for i, old in enumerate(olds)} for key, olds in kept.items()}
    by_path = {}
    for path, line in lines.by_path.items():
        if len(path) >= 2 and path[0] in new and isinstance(path[1], int):
            position = new[str(path[0])].get(path[1])
            if position is None:
                continue
            path = (path[0], position, *path[2:])
        by_path[path] = line
    return Lines(lines.file, by_path)


def prune(placed: Placement, left_out: frozenset[Name], unit: Callable[[Name], Name] | None = None
          ) -> tuple[Placement, dict[Name, set[Name]]]:
    """The placement without what depends on the entries of the tables a selection leaves out (a view or a
    function over one of them): those are left out too, as belonging to that table. Also returns, for each
    selected table, the left-out tables one of its own entries depends on (a column of their row type, a
    default calling a function over them): the selection must pull those in."""
    root = unit or (lambda name: name)
    cause: dict[int, Name] = {d.entry.dump_id: root(d.table) for d in placed.dropped
                              if d.excluded and d.table is not None and root(d.table) in left_out}
    wanted: dict[Name, set[Name]] = {}
    files: dict[str, list[Placed]] = {}
    dropped = list(placed.dropped)
    for file, entries in placed.files.items():
        kept = []
        for p in entries:
            table = next((cause[d] for d in p.entry.dependencies if d in cause), None)
            if table is None:
                kept.append(p)
                continue
            cause[p.entry.dump_id] = table
            dropped.append(Dropped(p.entry, f"depends on {table}, which the selection leaves out", table,
                                   excluded=True))
            if p.table is not None:
                wanted.setdefault(root(p.table), set()).add(table)
        if kept:
            files[file] = kept
    gone = set(cause)
    pruned = Placement(files, dropped, [p for p in placed.refresh if p.entry.dump_id not in gone],
                       {k: v for k, v in placed.file_of.items() if k not in gone})
    return pruned, wanted


def subgraph(catalog: Catalog, graph: FkGraph, tables: frozenset[Name]) -> tuple[Catalog, FkGraph]:
    """The catalog and graph of `tables` only (what `plan --select` shows). Each table keeps the depth and
    the counts of what it blocks that it has in the whole graph; references to tables left out are not
    drawn, and multi-table cycles are kept when all their members are selected."""
    unit = load_unit(catalog)
    kept_cycles = [i for i, c in enumerate(graph.cycles) if set(c) <= tables]
    index = {old: new for new, old in enumerate(kept_cycles)}
    nodes = {n: replace(node, references=tuple(r for r in node.references if r in tables),
                        referenced_by=tuple(r for r in node.referenced_by if r in tables),
                        cycle=index.get(node.cycle) if node.cycle is not None else None)
             for n, node in graph.nodes.items() if n in tables}
    cycles = tuple(graph.cycles[i] for i in kept_cycles)
    kept = FkGraph(nodes, tuple(n for n in graph.order if n in tables), cycles)
    return replace(catalog, tables=tuple(t for t in catalog.tables if unit(t.qualified) in tables)), kept
