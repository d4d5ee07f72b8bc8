"""Reconciliation: what the manifests say against what the live catalog holds.

`reconcile(catalog, project)` is a pure function: it resolves the manifests' table names, runs every
rule below and returns the findings, plus the resolved `Layout` when no finding is an error.
Each rule has a stable code and name; `project.yml` can change a rule's severity by either
(`lints: {unindexed_foreign_key: error, PC503: off}`), and `warn_error: true` makes warnings errors.

Rules (code, name, default severity; what it finds; the fix):

PC001  unknown_lint (error)
       A `lints:` key that is no rule code or name. Fix: use a code or name from this table.
PC101  table_not_in_group (error)
       A catalog table in no group and not excluded. Fix: add it to a group, or to `exclude:`.
PC102  unknown_table (error)
       A manifest table (tables, indexes, rls) not in the catalog. Fix: fix the name, or remove the entry.
PC103  unknown_column (error)
       A two_pass column the table does not have. Fix: fix the column name.
PC104  table_in_two_groups (error)
       A table listed twice (in two groups or one). Fix: keep one entry.
PC105  ambiguous_table_name (error)
       An unqualified name found in several schemas. Fix: write it as schema.name.
PC106  excluded_table_listed (error)
       A table both excluded and listed in a group. Fix: remove it from one of them.
PC107  partition_listed (error)
       A partition listed; its rows load through its root. Fix: list the partitioned root table.
PC108  references_excluded_table (warn)
       A foreign key to an excluded table. Fix: the target must already hold those rows, or include it.
PC201  loads_before_reference (error)
       A table loaded before a table it references. Fix: move one of them, or add two_pass / deferred.
PC202  self_reference_without_two_pass (error)
       A self-reference with no two-pass rule. Fix: add two_pass: [columns], or make the FK DEFERRABLE.
PC203  cycle_without_two_pass (error)
       A foreign-key cycle with no two-pass rule. Fix: add two_pass on one edge, or make that FK DEFERRABLE.
PC204  two_pass_not_needed (warn)
       A two_pass column that no forward reference needs. Fix: remove it from two_pass.
PC205  two_pass_not_null (error)
       A two_pass column that is NOT NULL, so it cannot load as NULL.
       Fix: make the FK DEFERRABLE, or mark the table deferred: true.
PC301  row_count_out_of_tolerance (error)
       A table's exact row count outside its expected rows. Fix: update rows, or widen the tolerance.
PC302  expect_tables_mismatch (error)
       `expect.tables` differs from the group's number of tables. Fix: fix expect.tables.
PC303  expect_rows_mismatch (error)
       `expect.rows` differs from the sum of the group's tables. Fix: fix expect.rows or the tables' rows.
PC401  required_index_missing (error)
       An index the manifest requires is not there. Fix: create it in the source, or fix the entry.
PC402  unindexed_foreign_key (warn)
       A foreign key whose columns lead no index (in order). Fix: create an index on those columns.
PC403  duplicate_index (warn)
       Indexes of one table identical apart from the name. Fix: drop all but one.
PC501  rls_mismatch (error)
       RLS enabled / forced not as the manifest says. Fix: ALTER TABLE ... ENABLE / FORCE ROW LEVEL SECURITY.
PC502  policy_missing (error)
       A policy the manifest expects is not there. Fix: create it, or fix the name.
PC503  rls_enabled_no_policy (warn)
       RLS enabled with no policy: only bypassing roles see rows. Fix: add a policy, or declare it on purpose.
PC504  multiple_permissive_policies (warn)
       Several permissive policies for one role and action. Fix: merge them into one policy with OR.
PC505  auth_rls_initplan (warn)
       A policy calling auth.uid() / auth.jwt() / auth.role() / current_setting() per row. Fix:
       wrap the call: (select auth.uid()).
PC601  object_not_migrated (error)
       An object of the source (or its comment, grants, row-level security) that no file of target/
       creates, with the reason. Fix: migrate it by hand, or lower the rule once you have.
PC602  excluded_objects (info)
       An excluded table: its own objects (indexes, triggers, policies...) are not migrated either.
       Fix: none needed; remove it from exclude: to migrate it.
PC603  database_settings_not_migrated (warn)
       Database-level settings, comment or grants (ALTER DATABASE ... SET). Fix: apply them by hand.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pgconvoy.catalog.model import Catalog, ForeignKey, Name, Policy, Table
from pgconvoy.graph import FkGraph, build, load_unit
from pgconvoy.layout import Group, Layout
from pgconvoy.manifest import LoadedGroup, LoadedProject, TableSpec
from pgconvoy.quote import ident

Severity = Literal["error", "warn", "info"]
SEVERITY_RANK = {"error": 0, "warn": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str


RULES: tuple[Rule, ...] = tuple(
    Rule(code, name, severity, summary)  # type: ignore[arg-type]
    for code, name, severity, summary in (
        ("PC001", "unknown_lint", "error", "a lints: key that is no rule code or name"),
        ("PC101", "table_not_in_group", "error", "a catalog table in no group and not excluded"),
        ("PC102", "unknown_table", "error", "a manifest table not in the catalog"),
        ("PC103", "unknown_column", "error", "a two_pass column the table does not have"),
        ("PC104", "table_in_two_groups", "error", "a table listed twice"),
        ("PC105", "ambiguous_table_name", "error", "an unqualified name found in several schemas"),
        ("PC106", "excluded_table_listed", "error", "a table both excluded and listed in a group"),
        ("PC107", "partition_listed", "error", "a partition listed instead of its root"),
        ("PC108", "references_excluded_table", "warn", "a foreign key to an excluded table"),
        ("PC201", "loads_before_reference", "error", "a table loaded before a table it references"),
        ("PC202", "self_reference_without_two_pass", "error", "a self-reference with no two-pass rule"),
        ("PC203", "cycle_without_two_pass", "error", "a foreign-key cycle with no two-pass rule"),
        ("PC204", "two_pass_not_needed", "warn", "a two_pass column that no forward reference needs"),
        ("PC205", "two_pass_not_null", "error", "a two_pass column that is NOT NULL"),
        ("PC301", "row_count_out_of_tolerance", "error", "a row count outside its expected rows"),
        ("PC302", "expect_tables_mismatch", "error", "expect.tables differs from the group's tables"),
        ("PC303", "expect_rows_mismatch", "error", "expect.rows differs from the sum of the group's tables"),
        ("PC401", "required_index_missing", "error", "a required index is not there"),
        ("PC402", "unindexed_foreign_key", "warn", "a foreign key without a covering index"),
        ("PC403", "duplicate_index", "warn", "indexes identical apart from the name"),
        ("PC501", "rls_mismatch", "error", "RLS enabled / forced not as the manifest says"),
        ("PC502", "policy_missing", "error", "an expected policy is not there"),
        ("PC503", "rls_enabled_no_policy", "warn", "RLS enabled with no policy"),
        ("PC504", "multiple_permissive_policies", "warn", "several permissive policies for one role and action"),
        ("PC505", "auth_rls_initplan", "warn", "an auth function or current_setting() called per row"),
        ("PC601", "object_not_migrated", "error", "an object of the source that no file creates"),
        ("PC602", "excluded_objects", "info", "the objects of an excluded table are not migrated"),
        ("PC603", "database_settings_not_migrated", "warn", "database-level settings are not migrated"),
    )
)
RULE_BY_KEY: dict[str, Rule] = {r.code: r for r in RULES} | {r.name: r for r in RULES}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    file: str
    line: int | None
    table: str | None = None
    hint: str | None = None

    @property
    def rule(self) -> str:
        return RULE_BY_KEY[self.code].name

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity} {self.code} {self.message}"


@dataclass(frozen=True, slots=True)
class Result:
    findings: tuple[Finding, ...]
    layout: Layout | None  # None when an error finding makes the manifests unusable
    excluded: frozenset[Name] = frozenset()  # tables project.yml excludes

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warn")


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a table sits in the manifests."""

    group: LoadedGroup
    index: int  # entry index in the group's tables
    written: str  # the name as the manifest writes it
    spec: TableSpec
    position: int  # load position over all groups

    @property
    def line(self) -> int:
        return self.group.lines.line("tables", self.index)

    def at(self, *path: str | int) -> tuple[str, int]:
        return self.group.file, self.group.lines.line("tables", self.index, self.written, *path)


@dataclass
class _Context:
    catalog: Catalog
    project: LoadedProject
    graph: FkGraph
    raw: list[_RawFinding] = field(default_factory=list)
    placed: dict[Name, Placement] = field(default_factory=dict)
    excluded: set[Name] = field(default_factory=set)
    index_schemas: dict[str, set[str]] | None = None  # index name -> schemas holding one, once needed

    def emit(self, code: str, message: str, where: tuple[str, int], table: Name | None = None,
             hint: str | None = None) -> None:
        self.raw.append((code, message, where[0], where[1], str(table) if table else None, hint))

    def where(self, table: Name) -> tuple[str, int]:
        """The table's entry in its group, else project.yml."""
        placement = self.placed.get(table)
        if placement is not None:
            return placement.group.file, placement.line
        return self.project.file, 1

    def resolve(self, written: str, where: tuple[str, int]) -> Name | None:
        """The catalog table a manifest name means; a finding and None when there is none or several."""
        if "." in written:
            name = Name.parse(written)
            if self.catalog.table(name) is None:
                self.emit("PC102", f"{name}: no such table in the source", where, name,
                          hint="check the spelling and project.yml schemas:")
                return None
            return name
        found = tables_named(self.catalog, self.project.project.schemas, written)
        if len(found) > 1:
            self.emit("PC105", f"{written}: ambiguous, it exists in {', '.join(str(n) for n in found)}", where,
                      hint=f"write it qualified, e.g. {found[0]}")
            return None
        if not found:
            schemas = ", ".join(self.project.project.schemas)
            self.emit("PC102", f"{written}: no such table in schemas {schemas}", where,
                      hint="check the spelling and project.yml schemas:")
            return None
        return found[0]


def tables_named(catalog: Catalog, schemas: Iterable[str], written: str) -> list[Name]:
    """The catalog tables an unqualified manifest name can mean, one per schema of the project."""
    return [Name(s, written) for s in schemas if catalog.table(Name(s, written)) is not None]


def reconcile(catalog: Catalog, project: LoadedProject, *, warn_error: bool | None = None) -> Result:
    """Run every rule; the layout is returned only when no finding is an error."""
    ctx = _Context(catalog, project, build(catalog))
    ctx.excluded = _excluded(catalog, project)
    _place_tables(ctx)
    for rule in _RULE_FUNCTIONS:
        rule(ctx)
    findings = _apply_lints(ctx, project.project.warn_error if warn_error is None else warn_error)
    has_errors = any(f.severity == "error" for f in findings)
    return Result(findings, None if has_errors else _layout(ctx), frozenset(ctx.excluded))


def judge(project: LoadedProject, raw: Iterable[tuple[str, str, Name | None, str | None]], *,
          warn_error: bool | None = None, where: dict[Name, tuple[str, int]] | None = None) -> tuple[Finding, ...]:
    """Findings of later steps (code, message, table, hint), with the severities project.yml gives them;
    each points at the table's entry in its group when `where` knows it, else at project.yml."""
    located = []
    for code, message, table, hint in raw:
        file, line = ((where or {}).get(table) if table is not None else None) or (project.file, 1)
        located.append((code, message, file, line, str(table) if table else None, hint))
    return _judged(located, project, project.project.warn_error if warn_error is None else warn_error)


def table_lines(project: LoadedProject, layout: Layout) -> dict[Name, tuple[str, int]]:
    """Where each table of the layout is listed: (group file, line)."""
    found: dict[Name, tuple[str, int]] = {}
    for group, loaded in zip(layout.groups, project.groups, strict=False):
        for index, name in enumerate(group.tables):
            found[name] = (loaded.file, loaded.lines.line("tables", index))
    return found


def _layout(ctx: _Context) -> Layout:
    groups = []
    for group in ctx.project.groups:
        placements = sorted((p for p in ctx.placed.values() if p.group is group), key=lambda p: p.index)
        names = {p.index: n for n, p in ctx.placed.items() if p.group is group}
        groups.append(Group(
            number=group.number,
            name=group.name,
            tables=tuple(names[p.index] for p in placements),
            two_pass=tuple((names[p.index], tuple(p.spec.two_pass)) for p in placements if p.spec.two_pass),
            deferred=tuple(names[p.index] for p in placements if p.spec.deferred),
            description=group.manifest.description,
        ))
    data = ctx.project.project.data
    return Layout(tuple(groups), data.format, data.foreign_keys)


def _apply_lints(ctx: _Context, warn_error: bool) -> tuple[Finding, ...]:
    lints = ctx.project.project.lints
    for key in lints:
        if key not in RULE_BY_KEY:
            ctx.emit("PC001", f"lints: {key!r} is no rule code or name", (ctx.project.file,
                     ctx.project.lines.line("lints", key)), hint="see the rule table: codes PC001..PC603")
    return _judged(ctx.raw, ctx.project, warn_error)


_RawFinding = tuple[str, str, str, int, str | None, str | None]


def _judged(raw: Iterable[_RawFinding], project: LoadedProject, warn_error: bool) -> tuple[Finding, ...]:
    lints = project.project.lints
    findings = []
    for code, message, file, line, table, hint in raw:
        rule = RULE_BY_KEY[code]
        level = lints.get(rule.code, lints.get(rule.name, rule.severity))
        if level == "off":
            continue
        severity: Severity = "error" if level == "warn" and warn_error else level
        findings.append(Finding(code, severity, message, file, line, table, hint))
    return ordered(findings)


def ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings as they are shown: by file, line, code."""
    return tuple(sorted(findings, key=lambda f: (f.file, f.line or 0, f.code, f.message)))


# --- names and coverage ---------------------------------------------------------------------------


def _excluded(catalog: Catalog, project: LoadedProject) -> set[Name]:
    patterns = [p if "." in p else f"{s}.{p}" for p in project.project.exclude
                for s in ([None] if "." in p else project.project.schemas)]
    return {t.qualified for t in catalog.tables if any(fnmatch.fnmatchcase(str(t.qualified), p) for p in patterns)}


def _place_tables(ctx: _Context) -> None:
    """Resolve every table entry (PC102, PC104, PC105, PC106, PC107) and record where it loads."""
    position = 0
    for group in ctx.project.groups:
        for index, (written, spec) in enumerate(group.manifest.entries()):
            where = (group.file, group.lines.line("tables", index))
            name = ctx.resolve(written, where)
            if name is None:
                continue
            table = ctx.catalog.table(name)
            if table is not None and table.partition_of is not None:
                ctx.emit("PC107", f"{name} is a partition of {table.partition_of}; its rows load through the "
                         "partitioned table", where, name, hint=f"list {load_unit(ctx.catalog)(name)} instead")
                continue
            if name in ctx.excluded:
                ctx.emit("PC106", f"{name} is listed here but excluded in project.yml", where, name,
                         hint="remove it from the group or from exclude:")
                continue
            if (first := ctx.placed.get(name)) is not None:
                ctx.emit("PC104", f"{name} is already listed in {first.group.file}:{first.line}", where, name,
                         hint="a table loads once: keep one entry")
                continue
            ctx.placed[name] = Placement(group, index, written, spec, position)
            position += 1


def rule_table_not_in_group(ctx: _Context) -> None:
    """PC101: every loadable table of the project's schemas is in a group or excluded."""
    schemas = set(ctx.project.project.schemas)
    lines = ctx.project.lines
    where = (ctx.project.file, lines.by_path.get(("exclude",)) or lines.line("schemas"))
    for name in ctx.graph.order:
        if name.schema in schemas and name not in ctx.placed and name not in ctx.excluded:
            ctx.emit("PC101", f"{name} is in no group and not excluded", where, name,
                     hint=f"add {name.name if _unique_name(ctx, name) else name} to a group's tables, "
                     "or to exclude: in project.yml")


def _unique_name(ctx: _Context, name: Name) -> bool:
    return sum(ctx.catalog.table(Name(s, name.name)) is not None for s in ctx.project.project.schemas) == 1


def rule_unknown_column(ctx: _Context) -> None:
    """PC103: two_pass columns exist."""
    for name, placement in ctx.placed.items():
        table = _table(ctx, name)
        for i, column in enumerate(placement.spec.two_pass):
            if table.column(column) is None:
                ctx.emit("PC103", f"{name} has no column {column!r}", placement.at("two_pass", i), name,
                         hint=f"columns: {', '.join(c.name for c in table.columns)}")


def _table(ctx: _Context, name: Name) -> Table:
    table = ctx.catalog.table(name)
    assert table is not None, name  # placed names are resolved against the catalog
    return table


# --- order ----------------------------------------------------------------------------------------


def _covered(fk: ForeignKey, placement: Placement) -> bool:
    """Whether loading with this FK in place works anyway: DEFERRABLE, deferred table, or two passes."""
    return fk.deferrable or placement.spec.deferred or set(fk.columns) <= set(placement.spec.two_pass)


def _fk_text(fk: ForeignKey) -> str:
    return f"{fk.name} ({', '.join(fk.columns)})"


def rule_load_order(ctx: _Context) -> None:
    """PC201, PC202, PC203, PC108: every referenced table loads first, or the reference is handled."""
    unit = load_unit(ctx.catalog)
    for fk in ctx.catalog.foreign_keys:
        child, parent = unit(fk.table), unit(fk.ref_table)
        placement = ctx.placed.get(child)
        if placement is None:
            continue
        if parent in ctx.excluded:
            ctx.emit("PC108", f"{child} references {parent} via {_fk_text(fk)}, which is excluded",
                     ctx.where(child), child, hint=f"the target database must already hold {parent}'s rows")
            continue
        target = ctx.placed.get(parent)
        if target is None or target.position < placement.position or _covered(fk, placement):
            continue
        two_pass = f"two_pass: [{', '.join(fk.columns)}]"
        if child == parent:
            ctx.emit("PC202", f"{child} references itself via {_fk_text(fk)}", placement.at(), child,
                     hint=f"add {two_pass} to its entry, make the constraint DEFERRABLE, or mark it deferred: true")
        elif _same_cycle(ctx, child, parent):
            cycle = ctx.graph.cycles[ctx.graph.nodes[child].cycle or 0]
            ctx.emit("PC203", f"{child} ({placement.group.label}) references {parent} ({target.group.label}) via "
                     f"{_fk_text(fk)}, which loads later; they form a cycle: {' -> '.join(map(str, cycle))}",
                     placement.at(), child,
                     hint=f"add {two_pass} to {child.name}, or make {fk.name} DEFERRABLE")
        else:
            later = "later in the same group" if target.group is placement.group else "later"
            ctx.emit("PC201", f"{child} ({placement.group.label}) references {parent} ({target.group.label}) via "
                     f"{_fk_text(fk)}, which loads {later}", placement.at(), child,
                     hint=f"move {parent.name} before {child.name} (an earlier group or entry), or add {two_pass}")


def _same_cycle(ctx: _Context, a: Name, b: Name) -> bool:
    ca, cb = ctx.graph.nodes[a].cycle, ctx.graph.nodes[b].cycle
    return ca is not None and ca == cb


def rule_two_pass_columns(ctx: _Context) -> None:
    """PC204, PC205: two-pass columns are needed, and nullable."""
    unit = load_unit(ctx.catalog)
    fks_of: dict[Name, list[ForeignKey]] = {}
    for fk in ctx.catalog.foreign_keys:
        fks_of.setdefault(unit(fk.table), []).append(fk)
    for name, placement in ctx.placed.items():
        table = _table(ctx, name)
        for i, column in enumerate(placement.spec.two_pass):
            col = table.column(column)
            if col is None:
                continue  # PC103
            where = placement.at("two_pass", i)
            fks = [fk for fk in fks_of.get(name, []) if column in fk.columns]
            forward = [fk for fk in fks if _loads_at_or_after(ctx, unit(fk.ref_table), placement)]
            if not fks:
                ctx.emit("PC204", f"{name}.{column} is in two_pass but is part of no foreign key", where, name,
                         hint=f"remove {column} from two_pass")
            elif not forward:
                refs = ", ".join(sorted({str(unit(fk.ref_table)) for fk in fks}))
                ctx.emit("PC204", f"{name}.{column} is in two_pass but references {refs}, which loads earlier",
                         where, name, hint=f"remove {column} from two_pass")
            if col.not_null and not placement.spec.deferred:
                ctx.emit("PC205", f"{name}.{column} is in two_pass but NOT NULL: it cannot load as NULL first",
                         where, name, hint="make the constraint DEFERRABLE, or mark the table deferred: true")


def _loads_at_or_after(ctx: _Context, parent: Name, placement: Placement) -> bool:
    target = ctx.placed.get(parent)
    return target is not None and target.position >= placement.position


# --- row counts -----------------------------------------------------------------------------------


def rule_row_counts(ctx: _Context) -> None:
    """PC301: exact row counts within each table's expected rows."""
    for name, placement in ctx.placed.items():
        rows, spec = _table(ctx, name).rows, placement.spec.rows
        if rows is None or spec is None or spec.accepts(rows):
            continue
        tolerance = f" ± {spec.allowed()}" if spec.allowed() else ""
        ctx.emit("PC301", f"{name} has {rows} rows, expected {spec.expected}{tolerance}",
                 placement.at("rows"), name, hint=f"update rows to {rows}, or widen the tolerance")


def rule_expect_totals(ctx: _Context) -> None:
    """PC302, PC303: a group's expect totals match its tables."""
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


def _group_rows(ctx: _Context, group: LoadedGroup) -> int | None:
    """Sum of the tables' expected rows (a table without `rows` counts its exact rows); None if unknown."""
    total = 0
    placements = {p.index: (n, p) for n, p in ctx.placed.items() if p.group is group}
    for index, (_, spec) in enumerate(group.manifest.entries()):
        if spec.rows is not None:
            total += spec.rows.expected
        elif index in placements and (rows := _table(ctx, placements[index][0]).rows) is not None:
            total += rows
        else:
            return None
    return total


# --- indexes --------------------------------------------------------------------------------------


def rule_required_indexes(ctx: _Context) -> None:
    """PC401 (and PC102 for the table of an index entry): required indexes exist."""
    for group in ctx.project.groups:
        for i, spec in enumerate(group.manifest.indexes):
            where = (group.file, group.lines.line("indexes", i))
            if spec.table is not None:
                name = ctx.resolve(spec.table, where)
                if name is None:
                    continue
                columns = tuple(spec.columns or ())
                indexes = _table(ctx, name).indexes
                ok = [ix for ix in indexes if ix.columns[: len(columns)] == columns
                      and (spec.name is None or ix.name == spec.name)]
                if not ok:
                    ctx.emit("PC401", f"no index on {name} ({', '.join(columns)})"
                             + (f" named {spec.name}" if spec.name else ""), where, name,
                             hint=f"CREATE INDEX ON {name} ({', '.join(map(ident, columns))})")
            elif spec.name is not None and not _index_named(ctx, spec.name):
                ctx.emit("PC401", f"no index named {spec.name}", where,
                         hint="create it in the source, or fix the name (schema.name when ambiguous)")


def _index_named(ctx: _Context, written: str) -> bool:
    schema, _, name = written.rpartition(".")
    if ctx.index_schemas is None:  # built once: init writes an entry per foreign key's index
        ctx.index_schemas = {}
        for t in ctx.catalog.tables:
            for ix in t.indexes:
                ctx.index_schemas.setdefault(ix.name, set()).add(t.schema)
    found = ctx.index_schemas.get(name, set())
    return bool(found) and (not schema or schema in found)


def rule_unindexed_foreign_keys(ctx: _Context) -> None:
    """PC402: every foreign key's columns lead some index of its table, in the constraint's order."""
    unit = load_unit(ctx.catalog)
    for fk in ctx.catalog.foreign_keys:
        name = unit(fk.table)
        table = ctx.catalog.table(fk.table)
        if name not in ctx.placed or table is None:
            continue
        if not any(ix.covers(fk) for ix in table.indexes):
            ctx.emit("PC402", f"{fk.table} foreign key {_fk_text(fk)} has no index that starts with its columns",
                     ctx.where(name), fk.table,
                     hint=f"CREATE INDEX ON {fk.table} ({', '.join(map(ident, fk.columns))})")


def rule_duplicate_indexes(ctx: _Context) -> None:
    """PC403: no two indexes of a table with the same definition apart from the name."""
    for name in ctx.placed:
        by_shape: dict[str, list[str]] = {}
        for ix in _table(ctx, name).indexes:
            by_shape.setdefault(_shape(ix.definition, ix.name), []).append(ix.name)
        for names in by_shape.values():
            if len(names) > 1:
                ctx.emit("PC403", f"{name} has identical indexes: {', '.join(sorted(names))}", ctx.where(name), name,
                         hint=f"keep one: DROP INDEX {sorted(names)[-1]} (or drop the constraint that owns it)")


def _shape(definition: str, name: str) -> str:
    """An index definition without its name: `CREATE INDEX ON public.t USING btree (a)`."""
    for prefix in ("CREATE UNIQUE INDEX ", "CREATE INDEX "):
        named = f"{prefix}{ident(name)} ON "
        if definition.startswith(named):
            return f"{prefix}ON {definition[len(named):]}"
    return definition


# --- row-level security ---------------------------------------------------------------------------


def rule_rls_expectations(ctx: _Context) -> None:
    """PC501, PC502 (and PC102): the manifest's rls entries hold."""
    for group in ctx.project.groups:
        for written, spec in group.manifest.rls.items():
            where = (group.file, group.lines.line("rls", written))
            name = ctx.resolve(written, where)
            if name is None:
                continue
            table = _table(ctx, name)
            if spec.enabled != table.rls_enabled:
                state = "disabled" if spec.enabled else "enabled"
                ctx.emit("PC501", f"{name} has row level security {state}, the manifest says "
                         f"enabled: {str(spec.enabled).lower()}", where, name,
                         hint=f"ALTER TABLE {name} {'ENABLE' if spec.enabled else 'DISABLE'} ROW LEVEL SECURITY")
            if spec.forced is not None and spec.forced != table.rls_forced:
                ctx.emit("PC501", f"{name} has row level security {'not ' if spec.forced else ''}forced, the "
                         f"manifest says forced: {str(spec.forced).lower()}", where, name,
                         hint=f"ALTER TABLE {name} {'' if spec.forced else 'NO '}FORCE ROW LEVEL SECURITY")
            present = {p.name for p in table.policies}
            for i, policy in enumerate(spec.policies):
                if policy not in present:
                    ctx.emit("PC502", f"{name} has no policy {policy!r}",
                             (group.file, group.lines.line("rls", written, "policies", i)), name,
                             hint=f"policies on {name}: {', '.join(sorted(present)) or 'none'}")


def _rls_where(ctx: _Context, name: Name, policy: str | None = None) -> tuple[str, int]:
    """The rls entry of a table (or the line of one of its policies), else its table entry."""
    placement = ctx.placed.get(name)
    if placement is None:
        return ctx.project.file, 1
    for group in ctx.project.groups:
        for written, spec in group.manifest.rls.items():
            if written in (name.name, str(name)):
                if policy in spec.policies:
                    return group.file, group.lines.line("rls", written, "policies", spec.policies.index(policy))
                return group.file, group.lines.line("rls", written)
    return ctx.where(name)


def rule_rls_enabled_no_policy(ctx: _Context) -> None:
    """PC503: RLS enabled on a table with no policy."""
    for name in ctx.placed:
        table = _table(ctx, name)
        if table.rls_enabled and not table.policies:
            ctx.emit("PC503", f"{name} has row level security enabled and no policy: only roles that bypass RLS "
                     "see its rows", _rls_where(ctx, name), name,
                     hint="add a policy; if only roles that bypass RLS should read it, turn the rule off in lints:")


ACTIONS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def rule_multiple_permissive_policies(ctx: _Context) -> None:
    """PC504: one permissive policy per role and action (ALL counts for every action, public for every role)."""
    for name in ctx.placed:
        policies = [p for p in _table(ctx, name).policies if p.permissive]
        overlaps: dict[tuple[str, ...], list[str]] = {}
        roles = sorted({r for p in policies for r in p.roles})
        for role in roles:
            for action in ACTIONS:
                applying = tuple(sorted(p.name for p in policies if _applies(p, role, action)))
                if len(applying) > 1:
                    overlaps.setdefault(applying, []).append(f"{role} {action}")
        for names, uses in overlaps.items():
            ctx.emit("PC504", f"{name} has {len(names)} permissive policies for {', '.join(uses)}: "
                     f"{', '.join(repr(n) for n in names)}", _rls_where(ctx, name), name,
                     hint="each one runs for every row: merge them into one policy with OR")


def _applies(policy: Policy, role: str, action: str) -> bool:
    return (role in policy.roles or "public" in policy.roles) and policy.command in (action, "ALL")


_PER_ROW_CALL = re.compile(r"\bauth\.(uid|jwt|role)\(\)|\bcurrent_setting\(")


def per_row_calls(expression: str) -> list[str]:
    """Calls in a policy expression (as pg_get_expr prints it) not wrapped as `( SELECT call AS x)`.

    A call counts as wrapped when the innermost parenthesis around it opens a SELECT that has no FROM:
    PostgreSQL then runs it once per statement (an initPlan) instead of once per row."""
    found = []
    for match in _PER_ROW_CALL.finditer(expression):
        if not _wrapped(expression, match.start()):
            found.append(match.group(0) + ("" if match.group(0).endswith("()") else "...)"))
    return found


def _wrapped(text: str, position: int) -> bool:
    opens: list[int] = []
    quoted = False
    for i, char in enumerate(text[:position]):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            opens.append(i)
        elif not quoted and char == ")" and opens:
            opens.pop()
    for start in reversed(opens):
        body = text[start + 1:].lstrip()
        if body.upper().startswith("SELECT"):
            return not re.search(r"\bFROM\b", _own_level(text, start))
    return False


def _own_level(text: str, start: int) -> str:
    """The text of the parenthesised group opening at `start`, without nested groups."""
    depth, kept = 0, []
    for char in text[start:]:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            kept.append(char)
    return "".join(kept)


def rule_auth_rls_initplan(ctx: _Context) -> None:
    """PC505: auth.uid() and friends evaluated per row in a policy."""
    for name in ctx.placed:
        for policy in _table(ctx, name).policies:
            calls = sorted({c for expr in (policy.using, policy.with_check) if expr for c in per_row_calls(expr)})
            if calls:
                ctx.emit("PC505", f"policy {policy.name!r} on {name} calls {', '.join(calls)} for every row",
                         _rls_where(ctx, name, policy.name), name,
                         hint=f"wrap it in a scalar subquery so it runs once: (select {calls[0]})")


_RULE_FUNCTIONS = (
    rule_table_not_in_group,
    rule_unknown_column,
    rule_load_order,
    rule_two_pass_columns,
    rule_row_counts,
    rule_expect_totals,
    rule_required_indexes,
    rule_unindexed_foreign_keys,
    rule_duplicate_indexes,
    rule_rls_expectations,
    rule_rls_enabled_no_policy,
    rule_multiple_permissive_policies,
    rule_auth_rls_initplan,
)
