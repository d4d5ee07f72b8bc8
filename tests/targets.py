"""target/ directories built by tests without a project: the manifest.json `run` reads, written for them.

compile writes the real one (artifacts.manifest_json); here the step of each file is told by its name
(tests only), and the loads of data files come from data.write_data's own account of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pgconvoy import artifacts, contracts, layout
from pgconvoy.catalog.model import Name
from pgconvoy.data import DataFileInfo, file_sha256


def write_manifest(target_dir: Path, *, creates: Iterable[Name] = (), data_files: Sequence[DataFileInfo] = (),
                   source_version: int = 180000) -> dict[str, object]:
    """`creates`: the tables the schema files create (told, not read from the SQL: the manifest is the
    contract); they are listed as objects of the first schema file."""
    created = [{"type": "TABLE", "name": str(t), "schema": t.schema, "table": t.name} for t in creates]
    loads = {f.file: f for f in data_files}
    files = []
    for path in sorted(p for p in target_dir.rglob("*") if p.is_file()):
        name = path.relative_to(target_dir).as_posix()
        if name in ("manifest.json", "run_results.json") or name.endswith(".partial"):
            continue
        step = ("validate" if name.startswith("validate/") else "rollback" if name == "rollback.sql"
                else "data" if "-data-" in name else "post" if "-post-" in name else "schema")
        entry: dict[str, object] = {"name": name, "bytes": path.stat().st_size, "sha256": file_sha256(path),
                                    "step": step}
        if step == "schema" and created:
            entry["objects"], created = created, []
        if name in loads:
            entry["loads"] = [{"schema": t.table.schema, "table": t.table.name, "rows": t.rows,
                               "second_pass_rows": t.restored} for t in loads[name].tables]
        files.append(entry)
    files.sort(key=lambda e: layout.run_order(str(e["name"])))
    doc: dict[str, object] = {
        "version": contracts.MANIFEST_VERSION, "compile_id": artifacts.compile_id(files), "project": "test",
        "source": {"database": "source", "server_version": source_version, "url": "source"},
        "schemas": ["public"], "data_format": "copy",
        "run": {"lock_timeout": "30s", "statement_timeout": "0ms", "foreign_keys": "during", "rows": "files",
                "encoding": "auto"},
        "groups": [], "order": [], "cycles": [], "findings": [],
        "files": files, "not_migrated": [],
    }
    (target_dir / "manifest.json").write_text(contracts.dump(contracts.ManifestDoc, doc))
    return doc
