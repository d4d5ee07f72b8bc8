"""Reconciliation: what the manifests say against what the live catalog holds.

`reconcile(catalog, project)` is a pure function: it resolves the manifests' table names
(`rules.context`), runs every compile-time rule of the registry (`pgconvoy.rules`) and returns the
findings, plus the resolved `Layout` when no finding is an error. `project.yml` sets a rule's level by
code or name (`lints: {unindexed_foreign_key: error, PC503: off}`); `warn_error: true` makes warnings
errors. `pgconvoy rules` lists every rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.layout import Group, Layout
from pgconvoy.manifest import LoadedProject
from pgconvoy.rules import Context, Finding, by_key, ordered, tables_named
from pgconvoy.rules import judge as judge_raw
from pgconvoy.rules.context import matched_ignores
from pgconvoy.rules.run import evaluate

__all__ = ["Finding", "Result", "judge", "ordered", "reconcile", "table_lines", "tables_named", "unused_ignores"]


@dataclass(frozen=True, slots=True)
class Result:
    findings: tuple[Finding, ...]
    layout: Layout | None  # None when an error finding makes the manifests unusable
    excluded: frozenset[Name] = frozenset()  # tables project.yml excludes
    ignored: frozenset[str] = frozenset()  # the ignore: keys a finding matched (and was dropped by)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warn")


def reconcile(catalog: Catalog, project: LoadedProject, *, warn_error: bool | None = None) -> Result:
    """Run every compile-time rule; the layout is returned only when no finding is an error."""
    ctx, findings = evaluate(catalog, project, "compile", warn_error=warn_error)
    has_errors = any(f.severity == "error" for f in findings)
    return Result(findings, None if has_errors else _layout(ctx), frozenset(ctx.excluded),
                  frozenset(matched_ignores(ctx.raw, project)))


def judge(project: LoadedProject, raw: Iterable[tuple[str, str, Name | None, str | None, str | None]], *,
          warn_error: bool | None = None, where: dict[Name, tuple[str, int]] | None = None
          ) -> tuple[tuple[Finding, ...], set[str]]:
    """Findings of later steps (code, message, table, hint, subject), with the severities project.yml gives
    them, and the ignore: keys they matched; each points at the table's entry in its group when `where`
    knows it, else at project.yml."""
    located = []
    for code, message, table, hint, subject in raw:
        file, line = ((where or {}).get(table) if table is not None else None) or (project.file, 1)
        located.append((code, message, file, line, str(table) if table else None, hint, subject))
    judged = judge_raw(located, project, project.project.warn_error if warn_error is None else warn_error)
    return judged, matched_ignores(located, project)


def unused_ignores(project: LoadedProject, matched: Iterable[str], *, warn_error: bool | None = None
                   ) -> tuple[Finding, ...]:
    """PC002 for each ignore: entry no finding of the compile had (entries of check-only rules aside)."""
    used = set(matched)
    raw = []
    for i, entry in enumerate(project.project.ignore):
        rule = by_key(entry.key.partition(":")[0].strip())
        if entry.key in used or (rule is not None and rule.stage == "check"):
            continue
        what = "no finding of this compile has it" if rule is not None else "it names no rule"
        raw.append(("PC002", f"ignore: {entry.key!r} matches nothing: {what}",
                    project.file, project.lines.line("ignore", i), None, f"reason given: {entry.reason}", entry.key))
    return judge_raw(raw, project, project.project.warn_error if warn_error is None else warn_error)


def table_lines(project: LoadedProject, layout: Layout) -> dict[Name, tuple[str, int]]:
    """Where each table of the layout is listed: (group file, line)."""
    found: dict[Name, tuple[str, int]] = {}
    for group, loaded in zip(layout.groups, project.groups, strict=False):
        for index, name in enumerate(group.tables):
            found[name] = (loaded.file, loaded.lines.line("tables", index))
    return found


def _layout(ctx: Context) -> Layout:
    data = ctx.project.project.data
    # foreign_keys: after: no key is in place while rows load, so every row loads whole, in one pass; the
    # two-pass rules keep the plan loadable file by file (during), and the rules still ask for them
    one_pass = data.foreign_keys == "after"
    groups = []
    for group in ctx.project.groups:
        placements = sorted((p for p in ctx.placed.values() if p.group is group), key=lambda p: p.index)
        names = {p.index: n for n, p in ctx.placed.items() if p.group is group}
        groups.append(Group(
            number=group.number,
            name=group.name,
            tables=tuple(names[p.index] for p in placements),
            # a deferred table loads in one pass (its keys come after the data): its two_pass is moot (PC204)
            two_pass=tuple((names[p.index], tuple(p.spec.two_pass)) for p in placements
                           if p.spec.two_pass and not p.spec.deferred and not one_pass),
            deferred=tuple(names[p.index] for p in placements if p.spec.deferred),
            description=group.manifest.description,
        ))
    return Layout(tuple(groups), data.format, data.foreign_keys)
