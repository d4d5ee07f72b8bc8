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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console

from pgconvoy import (
    accounting,
    catalog,
    contracts,
    data,
    graph,
    manifest,
    placement,
    platformdata,
    quote,
    reconcile,
    render,
    requirements,
    roles,
    selection,
    snapshot,
)
from pgconvoy.archive import Archive, DumpFailed, DumpOptions, merge, start
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
    selected: selection.Selection | None = None  # what a compile with --select / --exclude chose

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def compile_project(
    project_dir: Path, *, source: str | None = None, warn_error: bool | None = None, console: Console | None = None,
    select: selection.Request | None = None,
) -> CompileResult:
    """Compile the project; with `select`, only the selected tables and what they need (an empty selection
    renders nothing and leaves target/ as it was)."""
    loaded = manifest.load_project(project_dir)
    url = source or loaded.project.source
    if not url:
        raise PgConvoyError(f"{loaded.file}: no source database",
                            hint="set source: in project.yml, PGCONVOY_SOURCE, or pass --source")
    target = target_dir(project_dir, loaded.project.target, loaded.file)
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            outcome = _compile(loaded, url, target, warn_error, console, select)
            break
        except DumpFailed as exc:
            if not exc.lock_queue or attempt == LOCK_ATTEMPTS:
                raise
            if console is not None:
                console.print("note: another session is waiting for an exclusive lock on a table being "
                              "exported; it goes first, compile reads the source again", highlight=False)
    if isinstance(outcome, CompileResult):
        return outcome
    staging, findings, selected = outcome
    _swap(staging, target)
    return CompileResult(loaded, findings, target, tuple(sorted(_relative(target))), selected)


# pg_dump takes ACCESS SHARE of its own after compile's: a session that asked for an exclusive lock in
# between (TRUNCATE, ALTER TABLE) is queued before pg_dump, and waits for compile. compile then lets it go
# first and starts again, with a snapshot taken after it.
LOCK_ATTEMPTS = 3
# compile already holds the tables pg_dump locks: waiting longer than this means it is queued behind
# such a session, which waits for compile
DUMP_LOCK_WAIT_MS = 2_000


def _compile(loaded: manifest.LoadedProject, url: str, target: Path, warn_error: bool | None,
             console: Console | None, select: selection.Request | None = None
             ) -> CompileResult | tuple[Path, tuple[reconcile.Finding, ...], selection.Selection | None]:
    """One attempt in one locked snapshot: the result when nothing is written, else the staging directory
    holding the new target/, the findings and what was selected."""
    previous = selection.previous_state(select.state) if select is not None and select.state is not None else None
    options = catalog.Options(schemas=tuple(loaded.project.schemas))
    platform_tables = platformdata.names(loaded)
    with connect(url) as conn:
        covered = catalog.scope(conn, options)
        timeouts = loaded.project.timeouts.compile
        locked = (*covered.tables, *_existing(conn, platform_tables))
        with snapshot.locked(conn, locked, lock_timeout_ms=manifest.milliseconds(timeouts.lock),
                             statement_timeout_ms=manifest.milliseconds(timeouts.statement)) as snapshot_id, \
                _archive(resolve(url), covered, snapshot_id) as dumped:
            cat = catalog.read(conn, options)
            if sorted(t.qualified for t in cat.tables) != sorted(covered.tables):
                raise PgConvoyError("tables were created or dropped on the source while compile started",
                                    hint="run compile again")
            result = reconcile.reconcile(cat, loaded, warn_error=warn_error)
            if result.layout is None or result.errors:
                return CompileResult(loaded, result.findings, target, ())
            platform = platformdata.read(conn, loaded)
            created_roles = roles.from_specs(loaded.project.roles)
            g = graph.build(cat)
            states = selection.table_states(cat, loaded, result.layout)
            layout, selected = result.layout, None
            if select is not None and select.active:
                universe = selection.universe(result.layout, g, current=states, previous=previous)
                selected = selection.select(select, universe)
                if not selected.tables:
                    return CompileResult(loaded, result.findings, target, (), selected)
            while True:
                if selected is not None:
                    layout = selection.restrict_layout(result.layout, selected.tables)
                schema = schema_side(conn, dumped(), cat, layout, excluded=result.excluded,
                                     owners=loaded.project.owners == "keep", platform_schemas=covered.platform_schemas,
                                     left_out=frozenset(result.layout.tables) - set(layout.tables), roles=created_roles)
                if selected is None or not schema.needs:
                    break
                # an entry of a selected table depends on a table left out, through more than a foreign key
                wanted = {t for tables in schema.needs.values() for t in tables}
                selected = selection.Selection(selected.requested,
                                               frozenset(selection.needs(selected.tables | wanted, universe)))
            raw = [(r.code, r.message, r.table, r.hint, r.subject) for r in schema.findings]
            raw += platformdata.unlisted_references(platform) if platform is not None else []
            judged, matched = reconcile.judge(loaded, raw,
                                              warn_error=warn_error, where=reconcile.table_lines(loaded, result.layout))
            judged += reconcile.unused_ignores(loaded, result.ignored | matched, warn_error=warn_error)
            findings = reconcile.ordered((*result.findings, *judged))
            if any(f.severity == "error" for f in judged):
                return CompileResult(loaded, findings, target, ())
            layout = replace(layout, platform=platformdata.order(platform),
                             on_conflict=loaded.project.platform_data.on_conflict)
            data_cat = platformdata.merged(cat, platform)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target.parent))
            try:
                (staging / TARGET_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
                for name, text in schema.files.items():
                    (staging / name).write_text(text, encoding="utf-8")
                rows = loaded.project.data.rows
                data_files = data.write_data(conn, data_cat, layout, staging, progress=console,
                                             large_objects=schema.large_objects, counted=True, rows=rows,
                                             split_larger_than=_split(loaded))
                files = file_entries(staging, layout, data_files, data.sequence_names(data_cat, layout),
                                     schema.batches)
                needs = requirements.read(conn, cat, layout, schema.placement,
                                          owners=loaded.project.owners == "keep",
                                          created_roles=[r.doc() for r in created_roles], platform=platform)
                doc = manifest_json(cat, g, loaded, layout, findings, files, data_files, describe(url),
                                    schema.placement, rows=rows, requires=needs, state=selection.state_doc(states),
                                    selection=_selection_doc(select, selected, universe) if selected else None)
                (staging / MANIFEST_JSON).write_text(contracts.dump(contracts.ManifestDoc, doc), encoding="utf-8")
                (staging / MIGRATION_ORDER).write_text(
                    migration_order_md(cat, g, loaded, layout, findings, files, data_files),
                    encoding="utf-8")
            except psycopg.Error as exc:
                shutil.rmtree(staging, ignore_errors=True)
                reason = (exc.diag.message_primary or str(exc)).strip()
                raise PgConvoyError(f"the export from the source failed: {reason}",
                                    hint="nothing was written; run compile again") from None
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    return staging, findings, selected


def _existing(conn: psycopg.Connection[Any], names: list[Name]) -> list[Name]:
    """Those of `names` that are tables of the source (compile's snapshot names the others)."""
    found = [n for n in names if conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL",
                                              (quote.qualified(n),)).fetchone() == (True,)]
    conn.rollback()
    return found


def _selection_doc(request: selection.Request | None, selected: selection.Selection,
                   universe: selection.Universe) -> dict[str, Any]:
    assert request is not None
    return {"select": list(request.select), "exclude": list(request.exclude),
            "requested": [str(t) for t in selection.ordered(selected.requested, universe)],
            "tables": [str(t) for t in selection.ordered(selected.tables, universe)]}


@dataclass(frozen=True)
class SchemaSide:
    placement: placement.Placement
    files: dict[str, str]  # file name -> SQL
    findings: tuple[accounting.Raw, ...]  # what the accounting found, severity not judged yet
    large_objects: tuple[int, ...]  # oids whose contents the data side appends
    batches: dict[str, list[render.Batch]] = field(default_factory=dict)  # files run may spread over workers
    # selected table -> the tables left out of the selection that one of its entries depends on
    needs: dict[Name, set[Name]] = field(default_factory=dict)


@contextmanager
def _archive(conninfo: str, covered: catalog.Scope, snapshot_id: str) -> Iterator[Callable[[], Archive]]:
    """pg_dump in the compile's snapshot, running while the catalog is read; yields the call that waits
    for its archive (with the large objects' metadata when the source has any)."""
    def options(**kwargs: Any) -> DumpOptions:
        return DumpOptions(snapshot=snapshot_id or None, lock_timeout_ms=DUMP_LOCK_WAIT_MS, **kwargs)

    dumps = [start(conninfo, options(exclude_schemas=covered.excluded_schemas))]
    if covered.large_objects:
        dumps.append(start(conninfo, options(large_objects_only=True)))
    if covered.attachments:  # the platform's tables, for what the application attached to them
        dumps.append(start(conninfo, options(tables=covered.attachments)))
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
                platform_schemas: tuple[str, ...] = (), left_out: frozenset[Name] = frozenset(),
                roles: tuple[roles.Role, ...] = ()) -> SchemaSide:
    """pg_dump's archive placed into files and accounted for; `conn` must see the archive's snapshot (it
    reads the objects to account for). `left_out`: the tables a selection leaves out; their entries, and
    what depends on them, are not placed."""
    objects = read_objects(conn, [s.name for s in cat.schemas], list(platform_schemas))
    large_objects = tuple(sorted(oid for classid, oid in objects if classid == PG_LARGEOBJECT))
    placed = placement.place(archive, objects, cat, layout,
                             placement.Options(excluded=excluded | left_out, platform_roles=PLATFORM_ROLES,
                                               platform_objects=PLATFORM_OBJECTS,
                                               platform_schemas=frozenset(platform_schemas)))
    needs: dict[Name, set[Name]] = {}
    unit = graph.load_unit(cat)
    if left_out:
        placed, needs = selection.prune(placed, left_out, unit)
    # the tables a selection leaves out are not "excluded" (PC602): nothing of the project is dropped
    findings = tuple(f for f in accounting.account(objects, archive, placed, excluded | left_out)
                     if not (f.code == accounting.EXCLUDED and f.table is not None and unit(f.table) in left_out))
    batches: dict[str, list[render.Batch]] = {}
    files = render.render_schema(placed, cat, layout, render.Options(owners=owners, roles=roles), batches)
    return SchemaSide(placed, files, findings, large_objects, batches, needs)


def _split(loaded: manifest.LoadedProject) -> int | None:
    limit = loaded.project.data.split_larger_than
    return None if limit is None else manifest.size_bytes(limit)


def _relative(directory: Path) -> list[str]:
    return [p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()]


# A target/ directory pgconvoy wrote carries this file; compile replaces no other directory.
TARGET_MARKER = ".pgconvoy-target"
STAGING_PREFIX = ".target-"
_MARKER_TEXT = "Written by pgconvoy compile: this directory is replaced by the next compile.\n"


def target_dir(project_dir: Path, configured: str, project_file: str) -> Path:
    """Where `target:` points, if compile may replace it: a directory inside the project, not the project
    itself nor its manifests, and (when it exists) one that pgconvoy wrote or an empty one."""
    root = project_dir.resolve()
    target = (project_dir / configured).resolve()
    guarded = [root / project_file, root / manifest.GROUPS_DIR, root / manifest.CHECKS_DIR]
    if target == root or root not in target.parents:
        raise PgConvoyError(f"{project_file}: target: {configured!r} is not a directory inside the project",
                            hint="compile replaces that directory whole: use a directory of its own, e.g. target")
    if any(target == g or g in target.parents or target in g.parents for g in guarded):
        raise PgConvoyError(f"{project_file}: target: {configured!r} would replace the project's manifests",
                            hint="use a directory of its own, e.g. target")
    if target.exists() and not target.is_dir():
        raise PgConvoyError(f"{project_file}: target: {configured!r} is a file, not a directory")
    if target.is_dir() and not _written_by_pgconvoy(target) and any(target.iterdir()):
        raise PgConvoyError(f"{project_file}: target: {configured!r} holds files pgconvoy did not write",
                            hint=f"compile replaces it whole: empty it, or point target: elsewhere (a directory "
                            f"compile wrote holds {TARGET_MARKER})")
    return target


def _written_by_pgconvoy(directory: Path) -> bool:
    if (directory / TARGET_MARKER).is_file():
        return True
    try:  # a target/ of a pgconvoy older than the marker
        return "version" in json.loads((directory / MANIFEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


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
