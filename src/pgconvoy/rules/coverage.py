"""Coverage: every table of the project's schemas is in exactly one group, or excluded, and every name
the manifests write means one table."""

from __future__ import annotations

from pgconvoy.catalog.model import Name
from pgconvoy.rules.context import Context
from pgconvoy.rules.registry import declare, rule

declare("PC001", "unknown_lint", "error", "a lints: key that is no rule code or name",
        "use a code or a name of `pgconvoy rules`",
        "project.yml `lints:` sets a rule's level by its code or its name; a key that is neither would "
        "silently configure nothing.", reported_by="reconcile", stage="both")
declare("PC002", "unused_ignore", "warn", "an ignore: entry that matches no finding of the compile",
        "remove it (the finding is gone), or copy the key from `pgconvoy compile --format json`",
        "project.yml `ignore:` silences one finding by its key, with a reason. An entry that matches nothing "
        "is stale (the problem was fixed, or the object renamed) and would silently cover the next finding "
        "that happens to get that key. Keys of rules that run only at check are not judged at compile.",
        reported_by="compile")
declare("PC102", "unknown_table", "error", "a manifest table that is not in the catalog",
        "fix the name, or remove the entry",
        "A name in tables:, indexes: or rls: that no table of the project's schemas has. On a check, the "
        "table is missing from the target.", reported_by="the name resolver", stage="both")
declare("PC104", "table_in_two_groups", "error", "a table listed twice", "keep one entry",
        "A table loads once: listed in two groups (or twice in one), one of its loads would fail.",
        reported_by="the name resolver", stage="both")
declare("PC105", "ambiguous_table_name", "error", "an unqualified name found in several schemas",
        "write it qualified: schema.name",
        "An unqualified name that exists in more than one of the project's schemas.",
        reported_by="the name resolver", stage="both")
declare("PC106", "excluded_table_listed", "error", "a table both excluded and listed in a group",
        "remove it from one of them",
        "A table in project.yml `exclude:` and in a group's tables: which one is meant?",
        reported_by="the name resolver", stage="both")
declare("PC107", "partition_listed", "error", "a partition listed instead of its partitioned table",
        "list the partitioned (root) table",
        "The rows of a partition load through its partitioned root (every partition at once, routed by the "
        "server): listed on its own, they would load twice.", reported_by="the name resolver", stage="both")


@rule("PC101", "table_not_in_group", "error", "a catalog table in no group and not excluded",
      "add it to a group's tables, or to exclude: in project.yml")
def table_not_in_group(ctx: Context) -> None:
    """Every loadable table of the project's schemas is in a group or excluded: a table the manifests
    forget would silently not be migrated."""
    schemas = set(ctx.project.project.schemas)
    lines = ctx.project.lines
    where = (ctx.project.file, lines.by_path.get(("exclude",)) or lines.line("schemas"))
    for name in ctx.graph.order:
        if name.schema in schemas and name not in ctx.placed and name not in ctx.excluded:
            ctx.emit("PC101", f"{name} is in no group and not excluded", where, name,
                     hint=f"add {name.name if _unique_name(ctx, name) else name} to a group's tables, "
                     "or to exclude: in project.yml")


def _unique_name(ctx: Context, name: Name) -> bool:
    return sum(ctx.catalog.table(Name(s, name.name)) is not None for s in ctx.project.project.schemas) == 1


@rule("PC103", "unknown_column", "error", "a two_pass column the table does not have", "fix the column name")
def unknown_column(ctx: Context) -> None:
    """A two_pass entry names a column the table does not have."""
    for name, placement in ctx.placed.items():
        table = ctx.table(name)
        for i, column in enumerate(placement.spec.two_pass):
            if table.column(column) is None:
                ctx.emit("PC103", f"{name} has no column {column!r}", placement.at("two_pass", i), name,
                         hint=f"columns: {', '.join(c.name for c in table.columns)}", subject=f"{name}.{column}")
