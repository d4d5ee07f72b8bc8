"""`pgconvoy preflight`: what stops a compile's migration on a target, found before anything is written.

`findings(conn, plan)` compares what the migration needs (`target/manifest.json` `requires`, read
through `runner.contract`) with the target's catalog, in one READ ONLY transaction it rolls back: it
never changes the target. Each finding has a kind, a severity, what it is about, and the fix.

Kinds:
- `older_target`: the target's major version is older than the source's (pg_dump wrote the source's SQL);
- `create_schema_privilege`: no CREATE on the database for a schema the migration creates;
- `schema_privilege`: no CREATE on a schema the migration creates objects in (or the schema is missing);
- `extension_unavailable`: an extension the migration creates is not in `pg_available_extensions`;
- `extension_version` (warn): the source's version of an extension is not one the target can install;
- `extension_schema`: an extension is installed in another schema than the migration's, or its schema is
  not there;
- `extension_privilege`: the role cannot create an extension (neither superuser nor a trusted extension
  with CREATE on the database, nor one of Supabase's privileged extensions);
- `role_missing`: a role a grant, policy, default privilege, owner or membership names does not exist;
- `owner_privilege`: ALTER ... OWNER TO a role the connecting role cannot SET ROLE to;
- `grant_privilege`: grants the connecting role could not make (objects of an owner whose privileges it
  does not inherit: PostgreSQL skips such a GRANT with a warning; grants restored as another grantor; default
  privileges for a role it is not a member of; memberships it has no ADMIN OPTION on);
- `create_role_privilege`: a role of `roles:` the connecting role cannot create as declared;
- `locks`: the lock table (max_locks_per_transaction x (max_connections + max_prepared_transactions)) is
  smaller than the relations one file locks in its transaction;
- `not_empty`: a schema or table the migration creates exists, or a table it loads holds rows.

`run` calls it as its first step with the connection it applies the files with and the contract it read,
then `refuse(found, allow_older_target=..., allow_nonempty=...)`: that raises a PgConvoyError listing the
errors (the two flags drop `older_target` and `not_empty`; a `--resume` run passes allow_nonempty=True)
and returns the warnings to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from rich.console import Console
from rich.table import Table

from pgconvoy.catalog.model import Name
from pgconvoy.errors import PgConvoyError
from pgconvoy.quote import ident, qualified
from pgconvoy.runner.contract import Contract, Requirements

PREFLIGHT_VERSION = 1
Severity = Literal["error", "warn"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    severity: Severity
    subject: str  # what it is about: a role, an extension, a schema, a table, a setting
    message: str
    fix: str


def findings(conn: psycopg.Connection[Any], plan: Contract) -> list[Finding]:
    """Everything of `plan` the target behind `conn` would refuse, read in one READ ONLY transaction that is
    rolled back. `conn` must not be inside a transaction."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise PgConvoyError("preflight needs a connection outside a transaction",
                            hint="commit or roll back first")
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        return _Target(cur, plan).findings()


def refuse(found: Sequence[Finding], *, allow_older_target: bool = False,
           allow_nonempty: bool = False) -> list[Finding]:
    """Raise a PgConvoyError naming the error findings (less those allowed); returns the rest to show."""
    allowed = {k for k, on in (("older_target", allow_older_target), ("not_empty", allow_nonempty)) if on}
    errors = [f for f in found if f.severity == "error" and f.kind not in allowed]
    if errors:
        listed = "; ".join(f"{f.subject}: {f.message}" for f in errors[:5])
        more = f" and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise PgConvoyError(f"the target cannot take this migration: {listed}{more}",
                            hint=errors[0].fix if len(errors) == 1 else "see `pgconvoy preflight` for each fix")
    return [f for f in found if f not in errors]


class _Target:
    """The target's catalog as one transaction sees it, and the checks against `plan`."""

    def __init__(self, cur: psycopg.Cursor[Any], plan: Contract) -> None:
        self.cur = cur
        self.plan = plan
        self.found: list[Finding] = []
        row = self._one("SELECT current_user, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, "
                        "r.rolbypassrls, pg_catalog.current_setting('server_version_num')::int, "
                        "pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') "
                        "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user")
        self.user, self.superuser, self.createrole, self.createdb, self.replication, self.bypassrls = row[:6]
        self.version: int = row[6]
        self.create_on_database: bool = row[7]

    def findings(self) -> list[Finding]:
        self._version()
        need = self.plan.requires
        if need is None:
            self._add("requirements", "warn", "target/manifest.json",
                      "the compile recorded no requirements: only the version and emptiness are checked",
                      "compile again with this pgconvoy")
        else:
            self._schemas(need)
            self._extensions(need)
            self._roles(need)
            self._created_roles(need)
            self._platform_tables(need)
            self._locks(need)
        self._empty(need)
        return self.found

    # --- the checks -------------------------------------------------------------------------------

    def _version(self) -> None:
        source, target = self.plan.source_version // 10000, self.version // 10000
        if target < source:
            self._add("older_target", "error", f"PostgreSQL {target}",
                      f"the target runs PostgreSQL {target}, older than the source's {source}: pg_dump wrote SQL "
                      "for the source's version", f"use a target of PostgreSQL {source} or newer (run "
                      "--allow-older-target accepts the risk)")

    def _schemas(self, need: Requirements) -> None:
        if need.creates_schemas and not (self.superuser or self.create_on_database):
            self._add("create_schema_privilege", "error", ", ".join(need.creates_schemas),
                      f"{self.user} has no CREATE on the database: CREATE SCHEMA fails",
                      f"GRANT CREATE ON DATABASE <the database> TO {ident(self.user)}, or run as its owner")
        for schema in need.uses_schemas:
            row = self._one("SELECT pg_catalog.has_schema_privilege(n.oid, 'CREATE') FROM pg_catalog.pg_namespace n "
                            "WHERE n.nspname = %s", (schema,))
            if row is None:
                self._add("schema_privilege", "error", schema, "the schema does not exist on the target and the "
                          "migration does not create it", f"CREATE SCHEMA {ident(schema)}")
            elif not row[0]:
                self._add("schema_privilege", "error", schema, f"{self.user} has no CREATE on schema {schema}",
                          f"GRANT CREATE ON SCHEMA {ident(schema)} TO {ident(self.user)}")

    def _extensions(self, need: Requirements) -> None:
        privileged, privileged_role = self._privileged_extensions()
        for ext in need.extensions:
            row = self._one(
                "SELECT a.default_version, n.nspname, e.extversion, "
                "  ARRAY(SELECT v.version FROM pg_catalog.pg_available_extension_versions v WHERE v.name = a.name), "
                "  (SELECT v.trusted FROM pg_catalog.pg_available_extension_versions v "
                "   WHERE v.name = a.name AND v.version = a.default_version) "
                "FROM pg_catalog.pg_available_extensions a "
                "LEFT JOIN pg_catalog.pg_extension e ON e.extname = a.name "
                "LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
                "WHERE a.name = %s", (ext.name,))
            if row is None:
                self._add("extension_unavailable", "error", ext.name, "the extension is not available on the "
                          "target (not in pg_available_extensions)", "install its package on the target server, "
                          "or enable it in the platform's dashboard")
                continue
            default, installed_in, installed, versions, trusted = row
            if installed_in is not None:
                if installed_in != ext.schema:
                    self._add("extension_schema", "error", ext.name, f"installed in schema {installed_in}, the "
                              f"migration creates it in {ext.schema} and names its objects there",
                              f"ALTER EXTENSION {ident(ext.name)} SET SCHEMA {ident(ext.schema)} "
                              "(if it is relocatable), or drop it from the target")
                if installed != ext.version:
                    self._add("extension_version", "warn", ext.name, f"version {installed} is installed, the "
                              f"source has {ext.version}", f"ALTER EXTENSION {ident(ext.name)} UPDATE TO "
                              f"'{ext.version}' where both sides have it")
                continue
            if ext.version not in versions:
                self._add("extension_version", "warn", ext.name, f"the target cannot install version {ext.version} "
                          f"of the source; CREATE EXTENSION installs {default}",
                          f"install version {ext.version} on the target, or check that the migration needs "
                          f"nothing {default} lacks")
            if ext.schema not in need.creates_schemas and not self._exists("pg_namespace", "nspname", ext.schema):
                self._add("extension_schema", "error", ext.name, f"its schema {ext.schema} does not exist on the "
                          "target and the migration does not create it", f"CREATE SCHEMA {ident(ext.schema)}")
            allowed = self.superuser or (bool(trusted) and self.create_on_database) or (
                ext.name in privileged and (privileged_role is None or self._member(privileged_role)))
            if not allowed:
                why = "it is not a trusted extension" if not trusted else f"{self.user} has no CREATE on the database"
                self._add("extension_privilege", "error", ext.name, f"{self.user} cannot create it: not a "
                          f"superuser and {why}", f"CREATE EXTENSION {ident(ext.name)} WITH SCHEMA "
                          f"{ident(ext.schema)} as a superuser (or from the platform's dashboard) first")

    def _roles(self, need: Requirements) -> None:
        created = {r.name for r in need.creates_roles}
        for role in need.roles:
            exists = self._exists("pg_roles", "rolname", role.name)
            if not exists and role.name not in created:
                self._add("role_missing", "error", role.name, f"no such role on the target; the migration names "
                          f"it as {_uses(role.named_by)}", f"CREATE ROLE {ident(role.name)} NOLOGIN (or add "
                          "it to roles: in project.yml)")
                continue
            if self.superuser or not exists:
                continue  # a role the migration creates: create_role_privilege judges what it can do with it
            if "owner" in role.named_by:
                if not self._member(role.name, "SET" if self.version >= 160000 else "MEMBER"):
                    self._add("owner_privilege", "error", role.name, f"ALTER ... OWNER TO {role.name} needs "
                              f"{self.user} to be able to SET ROLE {role.name}",
                              f"GRANT {ident(role.name)} TO {ident(self.user)}, or owners: none")
                elif not self._member(role.name, "USAGE"):
                    self._add("grant_privilege", "error", role.name, f"{self.user} does not inherit the privileges "
                              f"of {role.name}: the grants on the objects it owns would be skipped",
                              f"GRANT {ident(role.name)} TO {ident(self.user)} WITH INHERIT TRUE")
            if role.foreign_grantor:
                self._add("grant_privilege", "error", role.name, f"grants made by {role.name} on objects it does "
                          "not own are restored under SET SESSION AUTHORIZATION, which needs a superuser",
                          "run as a superuser, or re-grant them on the source as the owners")
            if "default_privileges" in role.named_by and not self._member(role.name):
                self._add("grant_privilege", "error", role.name, f"ALTER DEFAULT PRIVILEGES FOR ROLE {role.name} "
                          f"needs {self.user} to be a member of it",
                          f"GRANT {ident(role.name)} TO {ident(self.user)}")

    def _created_roles(self, need: Requirements) -> None:
        if self.superuser:
            return
        for role in need.creates_roles:
            if not self._exists("pg_roles", "rolname", role.name):
                lacking = [] if self.createrole else ["CREATEROLE"]
                own = {"CREATEDB": self.createdb, "REPLICATION": self.replication, "BYPASSRLS": self.bypassrls}
                lacking += [a for a in role.attributes if a in own and not own[a]]
                lacking += ["SUPERUSER"] if "SUPERUSER" in role.attributes else []
                if lacking:
                    self._add("create_role_privilege", "error", role.name, f"{self.user} cannot create it as "
                              f"declared: it lacks {', '.join(lacking)}", f"create {role.name} as a superuser "
                              "first, or drop those attributes from roles:")
            for parent in role.member_of:  # a membership the target has already is not granted again
                if (self._exists("pg_roles", "rolname", parent) and not self._has_member(parent, role.name)
                        and not self._admin(parent)):
                    self._add("grant_privilege", "error", f"{parent} -> {role.name}", f"{self.user} cannot grant "
                              f"membership in {parent}", f"GRANT {ident(parent)} TO {ident(self.user)} "
                              "WITH ADMIN OPTION, or grant it as a superuser")

    def _platform_tables(self, need: Requirements) -> None:
        """platform_data loads rows into the target platform's own tables: each must be there with the
        columns the rows carry, and take INSERT (and UPDATE of its sequences) from the connecting role."""
        for name, columns in need.platform_tables:
            row = self._one("SELECT c.oid, pg_catalog.has_table_privilege(c.oid, 'INSERT') FROM pg_catalog.pg_class c "
                            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
                            (name.schema, name.name))
            if row is None:
                self._add("platform_table", "error", qualified(name), f"platform_data loads rows into {name}, "
                          "which the target does not have", "create the target's platform first (a Supabase "
                          "project has it), or leave the table out of platform_data")
                continue
            present = {r[0] for r in self.cur.execute(
                b"SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = %s AND attnum > 0 "
                b"AND NOT attisdropped", (row[0],)).fetchall()}
            missing = [c for c in columns if c not in present]
            if missing:
                self._add("platform_columns", "error", qualified(name), f"the target's {name} has no column "
                          f"{', '.join(missing)}: its platform is older than the source's",
                          "upgrade the target's platform (auth / storage) to the source's version first")
            if not row[1]:
                self._add("platform_privilege", "error", qualified(name), f"{self.user} cannot INSERT into {name}",
                          f"GRANT INSERT ON {qualified(name)} TO {ident(self.user)}, or run as the platform's "
                          "admin role")

    def _locks(self, need: Requirements) -> None:
        row = self._one("SELECT pg_catalog.current_setting('max_locks_per_transaction')::int, "
                        "pg_catalog.current_setting('max_connections')::int, "
                        "pg_catalog.current_setting('max_prepared_transactions')::int")
        per, connections, prepared = row
        room = per * (connections + prepared)
        if need.locks > room:
            self._add("locks", "error", "max_locks_per_transaction", f"{need.locks_file} locks about "
                      f"{need.locks} relations in one transaction; the target's lock table holds {room} "
                      f"({per} x ({connections} + {prepared}))",
                      f"ALTER SYSTEM SET max_locks_per_transaction = {-(-need.locks * 2 // (connections + prepared))}"
                      " and restart, or split the group into smaller groups")

    def _empty(self, need: Requirements | None) -> None:
        taken: list[str] = []
        for schema in need.creates_schemas if need else ():
            if self._exists("pg_namespace", "nspname", schema):
                taken.append(f"schema {schema} exists")
        for name in dict.fromkeys(self.plan.creates + self.plan.loads):
            row = self._one("SELECT pg_catalog.has_table_privilege(c.oid, 'SELECT') FROM pg_catalog.pg_class c "
                            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = %s AND c.relname = %s", (name.schema, name.name))
            if row is None:
                continue
            if name in self.plan.creates:
                taken.append(f"{qualified(name)} exists")
            elif row[0] and self._has_rows(name):
                taken.append(f"{qualified(name)} has rows")
        for what in taken:
            self._add("not_empty", "error", what.rsplit(" ", 1)[0], what, "use an empty database, or undo an "
                      "earlier run with target/rollback.sql (run --allow-nonempty loads anyway)")

    # --- reading the target -----------------------------------------------------------------------

    def _one(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self.cur.execute(query.encode(), params or None).fetchone()

    def _exists(self, table: str, column: str, value: str) -> bool:
        query = sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE {} = %s)").format(
            sql.Identifier("pg_catalog", table), sql.Identifier(column))
        row = self.cur.execute(query, (value,)).fetchone()
        return bool(row and row[0])

    def _member(self, role: str, privilege: str = "MEMBER") -> bool:
        row = self._one("SELECT pg_catalog.pg_has_role(current_user, %s, %s)", (role, privilege))
        return bool(row and row[0])

    def _has_member(self, role: str, member: str) -> bool:
        row = self._one("SELECT EXISTS (SELECT FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON "
                        "g.oid = m.roleid JOIN pg_catalog.pg_roles u ON u.oid = m.member WHERE g.rolname = %s AND "
                        "u.rolname = %s)", (role, member))
        return bool(row and row[0])

    def _admin(self, role: str) -> bool:
        """Can the connecting role GRANT membership in `role`? ADMIN OPTION (PostgreSQL 16 on); before 16,
        CREATEROLE grants any role but a superuser."""
        if self.version < 160000 and self.createrole:
            return not bool(self._one("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = %s", (role,))[0])
        return self._member(role, "USAGE WITH ADMIN OPTION") or self._member(role, "MEMBER WITH ADMIN OPTION")

    def _has_rows(self, name: Name) -> bool:
        row = self.cur.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
            sql.Identifier(name.schema, name.name))).fetchone()
        return bool(row and row[0])

    def _privileged_extensions(self) -> tuple[set[str], str | None]:
        """Supabase's supautils lets its privileged role create the extensions it lists, without a superuser."""
        row = self._one("SELECT pg_catalog.current_setting('supautils.privileged_extensions', true), "
                        "pg_catalog.current_setting('supautils.privileged_role', true)")
        names = {n.strip() for n in (row[0] or "").split(",") if n.strip()}
        return names, (row[1] or None) if names else None

    def _add(self, kind: str, severity: Severity, subject: str, message: str, fix: str) -> None:
        self.found.append(Finding(kind, severity, subject, message, fix))


def _uses(named_by: Iterable[str]) -> str:
    words = {"grant": "a grantee", "grantor": "a grantor", "policy": "a policy's role",
             "default_privileges": "the role of default privileges", "owner": "an owner",
             "member": "a role of roles: member_of"}
    return ", ".join(words.get(n, n) for n in named_by)


# --- output -------------------------------------------------------------------------------------------

def to_json(found: Sequence[Finding], target: str) -> str:
    doc = {"version": PREFLIGHT_VERSION, "target": target,
           "ok": not any(f.severity == "error" for f in found), "findings": [asdict(f) for f in found]}
    return json.dumps(doc, indent=2)


def print_findings(console: Console, found: Sequence[Finding], target: str) -> None:
    if not found:
        console.print(f"[green]Preflight passed:[/] {target} can take this migration.", highlight=False)
        return
    table = Table("severity", "kind", "about", "problem", "fix", title=f"preflight of {target}",
                  title_justify="left")
    for f in found:
        colour = "red" if f.severity == "error" else "yellow"
        table.add_row(f"[{colour}]{f.severity}[/]", f.kind, f.subject, f.message, f.fix)
    console.print(table)
    errors = sum(1 for f in found if f.severity == "error")
    console.print(f"{errors} errors, {len(found) - errors} warnings: "
                  + ("fix the errors before `pgconvoy run`." if errors else "the run can go ahead."), highlight=False)
