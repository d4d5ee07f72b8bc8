"""The artifacts as versioned contracts: `target/manifest.json` (what compile wrote, what run / check /
CI read) and `target/run_results.json` (what a run did). One pydantic model each, as dbt-core's
`artifacts/schemas`: compile and run write through the model, every reader validates through it, and
`pgconvoy schema` publishes its JSON Schema. A document of another version, or of the right version but
the wrong shape, is refused with the reason.

The one shape of a finding is here too (`FindingDoc`): compile's JSON output and manifest.json both use
it; `line` is a number or null, never 0 or "".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pgconvoy.errors import PgConvoyError

MANIFEST_VERSION = 5
RUN_RESULTS_VERSION = 2

Step = Literal["schema", "data", "post", "validate", "rollback", "report"]
RUN_STEPS: tuple[Step, ...] = ("schema", "data", "post")  # what `run` applies, in this order per number


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindingDoc(_Doc):
    code: str
    rule: str
    severity: Literal["error", "warn", "info"]
    message: str
    file: str
    line: int | None = Field(None, ge=1)
    table: str | None = None
    hint: str | None = None
    key: str = Field(description="what `ignore:` in project.yml names to silence this one finding")


class LoadDoc(_Doc):
    schema_: str = Field(alias="schema")
    table: str
    rows: int = Field(ge=0)
    second_pass_rows: int = Field(0, ge=0)


class PartDoc(_Doc):
    """One range of a table split for the parallel load (`data: split_larger_than`)."""

    by: str = Field(description="the integer primary key column, or ctid (pages)")
    lower: int | None = Field(description="inclusive; null: no lower bound")
    upper: int | None = Field(description="exclusive; null: no upper bound")
    index: int = Field(ge=1)
    of: int = Field(ge=2)


class StreamStepDoc(_Doc):
    """One COPY of a data file, as `run --source` streams it from the source instead of reading the file."""

    kind: Literal["rows", "second_pass"]
    schema_: str = Field(alias="schema")
    table: str
    columns: list[str] = Field(description="rows: the columns copied; second_pass: the columns it restores")
    nulls: list[str] = Field(default_factory=list, description="rows: two-pass columns, read as NULL")
    key: list[str] = Field(default_factory=list, description="second_pass: the columns matching a row")
    only: bool = Field(description="read with FROM ONLY (not a partitioned table loaded through its root)")
    binary: bool = Field(description="every column's type travels in binary COPY between servers of one major "
                         "version (no type OIDs inside the values)")
    rows: int = Field(0, ge=0, description="rows at compile (largest first when loaded in parallel)")
    offset: int | None = Field(None, ge=0, description="where its COPY data starts in the file (rows in files, "
                               "format copy): workers load it from there")
    length: int | None = Field(None, ge=0)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="of those bytes, checked as they load")
    part: PartDoc | None = None
    on_conflict: Literal["error", "skip-existing"] | None = Field(
        None, description="rows into a platform table (project.yml platform_data): skip-existing keeps the "
        "target's row where it holds the key already; error fails on it")


class BatchDoc(_Doc):
    """Consecutive statements of a file that `run` may spread over workers (see `render.Batch`)."""

    kind: Literal["session", "table", "serial"]
    statements: int = Field(ge=1)
    schema_: str | None = Field(None, alias="schema")
    table: str | None = None


class SequenceDoc(_Doc):
    schema_: str = Field(alias="schema")
    name: str


class ObjectDoc(_Doc):
    type: str
    name: str
    schema_: str | None = Field(None, alias="schema")
    table: str | None = None


class FileDoc(_Doc):
    name: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    step: Step
    loads: list[LoadDoc] | None = None
    stream: list[StreamStepDoc] | None = None
    sequences: list[SequenceDoc] | None = None
    batches: list[BatchDoc] | None = None
    objects: list[ObjectDoc] | None = None
    platform: bool = Field(False, description="a data file of rows into the platform's existing tables "
                           "(platform_data): loaded first, in foreign-key order, in one transaction, into tables "
                           "the target may already hold rows in")


class TableDoc(_Doc):
    name: str
    schema_: str = Field(alias="schema")
    table: str
    depth: int
    references: list[str]
    blocks: int
    rows: int | None
    two_pass: list[str]
    self_references: list[str]


class GroupDoc(_Doc):
    number: int
    name: str
    description: str | None
    schema_file: str
    data_file: str
    tables: list[TableDoc]
    rows: int


class SourceDoc(_Doc):
    database: str
    server_version: int
    url: str


class NotMigratedDoc(_Doc):
    type: str
    name: str
    reason: str


class RunSettingsDoc(_Doc):
    """How `run` applies the files (project.yml `timeouts: run:`)."""

    lock_timeout: str
    statement_timeout: str
    foreign_keys: Literal["during", "after"] = Field(
        description="during: foreign keys are in place while rows load, so a data file's tables load in order; "
        "after: they come in post-data, so its tables load in parallel")
    rows: Literal["files", "stream"] = Field(
        description="files: the rows are in target/; stream: compile wrote none, `run --source` copies them")
    encoding: Literal["auto", "binary", "text"] = Field(
        description="how `run --source` sends rows (auto: binary where the step says it is safe and both servers "
        "run one major version)")


RoleUse = Literal["grant", "grantor", "policy", "default_privileges", "owner", "member"]


class RequiredRoleDoc(_Doc):
    """A role the files name: it must exist on the target (or be one `roles:` creates)."""

    name: str
    named_by: list[RoleUse] = Field(description="grant: a grantee; grantor: restores its own grants; policy: a "
                                    "policy's role; default_privileges: ALTER DEFAULT PRIVILEGES FOR ROLE; owner: "
                                    "ALTER ... OWNER TO (owners: keep); member: a `roles:` membership")
    foreign_grantor: bool = Field(False, description="it granted on objects it does not own: pg_dump restores "
                                  "those grants under SET SESSION AUTHORIZATION, which needs a superuser")


class CreatedRoleDoc(_Doc):
    """A role of project.yml `roles:`, created by the shared schema file when missing."""

    name: str
    attributes: list[str] = Field(description="as CREATE ROLE spells them: LOGIN, NOINHERIT, CREATEDB, ...")
    member_of: list[str]


class RequiredExtensionDoc(_Doc):
    name: str
    version: str = Field(description="the source's version (CREATE EXTENSION installs the target's default)")
    schema_: str = Field(alias="schema")


class PlatformTableDoc(_Doc):
    """A platform table of platform_data: it must exist on the target with these columns, and take INSERT."""

    schema_: str = Field(alias="schema")
    table: str
    columns: list[str] = Field(description="the columns the rows carry (generated ones are left out)")


class RequiresDoc(_Doc):
    """What the migration needs of a target, read from the source's catalog at compile: what `preflight`
    looks for on a target before anything is written."""

    creates_schemas: list[str] = Field(description="CREATE SCHEMA: needs CREATE on the database")
    uses_schemas: list[str] = Field(description="schemas it creates objects in without creating them")
    extensions: list[RequiredExtensionDoc]
    roles: list[RequiredRoleDoc]
    creates_roles: list[CreatedRoleDoc] = Field(default_factory=list)
    platform_tables: list[PlatformTableDoc] = Field(
        default_factory=list, description="the platform's tables it loads rows into (platform_data)")
    tables: int = Field(ge=0, description="tables it creates")
    locks: int = Field(ge=0, description="relations the file locking the most locks in its transaction (tables, "
                       "their TOAST tables, indexes, sequences, referenced tables)")
    locks_file: str | None = Field(None, description="that file")
class TableStateDoc(_Doc):
    """What `--select state:modified` compares of one table with an earlier compile."""

    name: str
    schema_: str = Field(alias="schema")
    table: str
    group: str = Field(description="the group's label, NN-name")
    definition: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the table's catalog definition "
                            "(columns, constraints, foreign keys, indexes, policies, row-level security, partitions)")
    rows: int | None = Field(None, ge=0, description="expected rows as the manifest says")
    tolerance: str | int | None = None
    two_pass: list[str] = Field(default_factory=list)
    deferred: bool = False


class SelectionDoc(_Doc):
    """A compile of some of the tables (`--select`, `--exclude`): target/ loads these and no others."""

    select: list[str]
    exclude: list[str]
    requested: list[str] = Field(description="the tables the selectors chose, in load order")
    tables: list[str] = Field(description="what target/ loads: those and every table they reference")


class ManifestDoc(_Doc):
    """target/manifest.json."""

    version: Literal[5]
    compile_id: str
    project: str
    source: SourceDoc
    schemas: list[str]
    data_format: str
    run: RunSettingsDoc
    groups: list[GroupDoc]
    order: list[str]
    cycles: list[list[str]]
    findings: list[FindingDoc]
    files: list[FileDoc]
    not_migrated: list[NotMigratedDoc]
    requires: RequiresDoc | None = Field(None, description="what a target needs (absent: compiled before it was "
                                         "recorded; preflight then checks less)")
    state: list[TableStateDoc] | None = Field(None, description="every table of the project (selected or not)")
    selection: SelectionDoc | None = None


class FileRunDoc(_Doc):
    file: str
    status: Literal["done", "failed", "skipped"]
    sha256: str
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    workers: int = Field(1, ge=1, description="processes that applied it at once")


class ValidationDoc(_Doc):
    table: str
    check: str
    actual: int
    expected: int


class RunResultsDoc(_Doc):
    """target/run_results.json: a report of one run (the target's own state is the truth)."""

    version: Literal[2]
    compile_id: str
    target: str
    files: dict[str, FileRunDoc]
    validation: list[ValidationDoc]


ARTIFACTS: dict[str, type[_Doc]] = {"manifest": ManifestDoc, "run_results": RunResultsDoc}
D = TypeVar("D", bound=_Doc)


def dump(model: type[D], data: dict[str, Any]) -> str:
    """`data` as the artifact's JSON, once checked against the model (a writer's bug fails here, not in a
    reader). Compact, as dbt writes its artifacts: the C encoder, ten times faster on a large manifest;
    `python -m json.tool` shows it indented."""
    model.model_validate(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def load(model: type[D], path: Path) -> D:
    """An artifact read and checked; a clear error for a missing, foreign, older or damaged one."""
    version = model.model_fields["version"].annotation.__args__[0]  # type: ignore[union-attr]
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PgConvoyError(f"{path}: cannot read it ({exc.strerror})", hint="run `pgconvoy compile` first") from None
    except ValueError as exc:
        raise PgConvoyError(f"{path} is not JSON ({exc})", hint="compile again") from None
    found = raw.get("version") if isinstance(raw, dict) else None
    if found != version:
        raise PgConvoyError(f"{path} is of version {found!r}, this pgconvoy reads version {version}",
                            hint="compile again with this pgconvoy")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PgConvoyError(f"{path} is not a {model.__name__} pgconvoy can read: {where}: {first['msg']}",
                            hint="compile again") from None


def json_schema(kind: str) -> dict[str, Any]:
    return ARTIFACTS[kind].model_json_schema(by_alias=True)
