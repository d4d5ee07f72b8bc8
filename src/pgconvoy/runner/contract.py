"""What `run` reads of a compile: `target/manifest.json`, the contract between the two.

The runner never looks into the SQL to learn what a file is: the manifest says which files run, in what
order, with which sha256, what each data file loads, and which compile they belong to (its id is bound
into the target's run state). An unknown version is refused: compile again with this pgconvoy.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgconvoy.artifacts import MANIFEST_VERSION, RUN_STEPS
from pgconvoy.catalog.model import Name
from pgconvoy.errors import PgConvoyError

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class RunFile:
    name: str
    sha256: str
    step: str  # schema | data | post
    loads: tuple[tuple[Name, int, int], ...] = ()  # (table, rows, rows its second passes copy)

    @property
    def expected_rows(self) -> int:
        """Rows its COPY/INSERT statements write: every table's, and those its second passes copy."""
        return sum(rows + second for _, rows, second in self.loads)


@dataclass(frozen=True, slots=True)
class Contract:
    compile_id: str
    source_version: int
    files: tuple[RunFile, ...]  # in run order
    validations: tuple[str, ...]  # validate/*.sql, run once every data file is in
    creates: tuple[Name, ...]  # the tables its schema files create
    loads: tuple[Name, ...]  # the tables its data files load

    def select(self, only: str | None) -> tuple[RunFile, ...]:
        """The files `run --only` applies: one file (its name), one group's (`foundation`: every
        `NN-*-foundation.sql`) or those matching a glob (`1?-data-*.sql`)."""
        if only is None:
            return self.files
        chosen = tuple(f for f in self.files
                       if f.name == only or f.name.endswith(f"-{only}.sql") or fnmatch.fnmatch(f.name, only))
        if not chosen:
            raise PgConvoyError(f"no file of this migration matches {only!r}",
                                hint="give a file name, a group name or a glob such as '1?-data-*.sql'")
        return chosen


def read(target_dir: Path) -> Contract:
    path = target_dir / MANIFEST
    if not path.is_file():
        raise PgConvoyError(f"{path} is missing: it is what run applies", hint="run `pgconvoy compile` first")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != MANIFEST_VERSION:
            raise PgConvoyError(
                f"{path} is of version {doc.get('version')!r}, this pgconvoy reads version {MANIFEST_VERSION}",
                hint="compile again with this pgconvoy")
        return _contract(doc)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PgConvoyError(f"{path} is not a manifest pgconvoy can read ({type(exc).__name__}: {exc})",
                            hint="compile again") from None


def _contract(doc: dict[str, Any]) -> Contract:
    files = tuple(
        RunFile(f["name"], f["sha256"], f["step"],
                tuple((Name(t["schema"], t["table"]), int(t["rows"]), int(t.get("second_pass_rows", 0)))
                      for t in f.get("loads", ())))
        for f in doc["files"] if f["step"] in RUN_STEPS
    )
    validations = tuple(f["name"] for f in doc["files"] if f["step"] == "validate")
    creates = tuple(Name(o["schema"], o["table"]) for f in doc["files"] for o in f.get("objects", ())
                    if o["type"] == "TABLE" and "table" in o)
    loads = tuple(table for f in files for table, _, _ in f.loads)
    return Contract(doc["compile_id"], int(doc["source"]["server_version"]), files, validations, creates, loads)
