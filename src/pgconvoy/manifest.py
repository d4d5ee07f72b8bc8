"""The user's project as validated data: `project.yml`, `groups/NN-name.yml` and `checks/*`.

YAML is composed (not just loaded) so that every mapping key and sequence item keeps its line: a
validation error then points at `file:line` with the key path, e.g.
`groups/01-foundation.yml:7: tables[2].tenant_registry.rows: expected an integer or {expected, tolerance}, got 'three'`.
String values may use Jinja like dbt: `{{ env_var('X') }}` or `{{ env_var('X', 'default') }}`.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import jinja2
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from pgconvoy.checks.engine import parse_threshold
from pgconvoy.errors import PgConvoyError

PROJECT_FILE = "project.yml"
GROUPS_DIR = "groups"
CHECKS_DIR = "checks"
GROUP_FILE = re.compile(r"^(\d{2,})-([a-z0-9][a-z0-9_-]*)\.ya?ml$")

Path_ = tuple[str | int, ...]
def _lint_level(value: Any) -> Any:
    # YAML 1.1 reads a bare `off` as false.
    return "off" if value is False else value


LintLevel = Annotated[Literal["error", "warn", "info", "off"], BeforeValidator(_lint_level)]
M = TypeVar("M", bound="BaseModel")


class ManifestError(PgConvoyError):
    """One or more problems in the project's YAML; `problems` lists them all, the message shows the first."""

    def __init__(self, problems: list[str]) -> None:
        more = len(problems) - 1
        hint = f"{more} more problem{'s' if more > 1 else ''}: " + "; ".join(problems[1:]) if more else None
        super().__init__(problems[0], hint=hint)
        self.problems = problems


def _fail(message: str) -> PydanticCustomError:
    # The message goes through the context so that braces in it are not read as placeholders.
    return PydanticCustomError("pgconvoy", "{msg}", {"msg": message})


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- group files ----------------------------------------------------------------------------------

_TOLERANCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def _tolerance(value: Any) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _TOLERANCE.match(value):
        number, percent = _TOLERANCE.match(value).groups()  # type: ignore[union-attr]
        return f"{number}%" if percent else int(float(number))
    raise _fail(f"expected a row count or a percentage like '2%', got {_shown(value)}")


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
        if isinstance(self.tolerance, str):
            return int(self.expected * float(self.tolerance.rstrip("%")) / 100)
        return self.tolerance

    def accepts(self, rows: int) -> bool:
        return abs(rows - self.expected) <= self.allowed()


def _rows(value: Any) -> Any:
    value = _count(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"expected": value}
    if isinstance(value, dict):
        return value
    raise _fail(f"expected an integer or {{expected, tolerance}}, got {_shown(value)}")


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
    raise _fail(f"expected a table name or a one-key map {{name: {{rows, two_pass, deferred}}}}, got {_shown(value)}")


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
            raise _fail("expected an index name or {table, columns}")
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


class DataOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["copy", "insert"] = "copy"
    foreign_keys: Literal["during", "after"] = Field(
        default="during", description="during: foreign keys are in place while rows load (every file checks itself); "
        "after: they are added once all data is in, as pg_restore does (faster on large databases)")


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
    owners: Literal["none", "keep"] = Field(
        "none", description="none: objects belong to the role that runs the migration (managed targets have "
        "roles of their own); keep: ALTER ... OWNER TO the source's owners")
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
    raise _fail(f"expected a comparison with a number like '>0' or '>=10', got {_shown(value)}")


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
            raise _fail("expected exactly one of sql or kind")
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


# --- loaded project -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """Line numbers (1-based) of the keys and items of one YAML file, by key path."""

    file: str
    by_path: Mapping[Path_, int] = field(default_factory=dict)

    def line(self, *path: str | int) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 for the whole file)."""
        for end in range(len(path), 0, -1):
            if (line := self.by_path.get(path[:end])) is not None:
                return line
        return 1


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
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml")) if directory.is_dir() else []
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
        if number in groups:
            problems.append(f"{rel}: group number {number:02d} is also used by {groups[number].file}")
            continue
        groups[number] = LoadedGroup(number, match.group(2), manifest, lines)
    if not files:
        problems.append(f"{GROUPS_DIR}/: no group files (groups/NN-name.yml)")
    return tuple(groups[n] for n in sorted(groups))


def _load_checks(root: Path, problems: list[str]) -> tuple[LoadedCheck, ...]:
    directory = root / CHECKS_DIR
    if not directory.is_dir():
        return ()
    checks: list[LoadedCheck] = []
    for file in sorted(directory.iterdir()):
        rel = f"{CHECKS_DIR}/{file.name}"
        if file.suffix == ".sql":
            checks.append(LoadedCheck(CheckSpec(name=file.stem, sql=file.read_text(encoding="utf-8")), rel, 1))
        elif file.suffix in (".yml", ".yaml"):
            loaded, lines = _load_model(root, rel, ChecksFile, problems)
            if loaded is not None:
                checks.extend(LoadedCheck(c, rel, lines.line("checks", i)) for i, c in enumerate(loaded.checks))
    return tuple(checks)


def _load_model(root: Path, rel: str, model: type[M], problems: list[str]) -> tuple[M | None, Lines]:
    try:
        data, lines = read_yaml((root / rel).read_text(encoding="utf-8"), rel)
    except ManifestError as e:
        problems.extend(e.problems)
        return None, Lines(rel)
    try:
        return model.model_validate({} if data is None else data), lines
    except ValidationError as e:
        problems.extend(describe_errors(e, model, lines))
        return None, lines


# --- YAML with line numbers and Jinja -------------------------------------------------------------


class _UnsetVariable(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


_MISSING = object()


def _env_var(name: str, default: Any = _MISSING) -> Any:
    import os

    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise _UnsetVariable(name)
    return default


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
_JINJA.globals["env_var"] = _env_var


def read_yaml(text: str, file: str) -> tuple[Any, Lines]:
    """Parse YAML text into plain data, with the line of every key and item; render Jinja in strings.

    libyaml's loader (PyYAML's C extension) where it is built, which keeps the marks too: a large
    manifest parses in a fraction of the pure-Python loader's time."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        by_path: dict[Path_, int] = {}
        data = _build(loader, node, (), by_path, file) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        what = e.problem or e.context or "cannot parse"
        if e.context and e.context_mark and e.context_mark.line + 1 != line:
            what += f" ({e.context} that starts on line {e.context_mark.line + 1})"
        raise ManifestError([f"{file}:{line}: invalid YAML: {what}"]) from None
    finally:
        loader.dispose()
    return data, Lines(file, by_path)


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, lines: dict[Path_, int], file: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise ManifestError([f"{file}:{line}: {_dotted(path) or 'top level'}: keys must be names, got "
                                     f"{_shown(key)}"])
            if key in result:
                raise ManifestError([f"{file}:{line}: {_dotted((*path, key))}: duplicate key"])
            lines[(*path, key)] = line
            result[key] = _build(loader, value_node, (*path, key), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*path, i), lines, file))
        return items
    value = loader.construct_object(node, deep=True)
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return _render(value, file, node.start_mark.line + 1, path)
    return value


def _render(text: str, file: str, line: int, path: Path_) -> str:
    where = f"{file}:{line}: {_dotted(path)}"
    try:
        return _JINJA.from_string(text).render()
    except _UnsetVariable as e:
        raise ManifestError([f"{where}: environment variable {e.name} is not set"]) from None
    except jinja2.TemplateError as e:
        raise ManifestError([f"{where}: template error: {e}"]) from None


# --- validation errors as file:line: path: message ------------------------------------------------


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "float_type": "a number", "float_parsing": "a number",
}


def describe_errors(error: ValidationError, model: type[BaseModel], lines: Lines) -> list[str]:
    """Pydantic's errors as `file:line: key.path: expected ..., got ...`, in file order."""
    found = []
    for err in error.errors():
        loc = tuple(err["loc"])
        text = _message(err, model, loc)
        found.append((lines.line(*loc), f"{lines.file}:{lines.line(*loc)}: {_dotted(loc) or 'top level'}: {text}"))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _message(err: Any, model: type[BaseModel], loc: Path_) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "pgconvoy":
        return str(ctx["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"unknown key {loc[-1]!r}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {_shown(got)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"expected a number {'>=' if kind == 'greater_than_equal' else '>'} " \
               f"{ctx.get('ge', ctx.get('gt'))}, got {_shown(got)}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_shown(got)}"
    return f"{err['msg']}, got {_shown(got)}"


def _allowed_keys(model: type[BaseModel], loc: Path_) -> list[str]:
    current: Any = model
    for part in loc:
        current = _step(current, part)
    return list(current.model_fields) if _is_model(current) else []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(tp: Any, part: str | int) -> Any:
    """The type found at `part` inside type `tp` (models, lists, dicts, unions and Annotated)."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if _is_model(tp):
        info = tp.model_fields.get(part) if isinstance(part, str) else None
        return None if info is None else info.annotation
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        for arg in args:
            if (found := _step(arg, part)) is not None:
                return found
        return None
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict:
        return args[1]
    return None


# --- JSON Schema and dumping ------------------------------------------------------------------------


def json_schema(kind: Literal["project", "group", "checks"] = "project") -> dict[str, Any]:
    """JSON Schema of `project.yml`, a group file or a checks file, for editors."""
    models: dict[str, type[BaseModel]] = {"project": Project, "group": GroupManifest, "checks": ChecksFile}
    return models[kind].model_json_schema()


def group_data(manifest: GroupManifest) -> dict[str, Any]:
    """A group as plain data in the shape users write: bare names, `rows: N` when there is no tolerance."""
    data: dict[str, Any] = {}
    if manifest.description:
        data["description"] = manifest.description
    data["tables"] = [_table_data(name, spec) for name, spec in manifest.entries()]
    if manifest.indexes:
        data["indexes"] = [i.name if i.name and i.table is None else _Flow(i.model_dump(exclude_none=True))
                           for i in manifest.indexes]
    if manifest.rls:
        data["rls"] = {t: _Flow(r.model_dump(exclude_none=True, exclude_defaults=True) or {"enabled": True})
                       for t, r in manifest.rls.items()}
    if manifest.expect:
        data["expect"] = _Flow(manifest.expect.model_dump(exclude_none=True))
    return data


def _table_data(name: str, spec: TableSpec) -> str | dict[str, Any]:
    entry: dict[str, Any] = {}
    if spec.rows is not None:
        tolerance = spec.rows.tolerance
        entry["rows"] = spec.rows.expected if tolerance == 0 else {"expected": spec.rows.expected,
                                                                     "tolerance": tolerance}
    if spec.two_pass:
        entry["two_pass"] = list(spec.two_pass)
    if spec.deferred:
        entry["deferred"] = True
    return {name: _Flow(entry)} if entry else name


def dump_group(manifest: GroupManifest) -> str:
    """A group file's YAML text: stable key order, one line per table, inner maps in flow style."""
    return _dump(group_data(manifest))


def dump_project(project: Project) -> str:
    """`project.yml` text: name, source and schemas always, other keys when they differ from defaults."""
    data: dict[str, Any] = {"name": project.name}
    if project.source is not None:
        data["source"] = project.source
    data["schemas"] = _FlowList(project.schemas)
    rest = project.model_dump(exclude_defaults=True, exclude={"name", "source", "schemas"})
    for key, value in rest.items():
        data[key] = _Flow(value) if isinstance(value, dict) else value
    return _dump(data)


class _Flow(dict[str, Any]):
    """A mapping written on one line: `{rows: 3}`."""


class _FlowList(list[Any]):
    """A list written on one line: `[public, hotels]`."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)
