"""The pull-request gate: the checks a project implies, run on a live or scratch database (`check`),
and `build` = compile, run into a scratch database, check.

Checks of a project, in the order they run:
1. from the manifests: expected rows with tolerance, required indexes, RLS enabled and expected
   policies (`rows:`, `index:`, `rls:`);
2. built in: the lints (`lint:`, severities from project.yml `lints:`) and one FK-validity check per
   foreign key, self-references included (`foreign_key:`);
3. custom: `checks/*.sql` (a query returning failing rows) and the checks of `checks/*.yml`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgconvoy import catalog, checks, compiler, reconcile, runner, scratch
from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.checks import Check, CheckResult
from pgconvoy.connect import connect
from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest import CheckSpec, LoadedProject

OnResult = Callable[[int, int, CheckResult], None]


def project_checks(loaded: LoadedProject, cat: Catalog) -> list[Check]:
    found = [*_manifest_checks(loaded, cat), *checks.builtin_checks(cat, loaded.project.lints)]
    defaults = loaded.project.check_defaults
    found += checks.load_custom_checks(loaded.root / "checks", defaults.model_dump())
    found += [_yaml_check(c.spec, loaded, cat) for c in loaded.checks]
    return found


def _manifest_checks(loaded: LoadedProject, cat: Catalog) -> list[Check]:
    out: list[Check] = []
    for group in loaded.groups:
        for written, spec in group.manifest.entries():
            if spec.rows is not None:
                out.append(checks.rows_check(_resolve(written, loaded, cat), spec.rows.expected, spec.rows.tolerance))
        for index in group.manifest.indexes:
            names = [written for written, _ in group.manifest.entries()]
            table = _resolve(index.table, loaded, cat) if index.table else _index_table(index.name or "", names, cat)
            out.append(checks.index_check(table, index=index.name, columns=index.columns or ()))
        for written, rls in group.manifest.rls.items():
            out.append(checks.rls_check(_resolve(written, loaded, cat), enabled=rls.enabled, policies=rls.policies))
    return out


def _resolve(written: str, loaded: LoadedProject, cat: Catalog) -> Name:
    """A manifest's table name as the catalog's table (compile has already rejected ambiguous names)."""
    if "." in written:
        return Name.parse(written)
    found = reconcile.tables_named(cat, loaded.project.schemas, written)
    return found[0] if found else Name(loaded.project.schemas[0], written)


def _index_table(index: str, tables: Sequence[str], cat: Catalog) -> Name:
    for t in cat.tables:
        if any(i.name == index for i in t.indexes):
            return t.qualified
    return Name.parse(tables[0]) if tables else Name("public", "?")


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
                   on_result: OnResult | None = None) -> list[CheckResult]:
    """Run the project's checks against the database at `url`."""
    with connect(url) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas), rows="none"))
        return checks.run_checks(conn, project_checks(loaded, cat), select=select,
                                 schemas=loaded.project.schemas, on_result=on_result)


@dataclass(frozen=True)
class ScratchOptions:
    kind: scratch.ScratchKind = "embedded"
    url: str | None = None
    image: str = scratch.DEFAULT_IMAGE


def check_scratch(project_dir: Path, loaded: LoadedProject, options: ScratchOptions, *,
                  select: Sequence[str] | None = None, on_result: OnResult | None = None,
                  progress: Any = None) -> list[CheckResult]:
    """Load target/ into a scratch database made to look like the real target, then run the checks."""
    source = loaded.project.source
    if not source:
        raise PgConvoyError("project.yml has no source: the scratch database copies its external references")
    with scratch.scratch_database(options.kind, url=options.url, image=options.image) as target:
        with connect(source) as src:
            cat = catalog.introspect(src, catalog.Options(schemas=tuple(loaded.project.schemas), rows="none"))
            scratch.prepare(target, src, cat)
        runner.run(target, project_dir / loaded.project.target, progress=progress)
        return check_database(target, loaded, select=select, on_result=on_result)


def build(project_dir: Path, options: ScratchOptions, *, select: Sequence[str] | None = None,
          on_result: OnResult | None = None, progress: Any = None) -> tuple[compiler.CompileResult,
                                                                           list[CheckResult]]:
    """compile, then run into a scratch database and check. No checks run when compile has errors."""
    compiled = compiler.compile_project(project_dir, console=progress)
    if not compiled.ok:
        return compiled, []
    return compiled, check_scratch(project_dir, compiled.project, options, select=select, on_result=on_result,
                                   progress=progress)


