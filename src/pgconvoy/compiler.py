"""`pgconvoy compile`: load the project, read the source's catalog, reconcile, and render `target/`.

Nothing is rendered when a finding is an error. The new `target/` is written beside the old one and
swapped in at the end, so a compile that fails half-way leaves the previous output as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from pgconvoy import catalog, data, graph, manifest, reconcile, render
from pgconvoy.artifacts import manifest_json, migration_order_md
from pgconvoy.connect import connect, describe
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import file_sha256

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
    with connect(url) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas)))
        result = reconcile.reconcile(cat, loaded, warn_error=warn_error)
        if result.layout is None or result.errors:
            return CompileResult(loaded, result.findings, target, ())
        staging = Path(tempfile.mkdtemp(prefix=".target-", dir=project_dir))
        try:
            schema_files = render.render_schema(cat, result.layout)
            for name, text in schema_files.items():
                (staging / name).write_text(text, encoding="utf-8")
            data_files = data.write_data(conn, cat, result.layout, staging, progress=console)
            g = graph.build(cat)
            files = _files(staging)
            _write_json(staging / MANIFEST_JSON,
                        manifest_json(cat, g, loaded, result.layout, result.findings, files, data_files, describe(url)))
            (staging / MIGRATION_ORDER).write_text(
                migration_order_md(cat, g, loaded, result.layout, result.findings, files, data_files),
                encoding="utf-8")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    _swap(staging, target)
    return CompileResult(loaded, result.findings, target, tuple(sorted(_relative(target))))


def _files(directory: Path) -> list[dict[str, Any]]:
    """Every rendered file with its size and sha256, in run order (by name)."""
    return [
        {"name": name, "bytes": (directory / name).stat().st_size, "sha256": file_sha256(directory / name)}
        for name in sorted(_relative(directory))
    ]


def _relative(directory: Path) -> list[str]:
    return [p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
