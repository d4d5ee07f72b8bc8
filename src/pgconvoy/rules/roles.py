"""project.yml `roles:`: the application's roles, never the platform's."""

from __future__ import annotations

from pgconvoy.roles import reserved
from pgconvoy.rules.context import Context
from pgconvoy.rules.registry import declare, rule


@rule("PC701", "reserved_role", "error", "a roles: entry that names a platform-reserved role",
      "remove it: the target's platform creates and manages that role (name it in member_of instead)")
def reserved_role(ctx: Context) -> None:
    """`roles:` creates the application's own roles on the target. The platform's (Supabase's `anon`,
    `authenticated`, `service_role`, `authenticator`, `supabase_*`, `dashboard_user`, `pgbouncer`, the
    bootstrap `postgres`) and PostgreSQL's predefined `pg_*` roles exist there already with attributes the
    platform relies on: a migration must not create or redefine them."""
    for i, spec in enumerate(ctx.project.project.roles):
        if reserved(spec.name):
            ctx.emit("PC701", f"roles: {spec.name!r} is a role the platform reserves",
                     (ctx.project.file, ctx.project.lines.line("roles", i, "name")), subject=f"role {spec.name}",
                     hint="remove the entry; to make an application role one of its members, use member_of")


declare("PC702", "platform_reference_not_listed", "warn",
        "a platform_data table references a platform table that platform_data does not list",
        "list the referenced table too, or make sure the target's platform holds its rows",
        "project.yml `platform_data:` copies rows of the platform's own tables (auth.users, storage.buckets, "
        "...) into the target's. A listed table whose foreign key points at a platform table that is not listed "
        "loads only if the target already holds the referenced rows (or every key is NULL): otherwise the run "
        "fails on that key. Reported by compile while it reads the listed tables.", reported_by="compile")
