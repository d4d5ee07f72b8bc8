"""What a migration needs of a target (manifest.json `requires`), read at compile in its snapshot: the
schemas it creates and those it creates objects in, the extensions its files create (with the source's
version and schema), the roles its grants, policies, default privileges and owners name, the roles
project.yml `roles:` creates, and how many relations the busiest file locks in its one transaction.

`preflight` reads it back and compares it with a target's catalog before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.catalog.roles import named_roles
from pgconvoy.layout import Layout
from pgconvoy.placement import Placed, Placement
from pgconvoy.platform import PLATFORM_ROLES
from pgconvoy.render import owner_of

_EXTENSIONS = """
SELECT e.extname, e.extversion, n.nspname FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = ANY(%s) ORDER BY 1
"""
# Relations of one archive entry besides its table: an index, a sequence, a view, ...
_RELATIONS = frozenset({"INDEX", "CONSTRAINT", "SEQUENCE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE"})


def read(conn: psycopg.Connection[Any], cat: Catalog, layout: Layout, placement: Placement, *, owners: bool,
         created_roles: Sequence[dict[str, Any]] = (), platform: Catalog | None = None) -> dict[str, Any]:
    """manifest.json `requires`; `conn` sees the compile's snapshot. `created_roles` are the
    `CreatedRoleDoc`s of project.yml `roles:`; `platform` the tables of platform_data."""
    entries = list(placement.placed())
    created = sorted({p.entry.tag for p in entries if p.entry.desc == "SCHEMA"})
    extensions = sorted({p.entry.tag for p in entries if p.entry.desc == "EXTENSION"})
    found = conn.execute(_EXTENSIONS.encode(), (extensions,)).fetchall()
    owned = sorted({o for p in entries if owners for o in [owner_of(p.entry)] if o is not None})
    default_acl = {p.entry.owner for p in entries if p.entry.desc == "DEFAULT ACL" and p.entry.owner}
    roles: dict[str, dict[str, Any]] = {}
    for role in named_roles(conn, [s.name for s in cat.schemas], platform=PLATFORM_ROLES, owners=owned):
        # a grant by the object's owner does not name its grantor; default privileges count when migrated
        kinds = [k for k in role.kinds if (k != "grantor" or role.foreign_grantor)
                 and (k != "default_privileges" or role.name in default_acl)]
        if kinds:
            roles[role.name] = {"name": role.name, "named_by": kinds, "foreign_grantor": role.foreign_grantor}
    for spec in created_roles:
        for parent in spec["member_of"]:
            entry = roles.setdefault(parent, {"name": parent, "named_by": [], "foreign_grantor": False})
            entry["named_by"] = sorted({*entry["named_by"], "member"})
    locks, busiest = _busiest(cat, layout, placement)
    return {
        "creates_schemas": created,
        "uses_schemas": sorted({s.name for s in cat.schemas} - set(created)),
        "extensions": [{"name": n, "version": v, "schema": s} for n, v, s in found],
        "roles": [roles[name] for name in sorted(roles)],
        "creates_roles": list(created_roles),
        "platform_tables": [{"schema": t.schema, "table": t.name,
                             "columns": [c.name for c in t.columns if c.generated is None]}
                            for t in (platform.tables if platform is not None else ())],
        "tables": len(layout.tables),
        "locks": locks,
        "locks_file": busiest,
    }


def _busiest(cat: Catalog, layout: Layout, placement: Placement) -> tuple[int, str | None]:
    """The most relations one file locks (an estimate from above: a table with its TOAST table and index,
    each index, sequence and view, the tables foreign keys reference), and which file."""
    counts = {name: len(_locked(cat, entries)) for name, entries in placement.files.items()}
    for group in layout.groups:  # a data file: each table it loads, its indexes and what its keys reference
        locked: set[object] = set()
        for table in group.tables:
            locked |= _table_locks(cat, table, with_indexes=True)
        counts[group.data_file] = len(locked)
    if not counts:
        return 0, None
    busiest = max(sorted(counts), key=lambda name: counts[name])
    return counts[busiest], busiest


def _locked(cat: Catalog, entries: Sequence[Placed]) -> set[object]:
    locked: set[object] = set()
    for placed in entries:
        entry = placed.entry
        if entry.desc == "TABLE" and placed.table is not None:
            locked |= _table_locks(cat, placed.table, with_indexes=False)
        elif entry.desc in _RELATIONS:
            locked.add(("relation", entry.namespace, entry.tag))
        if placed.table is not None:
            locked.add(placed.table)
        if entry.desc == "FK CONSTRAINT" and placed.table is not None:
            table = cat.table(placed.table)
            tag = entry.tag.removeprefix(f"{placed.table.name} ")
            locked |= {fk.ref_table for fk in (table.foreign_keys if table else ()) if fk.name == tag}
    return locked


def _table_locks(cat: Catalog, name: Name, *, with_indexes: bool) -> set[object]:
    locked: set[object] = {name, ("toast", name), ("toast index", name)}
    table = cat.table(name)
    if table is not None and with_indexes:
        locked |= {("relation", name.schema, i.name) for i in table.indexes}
        locked |= {fk.ref_table for fk in table.foreign_keys}
    return locked
