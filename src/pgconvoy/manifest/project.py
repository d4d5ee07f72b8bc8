"""The loaded project: `project.yml`, the group files in `groups/` and the checks in `checks/`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest.errors import ManifestError, describe_errors
from pgconvoy.manifest.loading import Lines, paused_gc, read_file, read_yaml
from pgconvoy.manifest.models import ChecksFile, CheckSpec, GroupManifest, Project

PROJECT_FILE = "project.yml"
GROUPS_DIR = "groups"
CHECKS_DIR = "checks"
GROUP_FILE = re.compile(r"^(\d{2,})-([a-z0-9][a-z0-9_-]*)\.ya?ml$")

M = TypeVar("M", bound="BaseModel")


@dataclass(frozen=True)
class LoadedGroup:
    number: int
    name: str
    manifest: GroupManifest
    lines: Lines

    @property
    def file(self) -> str:
        return self.lines.file

    @property
    def label(self) -> str:
        """`02-catalog`, as findings name the group."""
        return f"{self.number:02d}-{self.name}"


@dataclass(frozen=True)
class LoadedCheck:
    spec: CheckSpec
    file: str
    line: int


@dataclass(frozen=True)
class LoadedProject:
    root: Path
    project: Project
    lines: Lines
    groups: tuple[LoadedGroup, ...]  # ordered by number
    checks: tuple[LoadedCheck, ...] = ()

    @property
    def file(self) -> str:
        return self.lines.file


def load_project(path: Path) -> LoadedProject:
    """Load `project.yml` (or the directory that holds it), `groups/*.yml` and `checks/*`."""
    root = path.parent if path.is_file() else path
    if not (root / PROJECT_FILE).is_file():
        raise PgConvoyError(f"no {PROJECT_FILE} in {root}", hint="run `pgconvoy init` or pass the project directory")
    problems: list[str] = []
    with paused_gc():
        project, project_lines = _load_model(root, PROJECT_FILE, Project, problems)
        groups = _load_groups(root, problems)
        checks = _load_checks(root, problems)
    if problems:
        raise ManifestError(problems)
    assert project is not None
    return LoadedProject(root, project, project_lines, groups, checks)


def _load_groups(root: Path, problems: list[str]) -> tuple[LoadedGroup, ...]:
    groups: dict[int, LoadedGroup] = {}
    directory = root / GROUPS_DIR
    files = [p for p in _listed(directory, problems) if p.suffix in (".yml", ".yaml")]
    for file in files:
        rel = f"{GROUPS_DIR}/{file.name}"
        match = GROUP_FILE.match(file.name)
        if match is None:
            problems.append(f"{rel}: a group file is named NN-name.yml (e.g. 01-foundation.yml): the number orders "
                            "the groups and numbers the rendered files; lowercase letters, digits, - and _ in the name")
            continue
        manifest, lines = _load_model(root, rel, GroupManifest, problems)
        if manifest is None:
            continue
        number = int(match.group(1))
        if number == 0:  # 00-schema-shared.sql holds what no group owns: a group 00 would overwrite it
            problems.append(f"{rel}: group numbers start at 01 (00 numbers the shared schema file, "
                            "00-schema-shared.sql)")
            continue
        if number in groups:
            problems.append(f"{rel}: group number {number:02d} is also used by {groups[number].file}")
            continue
        groups[number] = LoadedGroup(number, match.group(2), manifest, lines)
    if not files and not any(p.startswith(f"{GROUPS_DIR}/: ") for p in problems):
        problems.append(f"{GROUPS_DIR}/: no group files (groups/NN-name.yml)")
    return tuple(groups[n] for n in sorted(groups))


def _load_checks(root: Path, problems: list[str]) -> tuple[LoadedCheck, ...]:
    checks: list[LoadedCheck] = []
    for file in _listed(root / CHECKS_DIR, problems):
        rel = f"{CHECKS_DIR}/{file.name}"
        if file.suffix == ".sql":
            try:
                checks.append(LoadedCheck(CheckSpec(name=file.stem, sql=read_file(file, rel)), rel, 1))
            except ManifestError as e:
                problems.extend(e.problems)
        elif file.suffix in (".yml", ".yaml"):
            loaded, lines = _load_model(root, rel, ChecksFile, problems)
            if loaded is not None:
                checks.extend(LoadedCheck(c, rel, lines.line("checks", i)) for i, c in enumerate(loaded.checks))
    return tuple(checks)


def _load_model(root: Path, rel: str, model: type[M], problems: list[str]) -> tuple[M | None, Lines]:
    try:
        data, lines = read_yaml(read_file(root / rel, rel), rel)
    except ManifestError as e:
        problems.extend(e.problems)
        return None, Lines(rel)
    try:
        return model.model_validate({} if data is None else data), lines
    except ValidationError as e:
        problems.extend(describe_errors(e, model, lines))
        return None, lines


def _listed(directory: Path, problems: list[str]) -> list[Path]:
    """The entries of `directory`, sorted; none when it does not exist."""
    if not directory.is_dir():
        return []
    try:
        return sorted(directory.iterdir())
    except OSError as e:
        problems.append(f"{directory.name}/: cannot list: {e.strerror or e}")
        return []


# --- JSON Schema ------------------------------------------------------------------------------------


def json_schema(kind: Literal["project", "group", "checks"] = "project") -> dict[str, Any]:
    """JSON Schema of `project.yml`, a group file or a checks file, for editors."""
    models: dict[str, type[BaseModel]] = {"project": Project, "group": GroupManifest, "checks": ChecksFile}
    return models[kind].model_json_schema()


