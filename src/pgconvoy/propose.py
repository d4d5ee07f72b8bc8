"""`pgconvoy init`'s first plan: groups proposed from the FK graph, with today's facts as expectations.

The heuristic, in the order it is applied (README explains it to users):
1. **Foundation**: tables at depth 0 (they reference no other table) load first, in one group.
2. **Anchors**: among the other tables, a *hub* is a table that at least `HUB_DEPENDENTS` tables reference
   directly. Every table joins the deepest hub among itself and the tables it references, directly or
   through others (ties: more dependents, then name); tables below no hub form one group per schema.
3. **Order**: groups referencing each other in both directions are merged; the rest are ordered so every
   group loads after the groups it references (by the depth of their shallowest table, then name). When
   there are more than `MAX_GROUPS` groups, the smallest merge into their neighbours in that order.
4. **Names**: a group is named after its hub (`hotels`), or its schema (`hotels-schema`) when all its tables
   share a schema other than `public`; tables keep the graph's load order inside their group.
Every reference the order loads too early (self-references, one edge of each cycle) is covered as
compile accepts it: nothing for a DEFERRABLE key (its tables share a group), two_pass for nullable
columns, `deferred: true` for a table whose such key is NOT NULL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.graph import FkGraph, strongly_connected
from pgconvoy.layout import DATA_OFFSET, LoadRules, load_rules
from pgconvoy.rules.context import written_name

HUB_DEPENDENTS = 3
MAX_GROUPS = DATA_OFFSET  # group NN's data file is NN+9: ten groups would collide with the data files
TOLERANCE = "10%"  # row counts drift between init and the migration; adjust per table in the manifest


@dataclass
class ProposedGroup:
    name: str
    tables: list[Name]
    description: str = ""
    hub: Name | None = None
    members: set[Name] = field(default_factory=set)


def propose(catalog: Catalog, graph: FkGraph) -> list[ProposedGroup]:
    """Groups in load order; together they hold every table of the graph exactly once."""
    position = {name: i for i, name in enumerate(graph.order)}
    foundation = [n for n in graph.order if graph.nodes[n].depth == 0 and graph.nodes[n].cycle is None]
    rest = [n for n in graph.order if n not in set(foundation)]
    clusters = _clusters_by_anchor(graph, rest)
    merged = _merge_cycles(graph, clusters)
    ordered = _cap(_topological(graph, merged), MAX_GROUPS - (1 if foundation else 0))
    groups = []
    if foundation:
        groups.append(ProposedGroup("foundation", foundation, "Root tables: they reference no other table"))
    for c in ordered:
        c.tables = sorted(c.members, key=position.__getitem__)
        c.name = _name(c)
        c.description = _describe(graph, c)
        groups.append(c)
    _unique_names(groups)
    return groups


def _clusters_by_anchor(graph: FkGraph, rest: list[Name]) -> list[ProposedGroup]:
    in_rest = set(rest)
    hubs = {n for n in rest if len(graph.nodes[n].referenced_by) >= HUB_DEPENDENTS}

    def rank(hub: Name) -> tuple[int, int, str]:
        # the deepest hub first, then the one with more dependents, then by name
        return (-graph.nodes[hub].depth, -len(graph.nodes[hub].referenced_by), str(hub))

    anchor: dict[Name, Name | None] = {}
    for name in rest:  # graph order: every referenced table comes first (cycles aside)
        candidates = [a for p in graph.nodes[name].references if p in in_rest and (a := anchor.get(p))]
        if name in hubs:
            candidates.append(name)
        anchor[name] = min(candidates, key=rank) if candidates else None
    clusters: dict[Name | str, ProposedGroup] = {}
    for name in rest:
        hub = anchor[name]
        key: Name | str = hub if hub is not None else name.schema  # no hub: one group per schema
        clusters.setdefault(key, ProposedGroup(hub.name if hub else "other", [], hub=hub)).members.add(name)
    return list(clusters.values())


def _merge_cycles(graph: FkGraph, clusters: list[ProposedGroup]) -> list[ProposedGroup]:
    """Merge groups that reference each other (directly or around a loop), so groups can be ordered."""
    of = {t: i for i, c in enumerate(clusters) for t in c.members}
    keys = [Name("", str(i)) for i in range(len(clusters))]
    parents: dict[Name, set[Name]] = {k: set() for k in keys}
    for i, c in enumerate(clusters):
        for t in c.members:
            parents[keys[i]].update(keys[of[p]] for p in graph.nodes[t].references if p in of and of[p] != i)
    merged = []
    for component in strongly_connected(keys, parents):
        members = [clusters[int(k.name)] for k in component]
        head = max(members, key=lambda c: len(c.members))
        for other in members:
            if other is not head:
                head.members |= other.members
        merged.append(head)
    return merged


def _topological(graph: FkGraph, clusters: list[ProposedGroup]) -> list[ProposedGroup]:
    """Groups so that each loads after those it references; ties by shallowest depth, then name."""
    of = {t: i for i, c in enumerate(clusters) for t in c.members}
    needs = [{of[p] for t in c.members for p in graph.nodes[t].references if p in of} - {i}
             for i, c in enumerate(clusters)]
    key = [(min(graph.nodes[t].depth for t in c.members), c.name, i) for i, c in enumerate(clusters)]
    done: list[int] = []
    while len(done) < len(clusters):
        ready = [i for i in range(len(clusters)) if i not in done and needs[i] <= set(done)]
        done.append(min(ready, key=key.__getitem__))  # acyclic after _merge_cycles: never empty
    return [clusters[i] for i in done]


def _cap(ordered: list[ProposedGroup], limit: int) -> list[ProposedGroup]:
    """Merge the smallest group into its predecessor (or successor) until at most `limit` remain."""
    while len(ordered) > max(limit, 1):
        smallest = min(range(len(ordered)), key=lambda i: (len(ordered[i].members), -i))
        into = smallest - 1 if smallest > 0 else 1
        ordered[into].members |= ordered[smallest].members
        if ordered[into].hub is None or (ordered[smallest].hub and len(ordered[smallest].members) >
                                         len(ordered[into].members)):
            ordered[into].hub = ordered[smallest].hub or ordered[into].hub
        del ordered[smallest]
    return ordered


def _name(group: ProposedGroup) -> str:
    schemas = {t.schema for t in group.members}
    if len(schemas) == 1 and (schema := next(iter(schemas))) != "public":
        return _slug(f"{schema}-schema")
    return _slug(group.hub.name) if group.hub else "other"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "group"


def _unique_names(groups: list[ProposedGroup]) -> None:
    seen: dict[str, int] = defaultdict(int)
    for g in groups:
        seen[g.name] += 1
        if seen[g.name] > 1:
            g.name = f"{g.name}-{seen[g.name]}"


def _describe(graph: FkGraph, group: ProposedGroup) -> str:
    depths = sorted({graph.nodes[t].depth for t in group.members})
    span = f"depth {depths[0]}" if len(depths) == 1 else f"depth {depths[0]}-{depths[-1]}"
    if group.hub:
        return f"Tables that hang off {group.hub} ({span})"
    return f"Tables under no hub table ({span})"


def manifests(catalog: Catalog, graph: FkGraph, groups: list[ProposedGroup]) -> list[tuple[str, dict[str, object]]]:
    """(file name, YAML-ready data) for every group file, baselines taken from the catalog as it is now."""
    short = _short_names(catalog)
    rules = load_rules(catalog, [g.tables for g in groups])
    files = []
    for number, group in enumerate(groups, 1):
        files.append((f"{number:02d}-{group.name}.yml", _group_data(catalog, group, rules, short)))
    return files


def _short_names(catalog: Catalog) -> dict[Name, str]:
    """A table's name as a manifest writes it: bare when no other schema has a table of that name,
    double-quoted where it holds a dot or a quote (`"odd.name"`), as the manifests read it back."""
    count: dict[str, int] = defaultdict(int)
    for t in catalog.tables:
        count[t.name] += 1
    return {t.qualified: written_name(t.qualified, qualified=count[t.name] > 1) for t in catalog.tables}


def _group_data(
    catalog: Catalog, group: ProposedGroup, rules: LoadRules, short: dict[Name, str]
) -> dict[str, object]:
    entries: list[object] = []
    indexes: list[str] = []
    rls: dict[str, object] = {}
    total = 0
    for name in group.tables:
        table = catalog.table(name)
        assert table is not None
        spec: dict[str, object] = {}
        rows = table.rows if table.rows is not None else table.estimated_rows
        if rows is not None:
            spec["rows"] = {"expected": rows, "tolerance": TOLERANCE} if rows >= 100 else rows
            total += rows
        if rules.two_pass.get(name):
            spec["two_pass"] = list(rules.two_pass[name])
        if name in rules.deferred:
            spec["deferred"] = True
        entries.append({short[name]: spec} if spec else short[name])
        indexes += [written_name(Name(name.schema, i.name), qualified=False) for i in table.indexes
                    if any(i.covers(fk) for fk in table.foreign_keys if not fk.inherited)]
        if table.rls_enabled:
            state: dict[str, object] = {"enabled": True}
            if table.rls_forced:
                state["forced"] = True
            rls[short[name]] = state | {"policies": [p.name for p in table.policies]}
    data: dict[str, object] = {"description": group.description, "tables": entries}
    if indexes:
        data["indexes"] = sorted(set(indexes))
    if rls:
        data["rls"] = rls
    data["expect"] = {"tables": len(group.tables), "rows": total}
    return data


def project_data(catalog: Catalog, source: str, has_password: bool) -> dict[str, object]:
    """project.yml for the proposal; a source with a password is never written, only read from the env."""
    env = "{{ env_var('PGCONVOY_SOURCE') }}" if has_password else f"{{{{ env_var('PGCONVOY_SOURCE', '{source}') }}}}"
    return {
        "name": _slug(catalog.database).replace("-", "_"),
        "source": env,
        "schemas": [s.name for s in catalog.schemas],
        "exclude": [],
        "data": {"format": "copy"},
    }
