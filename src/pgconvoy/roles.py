"""project.yml `roles:`: the application's own roles, created on the target by the shared schema file.

A role is created only when the target has none of that name (an existing role is never altered) and
each membership is granted only when missing, so the file runs on a target that has them already. No
password is ever written: a role that logs in gets its password on the target, by hand or by the
platform. Roles are cluster-wide: `rollback.sql` leaves them. The platform's roles (Supabase's `anon`,
`authenticated`, ... and PostgreSQL's `pg_*`) are the platform's: a `roles:` entry naming one is refused
(PC701); they may be named in `member_of`.

`init` proposes `roles:` from the source: the roles the grants and policies of the migrated schemas
name, less the reserved ones, with their attributes and memberships (and the roles those are members of,
when they are the application's too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from pgconvoy.catalog.roles import named_roles
from pgconvoy.platform import PLATFORM_ROLES
from pgconvoy.quote import literal

# Roles a Supabase project (or PostgreSQL itself) has and manages, beside platform.PLATFORM_ROLES.
RESERVED_ROLES = PLATFORM_ROLES | {"postgres", "anon", "authenticated", "service_role", "authenticator",
                                   "dashboard_user", "pgbouncer", "public", "none", "current_user", "session_user",
                                   "current_role"}
RESERVED_PREFIXES = ("pg_", "supabase_")


def reserved(name: str) -> bool:
    return name.lower() in RESERVED_ROLES or name.startswith(RESERVED_PREFIXES)


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    attributes: tuple[str, ...]  # as CREATE ROLE spells them
    connection_limit: int
    member_of: tuple[str, ...]

    def doc(self) -> dict[str, Any]:
        """manifest.json `requires.creates_roles[]`."""
        limit = () if self.connection_limit == -1 else (f"CONNECTION LIMIT {self.connection_limit}",)
        return {"name": self.name, "attributes": [*self.attributes, *limit], "member_of": list(self.member_of)}


def from_specs(specs: Iterable[Any]) -> tuple[Role, ...]:
    """`manifest.RoleSpec`s as roles to create."""
    return tuple(
        Role(s.name, ("LOGIN" if s.login else "NOLOGIN", "INHERIT" if s.inherit else "NOINHERIT",
                      "CREATEDB" if s.createdb else "NOCREATEDB", "CREATEROLE" if s.createrole else "NOCREATEROLE",
                      "BYPASSRLS" if s.bypassrls else "NOBYPASSRLS"), s.connection_limit, tuple(s.member_of))
        for s in specs)


def render(roles: Sequence[Role]) -> str:
    """One DO block: each role created when missing, then each membership granted when missing. Names are
    literals; the server quotes them as identifiers (format's %I)."""
    lines = ["DO $roles$", "BEGIN"]
    for role in roles:
        attributes = " ".join(role.attributes)
        lines += [
            f"  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {literal(role.name)}) THEN",
            f"    EXECUTE pg_catalog.format('CREATE ROLE %I WITH {attributes} CONNECTION LIMIT %s', "
            f"{literal(role.name)}, {role.connection_limit});",
            "  END IF;",
        ]
    for role in roles:
        for parent in role.member_of:
            lines += [
                "  IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members m",
                "                 JOIN pg_catalog.pg_roles g ON g.oid = m.roleid JOIN pg_catalog.pg_roles u ON "
                "u.oid = m.member",
                f"                 WHERE g.rolname = {literal(parent)} AND u.rolname = {literal(role.name)}) THEN",
                f"    EXECUTE pg_catalog.format('GRANT %I TO %I', {literal(parent)}, {literal(role.name)});",
                "  END IF;",
            ]
    lines += ["END", "$roles$;"]
    return "\n".join(lines)


_ATTRIBUTES = """
SELECT r.rolname, r.rolcanlogin, r.rolinherit, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls, r.rolconnlimit,
       ARRAY(SELECT g.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
             WHERE m.member = r.oid ORDER BY 1)
FROM pg_catalog.pg_roles r WHERE r.rolname = ANY(%s) AND NOT r.rolsuper ORDER BY 1
"""


def proposed(conn: psycopg.Connection[Any], schemas: Sequence[str]) -> list[dict[str, Any]]:
    """`init`'s roles: the application's roles the grants and policies of `schemas` name, and the
    application's roles they are members of, parents first; superusers never (a managed target refuses
    them)."""
    wanted = [r.name for r in named_roles(conn, schemas, platform=PLATFORM_ROLES)
              if not reserved(r.name) and r.kinds != ("grantor",)]
    found: dict[str, dict[str, Any]] = {}
    while wanted:
        rows = conn.execute(_ATTRIBUTES.encode(), (wanted,)).fetchall()
        wanted = []
        for name, login, inherit, createdb, createrole, bypassrls, limit, parents in rows:
            spec: dict[str, Any] = {"name": name}
            spec |= {k: v for k, v, default in (("login", login, False), ("inherit", inherit, True),
                                                ("createdb", createdb, False), ("createrole", createrole, False),
                                                ("bypassrls", bypassrls, False), ("connection_limit", limit, -1))
                     if v != default}
            if parents:
                spec["member_of"] = list(parents)
            found[name] = spec
            wanted += [p for p in parents if not reserved(p) and p not in found]
    conn.rollback()
    return _parents_first(found)


def _parents_first(found: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in found:
            return
        seen.add(name)
        for parent in found[name].get("member_of", ()):
            visit(parent)
        ordered.append(found[name])

    for name in sorted(found):
        visit(name)
    return ordered
