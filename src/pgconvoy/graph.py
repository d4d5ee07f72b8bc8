"""The foreign-key graph: depth, load order, cycles, self-references and what each table blocks.

Pure functions over catalog data. Cycles are collapsed into strongly connected components first,
so depth (the longest chain of references below a table) and order are defined for every graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pgconvoy.catalog.model import Catalog, ForeignKey, Name


@dataclass(frozen=True, slots=True)
class Node:
    name: Name
    depth: int
    references: tuple[Name, ...]  # tables it references (not itself), inside the graph
    referenced_by: tuple[Name, ...]  # tables that reference it directly (not itself)
    blocks: int  # tables that cannot load before it, directly or through others
    self_references: tuple[str, ...]  # its columns that reference itself
    external: tuple[Name, ...]  # referenced tables outside the graph (excluded schemas)
    cycle: int | None  # index into FkGraph.cycles when it is part of a multi-table cycle


@dataclass(frozen=True, slots=True)
class FkGraph:
    nodes: Mapping[Name, Node]
    order: tuple[Name, ...]  # by depth, then name: every table after the tables it references
    cycles: tuple[tuple[Name, ...], ...]  # multi-table cycles (strongly connected components), sorted

    @property
    def max_depth(self) -> int:
        return max((n.depth for n in self.nodes.values()), default=0)


def load_unit(catalog: Catalog) -> Callable[[Name], Name]:
    """Maps a table to the table its rows load through: a partition to its partitioned root."""
    roots = {t.qualified: t.partition_of for t in catalog.tables}

    def unit(name: Name) -> Name:
        while (parent := roots.get(name)) is not None:
            name = parent
        return name

    return unit


def build(catalog: Catalog) -> FkGraph:
    """The graph of the catalog's loadable tables (partitions load through their root)."""
    unit = load_unit(catalog)
    tables = sorted({unit(t.qualified) for t in catalog.tables})
    return from_edges(tables, ((unit(fk.table), unit(fk.ref_table), fk) for fk in catalog.foreign_keys))


def from_edges(tables: Iterable[Name], edges: Iterable[tuple[Name, Name, ForeignKey | None]]) -> FkGraph:
    """The graph from (referencing, referenced, constraint) triples; edges to unknown tables are external."""
    names = sorted(set(tables))
    known = set(names)
    parents: dict[Name, set[Name]] = {n: set() for n in names}
    children: dict[Name, set[Name]] = {n: set() for n in names}
    self_cols: dict[Name, set[str]] = {n: set() for n in names}
    external: dict[Name, set[Name]] = {n: set() for n in names}
    for child, parent, fk in edges:
        if child not in known:
            continue
        if parent not in known:
            external[child].add(parent)
        elif parent == child:
            self_cols[child].update(fk.columns if fk else ())
        else:
            parents[child].add(parent)
            children[parent].add(child)

    components = strongly_connected(names, parents)
    component_of = {n: i for i, comp in enumerate(components) for n in comp}
    comp_parents = [{component_of[p] for n in comp for p in parents[n]} - {i} for i, comp in enumerate(components)]
    comp_order = _topological(components, comp_parents)
    depth = _depths(comp_order, comp_parents)
    blocked = _blocked_counts(comp_order, comp_parents, [len(c) for c in components])
    cycles = sorted(tuple(sorted(c)) for c in components if len(c) > 1)
    cycle_index = {n: i for i, c in enumerate(cycles) for n in c}

    nodes = {
        n: Node(
            name=n,
            depth=depth[component_of[n]],
            references=tuple(sorted(parents[n])),
            referenced_by=tuple(sorted(children[n])),
            blocks=blocked[component_of[n]] + len(components[component_of[n]]) - 1,
            self_references=tuple(sorted(self_cols[n])),
            external=tuple(sorted(external[n])),
            cycle=cycle_index.get(n),
        )
        for n in names
    }
    # Every reference goes from a lower depth to a higher one (or stays inside a cycle), so sorting
    # by depth gives a valid load order that people can read level by level.
    keys = [min(c) for c in components]
    ranked = sorted(range(len(components)), key=lambda i: (depth[i], keys[i]))
    order = tuple(n for i in ranked for n in sorted(components[i]))
    return FkGraph(nodes=nodes, order=order, cycles=tuple(cycles))


def strongly_connected(names: list[Name], parents: Mapping[Name, set[Name]]) -> list[list[Name]]:
    """Tarjan's algorithm, iterative so that long reference chains never hit the recursion limit."""
    index: dict[Name, int] = {}
    low: dict[Name, int] = {}
    on_stack: set[Name] = set()
    stack: list[Name] = []
    components: list[list[Name]] = []
    counter = 0
    for start in names:
        if start in index:
            continue
        work: list[tuple[Name, list[Name]]] = [(start, sorted(parents[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(parents[nxt])))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _topological(components: list[list[Name]], comp_parents: list[set[int]]) -> list[int]:
    """Kahn's algorithm; among ready components the alphabetically first goes first (deterministic)."""
    waiting = [len(p) for p in comp_parents]
    comp_children: list[list[int]] = [[] for _ in components]
    for i, ps in enumerate(comp_parents):
        for p in ps:
            comp_children[p].append(i)
    keys = [min(c) for c in components]
    ready = [(keys[i], i) for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(i)
        for child in comp_children[i]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (keys[child], child))
    return order


def _depths(order: list[int], comp_parents: list[set[int]]) -> list[int]:
    depth = [0] * len(comp_parents)
    for i in order:
        depth[i] = max((depth[p] + 1 for p in comp_parents[i]), default=0)
    return depth


def _blocked_counts(order: list[int], comp_parents: list[set[int]], sizes: list[int]) -> list[int]:
    """For each component, how many tables depend on it transitively (bitsets of components)."""
    below = [0] * len(comp_parents)
    for i in reversed(order):
        for p in comp_parents[i]:
            below[p] |= below[i] | (1 << i)
    # A bit stands for one table, plus the other members where the component is a cycle.
    extra = [(1 << i, size - 1) for i, size in enumerate(sizes) if size > 1]
    return [mask.bit_count() + sum(n for bit, n in extra if mask & bit) for mask in below]


def forward_references(catalog: Catalog, order: Iterable[Name]) -> dict[Name, tuple[ForeignKey, ...]]:
    """Foreign keys that point at a table loading at the same position or later in `order`.

    With the constraint in place during the load, their columns must load as NULL and be filled by a
    second pass (self-references always are; so is one edge of every cycle)."""
    position = {name: i for i, name in enumerate(order)}
    unit = load_unit(catalog)
    found: dict[Name, list[ForeignKey]] = {}
    for fk in catalog.foreign_keys:
        child, parent = unit(fk.table), unit(fk.ref_table)
        if child in position and parent in position and position[parent] >= position[child]:
            found.setdefault(child, []).append(fk)
    return {name: tuple(fks) for name, fks in found.items()}
