"""`pgconvoy compile`: load the project; in one locked snapshot of the source read its catalog,
reconcile it with the manifests, take pg_dump's schema archive, place and account for every entry,
and export the rows; then render `target/`.

Nothing is rendered when a finding is an error. The new `target/` is written beside the old one and
swapped in at the end, so a compile that fails half-way leaves the previous output as it was.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from pgconvoy import accounting, catalog, data, graph, manifest, placement, reconcile, render, snapshot
from pgconvoy.archive import Archive, DumpOptions, merge, start
from pgconvoy.artifacts import file_entries, manifest_json, migration_order_md
from pgconvoy.catalog.model import Name
from pgconvoy.catalog.objects import PG_LARGEOBJECT, read_objects
from pgconvoy.connect import connect, describe, resolve
from pgconvoy.errors import PgConvoyError
from pgconvoy.layout import Layout
from pgconvoy.platform import PLATFORM_OBJECTS, PLATFORM_ROLES

MANIFEST_JSON = "manifest.json"
MIGRATION_ORDER = "MIGRATION_ORDER.md"


@dataclass(frozen=True)
class CompileResult:
    project: manifest.LoadedProject
    findings: tuple[reconcile.Finding, ...]
    target: Path
    files: tuple[str, ...]  # written, relative to target; empty when errors stopped the render

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def compile_project(
    project_dir: Path, *, source: str | None = None, warn_error: bool | None = None, console: Console | None = None
) -> CompileResult:
    loaded = manifest.load_project(project_dir)
    url = source or loaded.project.source
    if not url:
        raise PgConvoyError(f"{loaded.file}: no source database",
                            hint="set source: in project.yml, PGCONVOY_SOURCE, or pass --source")
    target = project_dir / loaded.project.target
    options = catalog.Options(schemas=tuple(loaded.project.schemas))
    with connect(url) as conn:
        covered = catalog.scope(conn, options)
        with snapshot.locked(conn, covered.tables) as snapshot_id, \
                _archive(resolve(url), covered, snapshot_id) as dumped:
            cat = catalog.read(conn, options)
            if sorted(t.qualified for t in cat.tables) != sorted(covered.tables):
                raise PgConvoyError("tables were created or dropped on the source while compile started",
                                    hint="run compile again")
            result = reconcile.reconcile(cat, loaded, warn_error=warn_error)
            if result.layout is None or result.errors:
                return CompileResult(loaded, result.findings, target, ())
            schema = schema_side(conn, dumped(), cat, result.layout, excluded=result.excluded,
                                 owners=loaded.project.owners == "keep", platform_schemas=covered.platform_schemas)
            judged = reconcile.judge(loaded, [(r.code, r.message, r.table, r.hint) for r in schema.findings],
                                     warn_error=warn_error, where=reconcile.table_lines(loaded, result.layout))
            findings = reconcile.ordered((*result.findings, *judged))
            if any(f.severity == "error" for f in judged):
                return CompileResult(loaded, findings, target, ())
            staging = Path(tempfile.mkdtemp(prefix=".target-", dir=project_dir))
            try:
                for name, text in schema.files.items():
                    (staging / name).write_text(text, encoding="utf-8")
                data_files = data.write_data(conn, cat, result.layout, staging, progress=console,
                                             large_objects=schema.large_objects, counted=True)
                g = graph.build(cat)
                files = file_entries(staging, result.layout, data_files)
                _write_json(staging / MANIFEST_JSON,
                            manifest_json(cat, g, loaded, result.layout, findings, files, data_files, describe(url),
                                          schema.placement))
                (staging / MIGRATION_ORDER).write_text(
                    migration_order_md(cat, g, loaded, result.layout, findings, files, data_files),
                    encoding="utf-8")
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    _swap(staging, target)
    return CompileResult(loaded, findings, target, tuple(sorted(_relative(target))))


@dataclass(frozen=True)
class SchemaSide:
    placement: placement.Placement
    files: dict[str, str]  # file name -> SQL
    findings: tuple[accounting.Raw, ...]  # what the accounting found, severity not judged yet
    large_objects: tuple[int, ...]  # oids whose contents the data side appends


@contextmanager
def _archive(conninfo: str, covered: catalog.Scope, snapshot_id: str) -> Iterator[Callable[[], Archive]]:
    """pg_dump in the compile's snapshot, running while the catalog is read; yields the call that waits
    for its archive (with the large objects' metadata when the source has any)."""
    dumps = [start(conninfo, DumpOptions(snapshot=snapshot_id or None, exclude_schemas=covered.excluded_schemas))]
    if covered.large_objects:
        dumps.append(start(conninfo, DumpOptions(snapshot=snapshot_id or None, large_objects_only=True)))
    if covered.attachments:  # the platform's tables, for what the application attached to them
        dumps.append(start(conninfo, DumpOptions(snapshot=snapshot_id or None, tables=covered.attachments)))
    try:
        yield lambda: functools.reduce(merge, (d.result() for d in dumps))
    finally:
        for pending in dumps:
            pending.cancel()


def take_archive(conninfo: str, covered: catalog.Scope) -> Archive:
    """The archive `schema_side` places, dumped now (outside a compile's snapshot: tests, benchmarks)."""
    with _archive(conninfo, covered, "") as dumped:
        return dumped()


def schema_side(conn: psycopg.Connection[Any], archive: Archive, cat: catalog.Catalog, layout: Layout, *,
                excluded: frozenset[Name] = frozenset(), owners: bool = False,
                platform_schemas: tuple[str, ...] = ()) -> SchemaSide:
    """pg_dump's archive placed into files and accounted for; `conn` must see the archive's snapshot (it
    reads the objects to account for)."""
    objects = read_objects(conn, [s.name for s in cat.schemas], list(platform_schemas))
    large_objects = tuple(sorted(oid for classid, oid in objects if classid == PG_LARGEOBJECT))
    placed = placement.place(archive, objects, cat, layout,
                             placement.Options(excluded=excluded, platform_roles=PLATFORM_ROLES,
                                               platform_objects=PLATFORM_OBJECTS,
                                               platform_schemas=frozenset(platform_schemas)))
    findings = tuple(accounting.account(objects, archive, placed, excluded))
    files = render.render_schema(placed, cat, layout, render.Options(owners=owners))
    return SchemaSide(placed, files, findings, large_objects)


def _relative(directory: Path) -> list[str]:
    return [p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # One object per line would be the pure-Python encoder; compact is the C one, ten times faster on a
    # large manifest (as dbt writes its artifacts). `python -m json.tool` shows it indented.
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def _swap(staging: Path, target: Path) -> None:
    """Replace `target` by `staging`; the old output is removed only once the new one is complete."""
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)
    target.chmod(0o755)
