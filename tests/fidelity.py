"""The yardstick of "nothing lost", shared by the round-trip tests.

A migration is judged against what `pg_dump | pg_restore` rebuilds from the same source into the same
kind of target, never by reading the SQL pgconvoy wrote:
- schema: `pg_dump --schema-only` of both, compared line by line after dropping what is not schema
  (pg_dump's `--` headers, its `SET`/`set_config` session lines, `\\restrict` keys, blank lines);
- data: `pg_dump --data-only --large-objects` of both, compared as sorted lines (row order on disk is
  not data; a row in the wrong partition, a changed value, a missing large object or sequence position
  all show);
- and pgconvoy's own `compare` must agree (so it is tested too).
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg

from conftest import DatabaseFactory, invoke
from pgconvoy import catalog, compiler, embedded, scratch
from pgconvoy.connect import resolve
from pgconvoy.layout import Layout

# The platform's schemas (Supabase's, the stand-in's): on the target already, never migrated.
NOT_MIGRATED = tuple(sorted(catalog.MANAGED_SCHEMAS))

_NOT_SCHEMA = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict", "\\unrestrict")


def pg_dump(uri: str, *args: str) -> str:
    return subprocess.run([str(embedded.bin_dir() / "pg_dump"), "--dbname", uri, *args],
                          check=True, capture_output=True, text=True).stdout


def schema_lines(uri: str) -> list[str]:
    """The schema, without the run state pgconvoy keeps on a target (schema pgconvoy)."""
    return [line for line in pg_dump(uri, "--schema-only", "--exclude-schema=pgconvoy").splitlines()
            if line.strip() and not line.startswith(_NOT_SCHEMA)]


def resign(target_dir: Path) -> None:
    """Record the files' sha256 again in manifest.json, as a compile would have (a test edited one)."""
    import json

    from pgconvoy import artifacts
    from pgconvoy.data import file_sha256

    path = target_dir / "manifest.json"
    doc = json.loads(path.read_text())
    for entry in doc["files"]:
        sha256 = file_sha256(target_dir / entry["name"])
        if sha256 != entry["sha256"]:
            entry.pop("batches", None)  # its statements were counted before the edit: apply it in one piece
        entry["sha256"] = sha256
    doc["compile_id"] = artifacts.compile_id(doc["files"])
    path.write_text(json.dumps(doc))


def data_lines(uri: str, exclude_schemas: Sequence[str]) -> list[str]:
    """The rows, sorted; never those of the run state pgconvoy keeps on a target (schema pgconvoy)."""
    excluded = {*exclude_schemas, "pgconvoy"}
    dump = pg_dump(uri, "--data-only", "--large-objects", *(f"--exclude-schema={s}" for s in sorted(excluded)))
    return sorted(line for line in dump.splitlines()
                  if line.strip() and not line.startswith(_NOT_SCHEMA))


def restored_copy(source: str, copy: str, exclude_schemas: Sequence[str], *, owners: bool = False) -> None:
    """`pg_dump -Fc | pg_restore` of the source (its migrated part) into `copy`, prepared like the target,
    as anyone restoring into a Supabase project must do it by hand: without what the platform already
    made (its supabase_realtime publication), then the policies and triggers the application put on the
    platform's tables. `--no-owner` unless `owners` (pgconvoy sets owners only with `owners: keep`)."""
    _restore(copy, [source, "--format=custom", *(f"--exclude-schema={s}" for s in exclude_schemas)],
             lambda line: not re.search(r" PUBLICATION - supabase_realtime ", line), owners)
    with psycopg.connect(source) as conn:
        attached = catalog.scope(conn, catalog.Options()).attachments
    if attached:
        _restore(copy, [source, "--format=custom", "--schema-only", *(f"--table={t}" for t in attached)],
                 lambda line: bool(re.search(r"^\d+; \d+ \d+ (TRIGGER|POLICY|COMMENT \S+ (POLICY|TRIGGER)) ", line)),
                 owners)


def _restore(copy: str, dump_args: list[str], keep: Callable[[str], bool], owners: bool) -> None:
    bin_dir = embedded.bin_dir()
    archive = subprocess.run([str(bin_dir / "pg_dump"), "--dbname", *dump_args], check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path, listing = Path(tmp) / "source.dump", Path(tmp) / "restore.list"
        path.write_bytes(archive)
        toc = subprocess.run([str(bin_dir / "pg_restore"), "--list", str(path)], check=True, capture_output=True,
                             text=True).stdout
        listing.write_text("".join(line + "\n" for line in toc.splitlines() if line.startswith(";") or keep(line)))
        subprocess.run([str(bin_dir / "pg_restore"), "--dbname", copy, "--exit-on-error", "--use-list", str(listing),
                        *([] if owners else ["--no-owner"]), str(path)], check=True, capture_output=True)


def assert_same_lines(expected: list[str], actual: list[str], what: str) -> None:
    diff = list(difflib.unified_diff(expected, actual, "pg_dump | pg_restore", "pgconvoy", lineterm="", n=1))
    assert not diff, f"{what} differs:\n" + "\n".join(diff[:120])


def migrate(source: str, target: str, project: Path, schemas: Sequence[str], *, project_yml: str = "",
            foreign_keys: str | None = None) -> Path:
    """init -> compile -> run, as a user does; returns the project directory."""
    initialized = invoke("init", "--source", source, "--schemas", ",".join(schemas), "--dir", str(project))
    assert initialized.exit_code == 0, initialized.output
    if foreign_keys is not None:  # init writes `data:` as a block
        text = (project / "project.yml").read_text()
        assert "  format: copy\n" in text
        (project / "project.yml").write_text(text.replace("  format: copy\n",
                                                          f"  format: copy\n  foreign_keys: {foreign_keys}\n"))
    if project_yml:
        (project / "project.yml").write_text((project / "project.yml").read_text() + project_yml)
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    ran = invoke("run", "--project-dir", str(project), "--target", target)
    assert ran.exit_code == 0, ran.output
    return project


def prepared_target(new_db: DatabaseFactory, source: str) -> str:
    """An empty database as a real target looks: the Supabase stand-in when the source has it, and the
    key columns of the rows migrated tables reference in schemas that are never migrated (auth.users)."""
    target = new_db()
    with psycopg.connect(source) as src:
        scratch.prepare(target, src, catalog.introspect(src, catalog.Options(rows="none")))
    return target


def schema_side(conn: psycopg.Connection[object], uri: str, cat: catalog.Catalog, layout: Layout,
                options: catalog.Options | None = None) -> compiler.SchemaSide:
    """The schema side of `layout`, dumped now (outside a compile's snapshot)."""
    covered = catalog.scope(conn, options or catalog.Options())
    archive = compiler.take_archive(resolve(uri), covered)
    return compiler.schema_side(conn, archive, cat, layout, platform_schemas=covered.platform_schemas)
