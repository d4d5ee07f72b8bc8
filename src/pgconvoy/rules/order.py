"""Order: every table loads after the tables it references, or the reference is handled (two passes, a
DEFERRABLE constraint, a deferred table)."""

from __future__ import annotations

from pgconvoy.catalog.model import ForeignKey, Name
from pgconvoy.graph import load_unit
from pgconvoy.rules.context import Context, Placement
from pgconvoy.rules.registry import rule


def covered(fk: ForeignKey, placement: Placement, parent: Placement) -> bool:
    """Whether loading with this FK in place works anyway though its parent loads later: the table is
    deferred, its columns load in two passes, or the FK is DEFERRABLE and both tables are in one group (a
    group's rows load in one transaction, the key checked at its commit; a later group's rows come in a
    later transaction, too late)."""
    return (placement.spec.deferred or set(fk.columns) <= set(placement.spec.two_pass)
            or (fk.deferrable and parent.group is placement.group))


def fk_text(fk: ForeignKey) -> str:
    return f"{fk.name} ({', '.join(fk.columns)})"


@rule("PC201", "loads_before_reference", "error", "a table loaded before a table it references",
      "move one of them, or add two_pass / deferred: true",
      also=(("PC202", "self_reference_without_two_pass", "error", "a self-reference with no two-pass rule",
             "add two_pass: [columns], make the FK DEFERRABLE, or mark the table deferred: true"),
            ("PC203", "cycle_without_two_pass", "error", "a foreign-key cycle with no two-pass rule",
             "add two_pass on one edge, or make that FK DEFERRABLE"),
            ("PC108", "references_excluded_table", "warn", "a foreign key to an excluded table",
             "the target must already hold those rows, or include the table")))
def load_order(ctx: Context) -> None:
    """With its foreign keys in place while the rows load, a table must load after every table it
    references (PC201); a self-reference (PC202) or a cycle (PC203) needs one edge loaded as NULL then
    restored (two_pass), a DEFERRABLE constraint, or the table marked deferred. A reference to an
    excluded table (PC108) is only satisfied if the target already holds those rows."""
    unit = load_unit(ctx.catalog)
    for fk in ctx.catalog.foreign_keys:
        child, parent = unit(fk.table), unit(fk.ref_table)
        placement = ctx.placed.get(child)
        if placement is None:
            continue
        if parent in ctx.excluded:
            ctx.emit("PC108", f"{child} references {parent} via {fk_text(fk)}, which is excluded",
                     ctx.where(child), child, hint=f"the target database must already hold {parent}'s rows",
                     subject=f"{child}.{fk.name}")
            continue
        target = ctx.placed.get(parent)
        if target is None or target.position < placement.position or covered(fk, placement, target):
            continue
        two_pass = f"two_pass: [{', '.join(fk.columns)}]"
        if child == parent:
            ctx.emit("PC202", f"{child} references itself via {fk_text(fk)}", placement.at(), child,
                     hint=f"add {two_pass} to its entry, make the constraint DEFERRABLE, or mark it deferred: true",
                     subject=f"{child}.{fk.name}")
        elif _same_cycle(ctx, child, parent):
            cycle = ctx.graph.cycles[ctx.graph.nodes[child].cycle or 0]
            ctx.emit("PC203", f"{child} ({placement.group.label}) references {parent} ({target.group.label}) via "
                     f"{fk_text(fk)}, which loads later; they form a cycle: {' -> '.join(map(str, cycle))}",
                     placement.at(), child,
                     hint=f"add {two_pass} to {child.name}, or make {fk.name} DEFERRABLE", subject=f"{child}.{fk.name}")
        else:
            later = "later in the same group" if target.group is placement.group else "later"
            ctx.emit("PC201", f"{child} ({placement.group.label}) references {parent} ({target.group.label}) via "
                     f"{fk_text(fk)}, which loads {later}", placement.at(), child,
                     hint=f"move {parent.name} before {child.name} (an earlier group or entry), or add {two_pass}",
                     subject=f"{child}.{fk.name}")


def _same_cycle(ctx: Context, a: Name, b: Name) -> bool:
    ca, cb = ctx.graph.nodes[a].cycle, ctx.graph.nodes[b].cycle
    return ca is not None and ca == cb


@rule("PC204", "two_pass_not_needed", "warn", "a two_pass column that no forward reference needs",
      "remove it from two_pass",
      also=(("PC205", "two_pass_not_null", "error", "a two_pass column that is NOT NULL",
             "make the FK DEFERRABLE, or mark the table deferred: true (then no two_pass is needed)"),))
def two_pass_columns(ctx: Context) -> None:
    """A two_pass column loads as NULL and is restored by a second pass: it must be part of a foreign key
    that points forward (PC204), and nullable (PC205). On a deferred table no second pass runs (its keys
    are added after the data), so two_pass there is not needed either (PC204)."""
    unit = load_unit(ctx.catalog)
    fks_of: dict[Name, list[ForeignKey]] = {}
    for fk in ctx.catalog.foreign_keys:
        fks_of.setdefault(unit(fk.table), []).append(fk)
    for name, placement in ctx.placed.items():
        table = ctx.table(name)
        for i, column in enumerate(placement.spec.two_pass):
            col = table.column(column)
            if col is None:
                continue  # PC103
            where = placement.at("two_pass", i)
            if placement.spec.deferred:
                ctx.emit("PC204", f"{name}.{column} is in two_pass but {name} is deferred: its keys are added "
                         "after the data, which loads in one pass", where, name,
                         hint=f"remove {column} from two_pass (deferred: true is enough)", subject=f"{name}.{column}")
                continue
            fks = [fk for fk in fks_of.get(name, []) if column in fk.columns]
            forward = [fk for fk in fks if _loads_at_or_after(ctx, unit(fk.ref_table), placement)]
            if not fks:
                ctx.emit("PC204", f"{name}.{column} is in two_pass but is part of no foreign key", where, name,
                         hint=f"remove {column} from two_pass", subject=f"{name}.{column}")
            elif not forward:
                refs = ", ".join(sorted({str(unit(fk.ref_table)) for fk in fks}))
                ctx.emit("PC204", f"{name}.{column} is in two_pass but references {refs}, which loads earlier",
                         where, name, hint=f"remove {column} from two_pass", subject=f"{name}.{column}")
            if col.not_null:
                ctx.emit("PC205", f"{name}.{column} is in two_pass but NOT NULL: it cannot load as NULL first",
                         where, name, hint="mark the table deferred: true (its keys are added after the data), "
                         "or make the constraint DEFERRABLE", subject=f"{name}.{column}")


def _loads_at_or_after(ctx: Context, parent: Name, placement: Placement) -> bool:
    target = ctx.placed.get(parent)
    return target is not None and target.position >= placement.position
