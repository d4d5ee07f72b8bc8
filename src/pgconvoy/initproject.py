"""`pgconvoy init`: write a project (project.yml, groups/, checks/) from a proposal. Never overwrites
existing manifests unless forced."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pgconvoy import propose
from pgconvoy.catalog.model import Catalog
from pgconvoy.connect import secret_keys
from pgconvoy.errors import PgConvoyError
from pgconvoy.graph import FkGraph

HEADER = "# Written by `pgconvoy init` from {database}. Edit freely: `pgconvoy compile` checks it.\n"
GITIGNORE = "target/\n.target-*/\n"  # target/, and the staging and old copies compile swaps in
SECRET_NOTE = ("# source: the connection string given to init carries a secret ({keys}), so it is not written\n"
               "# here: set PGCONVOY_SOURCE to it. (A password may also live in ~/.pgpass or PGPASSWORD.)\n")
ENV_ONLY = "{{ env_var('PGCONVOY_SOURCE') }}"


def write(directory: Path, catalog: Catalog, graph: FkGraph, source: str, *, force: bool,
          roles: Sequence[dict[str, Any]] = ()) -> list[Path]:
    """Write the manifests; return the files written, in order. `roles`: project.yml `roles:`, as
    `roles.proposed` reads them from the source."""
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
    secrets = secret_keys(source)
    project = propose.project_data(catalog, source, bool(secrets))
    project["source"] = project_source(source)
    if roles:
        project["roles"] = list(roles)
    written = [_dump(directory / "project.yml", header + (SECRET_NOTE.format(keys=", ".join(secrets))
                                                          if secrets else ""), project)]
    written += [_dump(groups_dir / name, header, data) for name, data in files]
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE)
        written.append(gitignore)
    return written


def _dump(path: Path, header: str, data: dict[str, object]) -> Path:
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))
    return path


def project_source(source: str) -> str:
    """project.yml's `source:`: PGCONVOY_SOURCE, with `source` as its default unless `source` carries a
    secret (password, sslpassword, ...: see `connect.secret_keys`), which is never written to a file."""
    if secret_keys(source):
        return ENV_ONLY
    return f"{{{{ env_var('PGCONVOY_SOURCE', {jinja_string(source)}) }}}}"


def jinja_string(text: str) -> str:
    """`text` as a Jinja string literal: single-quoted, its backslashes and quotes escaped (a key=value
    source quotes its values: `host='a b' dbname=x`)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
