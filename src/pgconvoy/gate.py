"""The pull-request gate: the checks a project implies, run on a live or scratch database (`check`),
and `build` = compile, run into a scratch database, check.

Checks of a project, in the order they run:
1. the rules of the registry that run at check (`rule:NAME`, one per rule, level from project.yml
   `lints:`), over the target's catalog and the manifests: expected rows, required indexes, RLS and
   policies as declared, and the lints (unindexed foreign keys, RLS without a policy, ...);
2. one FK-validity check per foreign key, self-references included (`foreign_key:`, `self_reference:`);
3. custom: `checks/*.sql` (a query returning failing rows) and the checks of `checks/*.yml`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from pgconvoy import catalog, checks, compiler, contracts, runner, scratch, selection
from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.checks import Check, CheckResult, Outcome
from pgconvoy.connect import connect
from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest import CheckSpec, LoadedProject
from pgconvoy.rules import Finding, parse_written, tables_named
from pgconvoy.rules.run import at_stage, evaluate, level

OnResult = Callable[[int, int, CheckResult], None]


def project_checks(loaded: LoadedProject, cat: Catalog, tables: frozenset[Name] | None = None,
                   catalogs: Sequence[Catalog] = ()) -> list[Check]:
    """The project's checks on `cat`; with `tables`, only those of these tables, judged as if the groups
    listed no others (`selection.restrict_project`; `catalogs` tell which table an index named alone is on)."""
    if tables is not None:
        loaded = selection.restrict_project(loaded, tables, cat, *catalogs)
    fk_checks = [c for c in checks.foreign_key_checks(cat) if tables is None or _in(c.table, tables)]
    found = [*rule_checks(loaded, cat, tables), *fk_checks]
    defaults = loaded.project.check_defaults
    found += checks.load_custom_checks(loaded.root / "checks", defaults.model_dump(), root=loaded.root)
    # checks/*.sql are the ones above (with their headers); the loader lists them too
    found += [replace(_yaml_check(c.spec, loaded, cat), file=c.file, line=c.line)
              for c in loaded.checks if not c.file.endswith(".sql")]
    return found


def _in(table: str | None, tables: frozenset[Name]) -> bool:
    return table is None or Name.parse(table) in tables


def rule_checks(loaded: LoadedProject, cat: Catalog, tables: frozenset[Name] | None = None) -> list[Check]:
    """One check per rule of the check stage, its findings on `cat` as the failing rows (with `tables`, only
    the findings about those tables)."""
    _, findings = evaluate(cat, loaded, "check")
    if tables is not None:
        findings = tuple(f for f in findings if _in(f.table, tables))
    out = []
    for rule in at_stage("check"):
        configured = level(rule, loaded)
        if configured == "off":
            continue
        mine = tuple(f for f in findings if f.code == rule.code)
        severity: checks.Severity = (
            "error" if configured == "error" or any(f.severity == "error" for f in mine) else "warn")
        out.append(Check(
            name=f"rule:{rule.name}", kind="rule", severity=severity, function=_outcome(mine),
            description=f"{rule.code} {rule.summary}", remediation=rule.fix, tags=("rule", rule.code),
        ))
    return out


def _outcome(findings: tuple[Finding, ...]) -> Callable[[psycopg.Connection[Any]], Outcome]:
    # the table a finding is about, else the object (a view, a function, an extension)
    rows = tuple({"object": f.table or f.subject or "", "detail": f.message, "file": f.file, "line": f.line,
                  "hint": f.hint} for f in findings)

    def outcome(conn: psycopg.Connection[Any]) -> Outcome:
        if not findings:
            return Outcome(0)
        shown = "; ".join(f.message for f in findings[:checks.SAMPLE_ROWS])  # where: in the rows
        more = f" (and {len(findings) - checks.SAMPLE_ROWS} more)" if len(findings) > checks.SAMPLE_ROWS else ""
        return Outcome(len(findings), shown + more, rows)

    return outcome


def _resolve(written: str, loaded: LoadedProject, cat: Catalog) -> Name:
    """A checks/*.yml table name as the catalog's table, read as the manifests' names are."""
    schema, name = parse_written(written)
    if schema is not None:
        return Name(schema, name)
    found = tables_named(cat, loaded.project.schemas, name)
    return found[0] if found else Name(loaded.project.schemas[0], name)


def _yaml_check(spec: CheckSpec, loaded: LoadedProject, cat: Catalog) -> Check:
    defaults = loaded.project.check_defaults
    severity = spec.severity or defaults.severity
    if spec.sql is not None:
        return Check(name=f"custom:{spec.name}", kind="custom", severity=severity, sql=spec.sql,
                     description=spec.description or "", plain_search_path=True, tags=("custom",),
                     error_if=spec.error_if or defaults.error_if or "!=0",
                     warn_if=spec.warn_if or defaults.warn_if or "!=0")
    params = dict(spec.params)
    table = _resolve(str(params.pop("table", "")), loaded, cat)
    makers: dict[str, Callable[..., Check]] = {
        "rows": checks.rows_check, "index": checks.index_check, "rls": checks.rls_check,
    }
    if spec.kind not in makers:
        raise PgConvoyError(f"check {spec.name!r}: unknown kind {spec.kind!r}", hint="kinds: rows, index, rls")
    try:
        return makers[spec.kind](table, **params, severity=severity)
    except TypeError as exc:
        raise PgConvoyError(f"check {spec.name!r}: {exc}") from None


def check_database(url: str, loaded: LoadedProject, *, select: Sequence[str] | None = None,
                   on_result: OnResult | None = None, tables: frozenset[Name] | None = None,
                   catalogs: Sequence[Catalog] = ()) -> list[CheckResult]:
    """Run the project's checks against the database at `url` (with `tables`, only theirs)."""
    with connect(url) as conn:
        # exact counts: the rows rule (PC301) judges the target's rows, not the planner's estimate
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas), rows="exact"))
        return checks.run_checks(conn, project_checks(loaded, cat, tables, catalogs), select=select,
                                 schemas=loaded.project.schemas, on_result=on_result)


@dataclass(frozen=True)
class ScratchOptions:
    kind: scratch.ScratchKind = "embedded"
    url: str | None = None
    image: str = scratch.DEFAULT_IMAGE


def compiled_selection(target_dir: Path) -> frozenset[Name] | None:
    """The tables a target/ compiled with --select / --exclude loads; None when it loads every table."""
    path = target_dir / compiler.MANIFEST_JSON
    if not path.exists():
        return None  # run says why
    doc = contracts.load(contracts.ManifestDoc, path)
    return None if doc.selection is None else frozenset(Name.parse(t) for t in doc.selection.tables)


def check_scratch(project_dir: Path, loaded: LoadedProject, options: ScratchOptions, *,
                  select: Sequence[str] | None = None, on_result: OnResult | None = None,
                  progress: Any = None, tables: frozenset[Name] | None = None) -> list[CheckResult]:
    """Load target/ into a scratch database made to look like the real target, then run the checks (of
    `tables` only, when given; of the tables it loads, when target/ was compiled from a selection)."""
    loads = compiled_selection(project_dir / loaded.project.target)
    if loads is not None:
        tables = loads if tables is None else tables & loads
    source = loaded.project.source
    if not source:
        raise PgConvoyError("project.yml has no source: the scratch database copies its external references")
    with scratch.scratch_database(options.kind, url=options.url, image=options.image) as target:
        with connect(source) as src:
            cat = catalog.introspect(src, catalog.Options(schemas=tuple(loaded.project.schemas), rows="none"))
            scratch.prepare(target, src, cat, declared=[r.name for r in loaded.project.roles])
        try:
            runner.run(target, project_dir / loaded.project.target, progress=progress)
        except runner.RunFailed as exc:  # the scratch database is thrown away: there is nothing to resume
            raise runner.RunFailed(f"target/ does not load into a scratch database: {exc.message}",
                                   hint="fix the cause in the source or the manifests, then compile and build "
                                   "again") from None
        return check_database(target, loaded, select=select, on_result=on_result, tables=tables, catalogs=[cat])


def build(project_dir: Path, options: ScratchOptions, *, select: Sequence[str] | None = None,
          on_result: OnResult | None = None, progress: Any = None,
          request: selection.Request | None = None) -> tuple[compiler.CompileResult, list[CheckResult]]:
    """compile, then run into a scratch database and check. No checks run when compile has errors, nor when
    `request` selects no table. With `request`, only the selected tables (and what they reference) are
    compiled and loaded, and the checks are those of the selected tables."""
    compiled = compiler.compile_project(project_dir, console=progress, select=request)
    if not compiled.ok or (compiled.selected is not None and not compiled.selected.tables):
        return compiled, []
    chosen = compiled.selected.requested if compiled.selected is not None else None
    return compiled, check_scratch(project_dir, compiled.project, options, select=select, on_result=on_result,
                                   progress=progress, tables=chosen)


