"""The pydantic models of `project.yml`, `groups/NN-name.yml` and `checks/*.yml`, and their validators."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pgconvoy import tolerance
from pgconvoy.checks.engine import parse_threshold
from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest.errors import fail, shown


def _lint_level(value: Any) -> Any:
    # YAML 1.1 reads a bare `off` as false.
    return "off" if value is False else value


LintLevel = Annotated[Literal["error", "warn", "info", "off"], BeforeValidator(_lint_level)]


# --- group files ----------------------------------------------------------------------------------

def _tolerance(value: Any) -> str | int:
    try:
        return tolerance.parse(value)
    except ValueError as exc:
        raise fail(f"expected {exc}, got {shown(value)}") from None


def _count(value: Any) -> Any:
    # Jinja renders to text, so a count may arrive as "42".
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


class Rows(BaseModel):
    """Expected row count, with a tolerance: a number of rows or a percentage of `expected`."""

    model_config = ConfigDict(extra="forbid")
    expected: Annotated[int, Field(ge=0), BeforeValidator(_count)]
    tolerance: Annotated[str | int, BeforeValidator(_tolerance)] = 0

    def allowed(self) -> int:
        """How many rows the count may differ by."""
        return tolerance.allowed(self.expected, self.tolerance)

    def accepts(self, rows: int) -> bool:
        return abs(rows - self.expected) <= self.allowed()


def _rows(value: Any) -> Any:
    value = _count(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"expected": value}
    if isinstance(value, dict):
        return value
    raise fail(f"expected an integer or {{expected, tolerance}}, got {shown(value)}")


class TableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: Annotated[Rows | None, BeforeValidator(_rows, json_schema_input_type=int | Rows | None)] = None
    two_pass: list[str] = Field(default_factory=list, description="columns loaded as NULL, then UPDATEd")
    deferred: bool = Field(False, description="load with its foreign keys added after the data")


def _table_item(value: Any) -> Any:
    if isinstance(value, str):
        return {value: {}}
    if isinstance(value, dict) and len(value) == 1:
        name, spec = next(iter(value.items()))
        return {name: {} if spec is None else spec}
    raise fail(f"expected a table name or a one-key map {{name: {{rows, two_pass, deferred}}}}, got {shown(value)}")


# The JSON Schema (for editors) shows what users may write: a bare name or a one-key map.
TableItem = Annotated[
    dict[str, TableSpec], BeforeValidator(_table_item, json_schema_input_type=str | dict[str, TableSpec | None])
]


class IndexSpec(BaseModel):
    """A required index: by name, or by table and leading columns."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    table: str | None = None
    columns: list[str] | None = None

    @model_validator(mode="after")
    def _named_or_located(self) -> IndexSpec:
        if self.name is None and (self.table is None or not self.columns):
            raise fail("expected an index name or {table, columns}")
        return self


def _index_item(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class RlsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    forced: bool | None = None
    policies: list[str] = Field(default_factory=list)


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: Annotated[int, Field(ge=0), BeforeValidator(_count)] | None = None
    rows: Annotated[int, Field(ge=0), BeforeValidator(_count)] | None = None


class GroupManifest(BaseModel):
    """One `groups/NN-name.yml` file: its tables in load order and what must hold for them."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    tables: list[TableItem]
    indexes: list[Annotated[IndexSpec, BeforeValidator(_index_item, json_schema_input_type=str | IndexSpec)]] = Field(
        default_factory=list)
    rls: dict[str, RlsSpec] = Field(default_factory=dict)
    expect: Expect | None = None

    def entries(self) -> list[tuple[str, TableSpec]]:
        """(name as written, spec) for every table entry, in load order."""
        return [next(iter(item.items())) for item in self.tables]


# --- project.yml ----------------------------------------------------------------------------------


_SIZE = re.compile(r"^\s*(\d{1,12})\s*(B|kB|KB|MB|GB|TB)?\s*$", re.IGNORECASE)
_UNIT_BYTES = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}


def _size(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _SIZE.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise fail(f"expected a size such as 512MB or 1GB, got {shown(value)}")
    return f"{match.group(1)}{match.group(2) or 'B'}"


Size = Annotated[str, BeforeValidator(_size)]


def size_bytes(size: str) -> int:
    """A validated size in bytes."""
    match = _SIZE.match(size)
    assert match is not None, size
    return int(match.group(1)) * _UNIT_BYTES[(match.group(2) or "B").lower()]


class DataOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["copy", "insert"] = "copy"
    foreign_keys: Literal["during", "after"] = Field(
        default="after", description="after: foreign keys are added once all rows are in, as pg_restore does, and "
        "tables load in parallel, in one pass; during: they are in place while rows load, so every data file "
        "checks itself and the files can be run one by one by hand")
    rows: Literal["files", "stream"] = Field(
        default="files", description="files: compile writes the rows into target/; stream: it writes none and "
        "`run --source URL` copies them server to server (one snapshot, in parallel)")
    encoding: Literal["auto", "binary", "text"] = Field(
        default="auto", description="how `run --source` sends rows: auto: binary COPY for tables whose types "
        "allow it when both servers run one major version, text otherwise")
    split_larger_than: Size | None = Field(
        default="1GB", description="a table larger than this (pg_table_size) loads in parts, each a unit of work "
        "for the parallel load: ranges of its integer primary key, else of its pages (ctid); null: never split")


_DURATION = re.compile(r"^\s*(\d{1,9})\s*(ms|s|min|h)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000}


def _duration(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise fail(f"expected a duration such as 500ms, 10s, 5min or 0 (no limit), got {shown(value)}")
    return f"{match.group(1)}{match.group(2) or 'ms'}"


Duration = Annotated[str, BeforeValidator(_duration)]


def milliseconds(duration: str) -> int:
    """A validated duration in milliseconds (0: no limit)."""
    match = _DURATION.match(duration)
    assert match is not None, duration
    return int(match.group(1)) * _UNIT_MS[match.group(2) or "ms"]


class StepTimeouts(BaseModel):
    """How long one step waits: for a lock (`lock_timeout`), and for any one statement
    (`statement_timeout`; 0 means no limit: a large COPY can take hours)."""

    model_config = ConfigDict(extra="forbid")
    lock: Duration
    statement: Duration = "0ms"


class Timeouts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    compile: StepTimeouts = Field(default_factory=lambda: StepTimeouts(lock="10s"),
                                  description="on the source: the locks of compile's snapshot, each query")
    run: StepTimeouts = Field(default_factory=lambda: StepTimeouts(lock="30s"),
                              description="on the target: each statement of a file (its other sessions keep going)")


class Ignore(BaseModel):
    """One finding silenced on purpose: its key (`pgconvoy compile --format json` shows it) and why."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=3, description="CODE:object or rule_name:object, e.g. PC402:public.c.c_p_fkey")
    reason: str = Field(min_length=1, description="why it is fine: reviewers read it")


def _no_password(value: Any) -> Any:
    if isinstance(value, dict) and any(str(k).lower() in ("password", "encrypted_password") for k in value):
        raise fail("a role's password is never written into a migration: set it on the target")
    return value


class RoleSpec(BaseModel):
    """A role of the application, created on the target when missing (never altered, never a password)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=63)
    login: bool = False
    inherit: bool = True
    createdb: bool = False
    createrole: bool = False
    bypassrls: bool = False
    connection_limit: int = Field(-1, ge=-1)
    member_of: list[Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        default_factory=list, description="roles it is granted membership in (platform roles allowed)")


def _platform_tables(value: Any) -> Any:
    # `platform_data: [auth.users, ...]` is short for `platform_data: {tables: [...]}`
    return {"tables": value} if isinstance(value, list) else value


class PlatformData(BaseModel):
    """Rows of the platform's own tables (Supabase's auth.users, storage.buckets, ...) that the application
    needs: copied data-only into the target's existing tables, before the application's rows."""

    model_config = ConfigDict(extra="forbid")
    tables: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="schema.table of the platform's tables, e.g. auth.users")
    on_conflict: Literal["error", "skip-existing"] = Field(
        "error", description="a row whose key the target already holds: error stops the run (nothing of the "
        "file is kept); skip-existing keeps the target's row and loads the others")


class Project(BaseModel):
    """`project.yml`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    source: str | None = Field(None, description="connection string, or sample:NAME")
    schemas: list[str] = Field(default_factory=lambda: ["public"])
    exclude: list[str] = Field(default_factory=list, description="tables left out: schema.name, globs allowed")
    data: DataOptions = Field(default_factory=DataOptions)
    lints: dict[str, LintLevel] = Field(default_factory=dict, description="rule name or code -> severity")
    warn_error: bool = Field(False, description="treat warnings as errors")
    ignore: list[Ignore] = Field(default_factory=list, description="findings silenced one by one, with a reason")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="lock and statement timeouts of compile and run")
    owners: Literal["none", "keep"] = Field(
        "none", description="none: objects belong to the role that runs the migration (managed targets have "
        "roles of their own); keep: ALTER ... OWNER TO the source's owners")
    roles: list[Annotated[RoleSpec, BeforeValidator(_no_password, json_schema_input_type=RoleSpec)]] = Field(
        default_factory=list, description="the application's roles, created on the target when missing")
    platform_data: Annotated[PlatformData, BeforeValidator(_platform_tables,
                                                           json_schema_input_type=list[str] | PlatformData)] = Field(
        default_factory=lambda: PlatformData(on_conflict="error"),
        description="rows of the platform's tables to copy first, data-only")
    target: str = "target"
    check_defaults: CheckDefaults = Field(default_factory=lambda: CheckDefaults(),
                                          description="severity, warn_if, error_if of custom checks that set none")


# --- checks/*.yml ---------------------------------------------------------------------------------

def _threshold(value: Any) -> Any:
    if value is None:
        return value
    if isinstance(value, str):
        try:
            parse_threshold(value)  # the check engine's own reading of it
            return value
        except PgConvoyError:
            pass
    raise fail(f"expected a comparison with a number like '>0' or '>=10', got {shown(value)}")


Threshold = Annotated[str | None, BeforeValidator(_threshold)]


class CheckSpec(BaseModel):
    """A custom check: a query returning failing rows (`sql`) or a built-in `kind` with `params`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str | None = None
    sql: str | None = None
    kind: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Literal["error", "warn"] | None = None  # None: project.yml check_defaults
    warn_if: Threshold = None
    error_if: Threshold = None

    @model_validator(mode="after")
    def _one_source(self) -> CheckSpec:
        if (self.sql is None) == (self.kind is None):
            raise fail("expected exactly one of sql or kind")
        return self


class CheckDefaults(BaseModel):
    """project.yml `check_defaults:`, for custom checks that set none of their own (dbt's test config)."""

    model_config = ConfigDict(extra="forbid")
    severity: Literal["error", "warn"] = "error"
    warn_if: Threshold = "!=0"
    error_if: Threshold = "!=0"


class ChecksFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checks: list[CheckSpec]
