"""What a Supabase API exposes: the tables, views and functions its roles (`catalog.API_ROLES`: anon,
authenticated) reach, and what runs on their behalf. Supabase's linter, splinter, has these lints; each
rule follows its definition (github.com/supabase/splinter, lints/00NN_*.sql, as of commit 55db5b1) with
one difference: splinter asks PostgREST's setting `pgrst.db_schemas` which schemas the API serves, a
setting a catalog does not hold, so here a schema is exposed when an API role has USAGE on it (directly,
as a member of a role that has it, or through PUBLIC). On a database without those roles nothing is
exposed, and the exposure rules stay silent. The platform's managed schemas are never linted.
"""

from __future__ import annotations

from pgconvoy.catalog.model import Function, Name
from pgconvoy.graph import load_unit
from pgconvoy.quote import ident, qualified
from pgconvoy.rules.context import Context
from pgconvoy.rules.registry import rule, splinter
from pgconvoy.rules.security import rls_where


def _exposed(ctx: Context, schema: str) -> bool:
    """An API role may use the schema, and it is the application's (not a platform-managed one)."""
    found = ctx.catalog.schema(schema)
    return found is not None and found.exposed and not found.managed


def _linted_schema(ctx: Context, schema: str) -> bool:
    found = ctx.catalog.schema(schema)
    return schema in ctx.project.project.schemas and found is not None and not found.managed


def _schema_where(ctx: Context, schema: str) -> tuple[str, int]:
    """The schema's entry in project.yml `schemas:` (an object no group lists: a view, a function)."""
    schemas = ctx.project.project.schemas
    if schema in schemas:
        return ctx.project.file, ctx.project.lines.line("schemas", schemas.index(schema))
    return ctx.project.file, 1


def _who(privileges: tuple[tuple[str, str], ...]) -> str:
    """`anon can SELECT, INSERT; authenticated can SELECT`."""
    by_role: dict[str, list[str]] = {}
    for role, privilege in privileges:
        by_role.setdefault(role, []).append(privilege)
    return "; ".join(f"{role} can {', '.join(done)}" for role, done in by_role.items())


@rule("PC508", "rls_disabled_in_public", "error", "a table the API roles can reach with row-level security off",
      "ALTER TABLE ... ENABLE ROW LEVEL SECURITY and add policies (or revoke the API roles' privileges)",
      stage="check", link=splinter("0013_rls_disabled_in_public"))
def rls_disabled_in_public(ctx: Context) -> None:
    """A table of an exposed schema has row-level security disabled while anon or authenticated holds
    SELECT, INSERT, UPDATE or DELETE on it or on some of its columns (directly, through a role or through
    PUBLIC): through the API, every row is theirs to read or write. Splinter's
    0013_rls_disabled_in_public asks for SELECT on the whole table only; a write privilege or a column's
    grant without row-level security is as open. Partitions count too: a partition queried by name is
    protected by its own row-level security, not its parent's. At check, on the target: a source's
    defect does not stop the compile that migrates it."""
    unit = load_unit(ctx.catalog)
    schemas = set(ctx.project.project.schemas)
    for table in ctx.catalog.tables:
        name = table.qualified
        if (table.rls_enabled or not table.api_privileges or name.schema not in schemas
                or name in ctx.excluded or unit(name) in ctx.excluded or not _exposed(ctx, name.schema)):
            continue
        ctx.emit("PC508", f"{name} has row level security disabled and the API roles can reach it "
                 f"({_who(table.api_privileges)}): every row is theirs", rls_where(ctx, unit(name)), name,
                 hint=f"ALTER TABLE {qualified(name)} ENABLE ROW LEVEL SECURITY, then create the policies that "
                 "give them their rows")


@rule("PC509", "security_definer_view", "error", "a view the API roles can read that runs with its owner's rights",
      "ALTER VIEW ... SET (security_invoker = true)", stage="check", link=splinter("0010_security_definer_view"))
def security_definer_view(ctx: Context) -> None:
    """A view of an exposed schema that anon or authenticated may SELECT from, without
    `security_invoker = true` (PostgreSQL 15+): it reads its tables with its owner's privileges and
    row-level security (none at all when the owner owns them, or bypasses RLS), not the caller's, so the
    API hands out every row the owner sees. Splinter's 0010_security_definer_view; extensions' views are
    left out. At check, on the target."""
    if ctx.catalog.server_version < 150000:
        return  # security_invoker came with PostgreSQL 15: nothing to set
    for view in ctx.catalog.views:
        if view.security_invoker or not view.api_roles_can_select or not _exposed(ctx, view.schema) \
                or not _linted_schema(ctx, view.schema):
            continue
        ctx.emit("PC509", f"view {view.qualified} runs with the rights of its owner {view.owner}, and "
                 f"{' and '.join(view.api_roles_can_select)} can read it: it reads its tables with "
                 f"{view.owner}'s privileges and row level security, not the caller's",
                 _schema_where(ctx, view.schema),
                 hint=f"ALTER VIEW {qualified(view.qualified)} SET (security_invoker = true)",
                 subject=str(view.qualified))


def _signature(function: Function) -> str:
    return f"{qualified(Name(function.schema, function.name))}({function.arguments})"


@rule("PC510", "function_search_path_mutable", "warn", "a function or procedure with no search_path of its own",
      "ALTER FUNCTION ... SET search_path = '' (and qualify the names it uses)", stage="both",
      link=splinter("0011_function_search_path_mutable"))
def function_search_path_mutable(ctx: Context) -> None:
    """A function or procedure of the project's schemas (an extension's aside) sets no search_path: the
    names in its body resolve through the search_path of whoever calls it, who can put an object of the
    same name first. With SECURITY DEFINER that object runs with the owner's rights. Splinter's
    0011_function_search_path_mutable; aggregates and window functions are left out (no SET clause
    applies to them)."""
    for function in ctx.catalog.functions:
        if function.search_path_set or not _linted_schema(ctx, function.schema):
            continue
        signature = _signature(function)
        definer = ("; it is SECURITY DEFINER, so an object a caller puts first runs with its owner's rights"
                   if function.security_definer else "")
        ctx.emit("PC510", f"{function.kind} {signature} has no search_path of its own: the names in its body "
                 f"resolve through its caller's{definer}", _schema_where(ctx, function.schema),
                 hint=f"ALTER {function.kind.upper()} {signature} SET search_path = '' (and qualify the names "
                 "its body uses)", subject=signature)


@rule("PC511", "extension_in_public", "warn", "an extension installed in schema public",
      "ALTER EXTENSION ... SET SCHEMA extensions", stage="both", link=splinter("0014_extension_in_public"))
def extension_in_public(ctx: Context) -> None:
    """An extension (plpgsql aside) installed in schema public: its functions, types and operators sit
    beside the application's objects, in the schema the API serves and every search_path starts with.
    Splinter's 0014_extension_in_public, for a project that migrates schema public (the extension is the
    database's, but only then does it sit among the project's objects). One that is not relocatable is
    recreated in the other schema instead."""
    if not _linted_schema(ctx, "public"):
        return
    for extension in ctx.catalog.extensions:
        if extension.schema != "public" or extension.name == "plpgsql":
            continue
        name = ident(extension.name)
        exposed = ", which the API roles can use" if _exposed(ctx, "public") else ""
        hint = (f"CREATE SCHEMA IF NOT EXISTS extensions; ALTER EXTENSION {name} SET SCHEMA extensions"
                if extension.relocatable else
                f"it cannot be moved: recreate it with CREATE EXTENSION {name} WITH SCHEMA extensions "
                "(after DROP EXTENSION, which fails while objects depend on it)")
        ctx.emit("PC511", f"extension {extension.name} is installed in schema public{exposed}: its objects sit "
                 "beside the application's", _schema_where(ctx, "public"), hint=hint, subject=extension.name)
