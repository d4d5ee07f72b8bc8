"""The roles a migration names: the grantees and grantors of the grants of the migrated schemas (on the
schemas, their objects and columns, default privileges, large objects) and the roles of their policies.

The GRANTs and CREATE POLICYs of target/ fail on a server without them: `scratch` creates a stand-in for
each, compile records them in manifest.json (`requires.roles`) for `preflight` to look for on a target.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

# One row per (role, how the migration names it); an owner's own privileges name no grantee. `foreign`:
# a grant whose grantor is not the object's owner (pg_dump restores it under SET SESSION AUTHORIZATION of
# the grantor). Default privileges of `platform` roles are left out: they are the platform's.
_NAMED = """
WITH s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ANY(%(schemas)s)),
acl AS (
  SELECT nspacl AS a, nspowner AS owner FROM pg_catalog.pg_namespace WHERE oid IN (SELECT oid FROM s)
  UNION ALL SELECT relacl, relowner FROM pg_catalog.pg_class WHERE relnamespace IN (SELECT oid FROM s)
  UNION ALL SELECT a.attacl, c.relowner FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            WHERE c.relnamespace IN (SELECT oid FROM s) AND a.attacl IS NOT NULL
  UNION ALL SELECT proacl, proowner FROM pg_catalog.pg_proc WHERE pronamespace IN (SELECT oid FROM s)
  UNION ALL SELECT typacl, typowner FROM pg_catalog.pg_type WHERE typnamespace IN (SELECT oid FROM s)
  UNION ALL SELECT defaclacl, defaclrole FROM pg_catalog.pg_default_acl d
            WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                              WHERE r.oid = d.defaclrole AND r.rolname = ANY(%(platform)s))
  UNION ALL SELECT lomacl, lomowner FROM pg_catalog.pg_largeobject_metadata
),
grants AS (SELECT (pg_catalog.aclexplode(a)).*, owner FROM acl WHERE a IS NOT NULL),
named AS (
  SELECT grantee AS role, 'grant' AS kind, false AS foreign_grantor FROM grants WHERE grantee <> owner
  UNION SELECT grantor, 'grantor', grantor <> owner FROM grants
  UNION SELECT unnest(p.polroles), 'policy', false FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_class c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM s)
  UNION SELECT defaclrole, 'default_privileges', false FROM pg_catalog.pg_default_acl d
        WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles r
                          WHERE r.oid = d.defaclrole AND r.rolname = ANY(%(platform)s))
)
SELECT r.rolname, named.kind, bool_or(named.foreign_grantor)
FROM named JOIN pg_catalog.pg_roles r ON r.oid = named.role
WHERE r.rolname !~ '^pg_'
GROUP BY 1, 2 ORDER BY 1, 2
"""


@dataclass(frozen=True, slots=True)
class NamedRole:
    name: str
    kinds: tuple[str, ...]  # grant | grantor | policy | default_privileges | owner
    foreign_grantor: bool = False  # it granted on objects it does not own (SET SESSION AUTHORIZATION)


def named_roles(conn: psycopg.Connection[Any], schemas: Iterable[str], *, platform: Collection[str] = (),
                owners: Iterable[str] = ()) -> list[NamedRole]:
    """Every role (predefined `pg_*` ones aside) the grants and policies of `schemas` name, and `owners`
    (the roles ALTER ... OWNER TO names), by name."""
    rows = conn.execute(_NAMED.encode(), {"schemas": list(schemas), "platform": list(platform)}).fetchall()
    kinds: dict[str, set[str]] = {}
    foreign: dict[str, bool] = {}
    for name, kind, foreign_grantor in rows:
        kinds.setdefault(str(name), set()).add(str(kind))
        foreign[str(name)] = foreign.get(str(name), False) or bool(foreign_grantor)
    for owner in owners:
        if not owner.startswith("pg_"):
            kinds.setdefault(owner, set()).add("owner")
    return [NamedRole(name, tuple(sorted(kinds[name])), foreign.get(name, False)) for name in sorted(kinds)]
