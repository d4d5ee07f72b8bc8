"""Counts: the rows the manifests expect are the rows there are."""

from __future__ import annotations

from pgconvoy.manifest import LoadedGroup
from pgconvoy.rules.context import Context
from pgconvoy.rules.registry import rule


@rule("PC301", "row_count_out_of_tolerance", "error", "a table's rows outside its expected rows",
      "update rows:, or widen the tolerance", stage="both")
def row_counts(ctx: Context) -> None:
    """A table's exact row count is outside its `rows:` (expected ± tolerance). At compile on the source
    (the baseline moved), at check on the target (rows were lost or added)."""
    for name, placement in ctx.placed.items():
        rows, spec = ctx.table(name).rows, placement.spec.rows
        if rows is None or spec is None or spec.accepts(rows):
            continue
        tolerance = f" ± {spec.allowed()}" if spec.allowed() else ""
        ctx.emit("PC301", f"{name} has {rows} rows in the {ctx.side}, expected {spec.expected}{tolerance}",
                 placement.at("rows"), name, hint=f"update rows to {rows}, or widen the tolerance")


@rule("PC302", "expect_tables_mismatch", "error", "expect.tables differs from the group's number of tables",
      "fix expect.tables",
      also=(("PC303", "expect_rows_mismatch", "error", "expect.rows differs from the sum of the group's tables",
             "fix expect.rows or the tables' rows"),))
def expect_totals(ctx: Context) -> None:
    """A group's `expect:` totals (the numbers a migration report quotes) add up: the number of tables it
    lists (PC302), and the sum of their rows (PC303)."""
    for group in ctx.project.groups:
        expect = group.manifest.expect
        if expect is None:
            continue
        entries = group.manifest.entries()
        if expect.tables is not None and expect.tables != len(entries):
            ctx.emit("PC302", f"expect.tables is {expect.tables} but {group.label} lists {len(entries)} tables",
                     (group.file, group.lines.line("expect", "tables")), hint=f"set expect.tables to {len(entries)}")
        total = _group_rows(ctx, group)
        if expect.rows is not None and total is not None and expect.rows != total:
            ctx.emit("PC303", f"expect.rows is {expect.rows} but the tables of {group.label} add up to {total}",
                     (group.file, group.lines.line("expect", "rows")), hint=f"set expect.rows to {total}")


def _group_rows(ctx: Context, group: LoadedGroup) -> int | None:
    """Sum of the tables' expected rows (a table without `rows` counts its exact rows); None if unknown."""
    total = 0
    placements = {p.index: (n, p) for n, p in ctx.placed.items() if p.group is group}
    for index, (_, spec) in enumerate(group.manifest.entries()):
        if spec.rows is not None:
            total += spec.rows.expected
        elif index in placements and (rows := ctx.table(placements[index][0]).rows) is not None:
            total += rows
        else:
            return None
    return total
