"""`pgconvoy init`: write a project (project.yml, groups/, checks/) from a proposal. Never overwrites
existing manifests unless forced."""

from __future__ import annotations

from pathlib import Path

import yaml
from psycopg.conninfo import conninfo_to_dict

from pgconvoy import propose
from pgconvoy.catalog.model import Catalog
from pgconvoy.errors import PgConvoyError
from pgconvoy.graph import FkGraph

HEADER = "# Written by `pgconvoy init` from {database}. Edit freely: `pgconvoy compile` checks it.\n"
GITIGNORE = "target/\n"


def write(directory: Path, catalog: Catalog, graph: FkGraph, source: str, *, force: bool) -> list[Path]:
    """Write the manifests; return the files written, in order."""
    groups_dir = directory / "groups"
    existing = [p for p in [directory / "project.yml", *sorted(groups_dir.glob("*.y*ml"))] if p.exists()]
    if existing and not force:
        raise PgConvoyError(
            f"{existing[0]} already exists; init never overwrites manifests",
            hint="pass --force to replace project.yml and groups/*.yml, or --dir to write elsewhere",
        )
    proposal = propose.propose(catalog, graph)
    files = propose.manifests(catalog, graph, proposal)
    groups_dir.mkdir(parents=True, exist_ok=True)
    (directory / "checks").mkdir(exist_ok=True)
    for old in groups_dir.glob("*.y*ml"):
        old.unlink()
    header = HEADER.format(database=catalog.database)
    project = propose.project_data(catalog, source, _has_password(source))
    written = [_dump(directory / "project.yml", header, project)]
    written += [_dump(groups_dir / name, header, data) for name, data in files]
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE)
        written.append(gitignore)
    return written


def _dump(path: Path, header: str, data: dict[str, object]) -> Path:
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))
    return path


def _has_password(source: str) -> bool:
    if source.startswith("sample:"):
        return False
    try:
        return bool(conninfo_to_dict(source).get("password"))
    except Exception:  # an unparsable URL never reaches here: connect() rejected it first
        return True
