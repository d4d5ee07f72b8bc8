"""Indexes: required ones exist, foreign keys are covered, none is there twice, tables have a key."""

from __future__ import annotations

from pgconvoy.graph import load_unit
from pgconvoy.quote import ident
from pgconvoy.rules.context import Context, parse_written
from pgconvoy.rules.order import fk_text
from pgconvoy.rules.registry import rule, splinter


@rule("PC401", "required_index_missing", "error", "an index the manifest requires is not there",
      "create it, or fix the entry", stage="both")
def required_indexes(ctx: Context) -> None:
    """An index a group's `indexes:` lists (by name, or by table and leading columns) is not there: on the
    source (the manifest is out of date) or on the target (it was lost)."""
    for group in ctx.project.groups:
        for i, spec in enumerate(group.manifest.indexes):
            where = (group.file, group.lines.line("indexes", i))
            if spec.table is not None:
                name = ctx.resolve(spec.table, where)
                if name is None:
                    continue
                columns = tuple(spec.columns or ())
                ok = [ix for ix in ctx.table(name).indexes if ix.columns[: len(columns)] == columns
                      and (spec.name is None or ix.name == spec.name)]
                if not ok:
                    ctx.emit("PC401", f"no index on {name} ({', '.join(columns)})"
                             + (f" named {spec.name}" if spec.name else "") + f" in the {ctx.side}", where, name,
                             hint=f"CREATE INDEX ON {name} ({', '.join(map(ident, columns))})",
                             subject=f"{name}({','.join(columns)})")
            elif spec.name is not None and not _index_named(ctx, spec.name):
                ctx.emit("PC401", f"no index named {spec.name} in the {ctx.side}", where,
                         hint="create it, or fix the name (schema.name when ambiguous)", subject=spec.name)


def _index_named(ctx: Context, written: str) -> bool:
    schema, name = parse_written(written)
    if ctx.index_schemas is None:  # built once: init writes an entry per foreign key's index
        ctx.index_schemas = {}
        for t in ctx.catalog.tables:
            for ix in t.indexes:
                ctx.index_schemas.setdefault(ix.name, set()).add(t.schema)
    found = ctx.index_schemas.get(name, set())
    return bool(found) and (not schema or schema in found)


@rule("PC402", "unindexed_foreign_key", "warn", "a foreign key whose columns lead no index",
      "CREATE INDEX ON the table (the key's columns first)", stage="both",
      link=splinter("0001_unindexed_foreign_keys"))
def unindexed_foreign_keys(ctx: Context) -> None:
    """A foreign key whose columns are not the leading columns (in any order) of a valid, whole b-tree
    index of its table: every delete or key update on the referenced table, and every join from it,
    scans the whole referencing table. A partial index does not serve every lookup; (b, a) serves a key
    on (a, b), since the lookups are equalities on every column."""
    unit = load_unit(ctx.catalog)
    linted = set(ctx.linted())
    for fk in ctx.catalog.foreign_keys:
        name = unit(fk.table)
        table = ctx.catalog.table(fk.table)
        if name not in linted or table is None:
            continue
        if not any(ix.covers(fk) for ix in table.indexes):
            ctx.emit("PC402", f"{fk.table} foreign key {fk_text(fk)} has no index that starts with its columns",
                     ctx.where(name), fk.table,
                     hint=f"CREATE INDEX ON {fk.table} ({', '.join(map(ident, fk.columns))})",
                     subject=f"{fk.table}.{fk.name}")


@rule("PC403", "duplicate_index", "warn", "indexes of one table identical apart from the name",
      "drop all but one", stage="both", link=splinter("0009_duplicate_index"))
def duplicate_indexes(ctx: Context) -> None:
    """Two indexes of one table with the same definition apart from their name: each write maintains
    both, for nothing."""
    for name in ctx.linted():
        by_shape: dict[str, list[str]] = {}
        for ix in ctx.table(name).indexes:
            by_shape.setdefault(_shape(ix.definition, ix.name), []).append(ix.name)
        for names in by_shape.values():
            if len(names) > 1:
                ctx.emit("PC403", f"{name} has identical indexes: {', '.join(sorted(names))}", ctx.where(name), name,
                         hint=f"keep one: DROP INDEX {sorted(names)[-1]} (or drop the constraint that owns it)",
                         subject=f"{name}:{','.join(sorted(names))}")


def _shape(definition: str, name: str) -> str:
    """An index definition without its name: `CREATE INDEX ON public.t USING btree (a)`."""
    for prefix in ("CREATE UNIQUE INDEX ", "CREATE INDEX "):
        named = f"{prefix}{ident(name)} ON "
        if definition.startswith(named):
            return f"{prefix}ON {definition[len(named):]}"
    return definition


@rule("PC404", "no_primary_key", "warn", "a table without a primary key",
      "ALTER TABLE ... ADD PRIMARY KEY (an identity column, or the natural key)", stage="check",
      link=splinter("0004_no_primary_key"))
def no_primary_key(ctx: Context) -> None:
    """A table without a primary key: its rows cannot be addressed one by one, logical replication of its
    updates and deletes needs REPLICA IDENTITY FULL, and a second pass has nothing to match rows on."""
    for name in ctx.linted():
        table = ctx.table(name)
        if not table.is_partition and not any(c.kind == "primary key" for c in table.constraints):
            ctx.emit("PC404", f"{name} has no primary key", ctx.where(name), name,
                     hint=f"ALTER TABLE {name} ADD PRIMARY KEY (...)")
