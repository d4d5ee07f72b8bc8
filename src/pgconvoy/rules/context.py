"""What a rule sees: a catalog (the source's at compile, the target's at check), the manifests, where
each listed table sits, and how to report a finding (code, message, file and line, table, hint).

The one name resolver lives here: a manifest name is `table`, `schema.table`, or with double quotes
for names holding dots, upper case or quotes (`"odd.name"`, `public."Odd ""quoted"" name"`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pgconvoy.catalog.model import Catalog, Name, Table
from pgconvoy.graph import FkGraph, load_unit
from pgconvoy.manifest import LoadedGroup, LoadedProject, TableSpec
from pgconvoy.rules.registry import Severity, by_key, configured

# code, message, file, line, table, hint, subject (what the finding is about, for its key)
_RawFinding = tuple[str, str, str, int, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    file: str
    line: int | None
    table: str | None = None
    hint: str | None = None
    subject: str | None = None  # the object it is about, when a table can have several such findings

    @property
    def key(self) -> str:
        """What names this one finding across compiles (no line number, no count): `CODE:object`, the
        object being the table, or the constraint, policy, column, index it is about. project.yml
        `ignore:` takes it."""
        return f"{self.code}:{self.subject or self.table or self.file}"

    @property
    def rule(self) -> str:
        found = by_key(self.code)
        return found.name if found is not None else self.code

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity} {self.code} {self.message}"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a table sits in the manifests."""

    group: LoadedGroup
    index: int  # entry index in the group's tables
    written: str  # the name as the manifest writes it
    spec: TableSpec
    position: int  # load position over all groups

    @property
    def line(self) -> int:
        return self.group.lines.line("tables", self.index)

    def at(self, *path: str | int) -> tuple[str, int]:
        return self.group.file, self.group.lines.line("tables", self.index, self.written, *path)


@dataclass
class Context:
    catalog: Catalog
    project: LoadedProject
    graph: FkGraph
    raw: list[_RawFinding] = field(default_factory=list)
    placed: dict[Name, Placement] = field(default_factory=dict)
    excluded: set[Name] = field(default_factory=set)
    index_schemas: dict[str, set[str]] | None = None  # index name -> schemas holding one, once needed
    side: str = "source"  # whose catalog: the source's (compile) or the target's (check)

    @classmethod
    def make(cls, catalog: Catalog, project: LoadedProject, graph: FkGraph, side: str = "source") -> Context:
        """A context with every table entry of the manifests resolved against `catalog`."""
        ctx = cls(catalog, project, graph, side=side)
        ctx.excluded = excluded_tables(catalog, project)
        _place_tables(ctx)
        return ctx

    def emit(self, code: str, message: str, where: tuple[str, int], table: Name | None = None,
             hint: str | None = None, subject: str | None = None) -> None:
        self.raw.append((code, message, where[0], where[1], str(table) if table else None, hint, subject))

    def where(self, table: Name) -> tuple[str, int]:
        """The table's entry in its group, else project.yml."""
        placement = self.placed.get(table)
        if placement is not None:
            return placement.group.file, placement.line
        return self.project.file, 1

    def linted(self) -> list[Name]:
        """The tables the lints look at: every table of the project's schemas that migrates (not excluded),
        partitions aside (their partitioned table stands for them). At check, that is the target's tables
        whether or not a group lists them."""
        schemas = set(self.project.project.schemas)
        unit = load_unit(self.catalog)
        return sorted(t.qualified for t in self.catalog.tables
                      if t.qualified.schema in schemas and t.qualified not in self.excluded
                      and unit(t.qualified) == t.qualified)

    def table(self, name: Name) -> Table:
        table = self.catalog.table(name)
        assert table is not None, name  # placed names are resolved against the catalog
        return table

    def resolve(self, written: str, where: tuple[str, int]) -> Name | None:
        """The catalog table a manifest name means; a finding and None when there is none or several."""
        schema, name = parse_written(written)
        if schema is not None:
            qualified = Name(schema, name)
            if self.catalog.table(qualified) is None:
                self.emit("PC102", f"{qualified}: no such table in the {self.side}", where, qualified,
                          hint="check the spelling and project.yml schemas:")
                return None
            return qualified
        found = tables_named(self.catalog, self.project.project.schemas, name)
        if len(found) > 1:
            self.emit("PC105", f"{written}: ambiguous, it exists in {', '.join(str(n) for n in found)}", where,
                      hint=f"write it qualified, e.g. {found[0]}")
            return None
        if not found:
            schemas = ", ".join(self.project.project.schemas)
            self.emit("PC102", f"{written}: no such table in schemas {schemas}", where,
                      hint="check the spelling and project.yml schemas:")
            return None
        return found[0]


_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def parse_written(written: str) -> tuple[str | None, str]:
    """(schema or None, table) of a manifest name. Unquoted, the last dot splits schema from table;
    double-quoted parts are taken as they are (dots and quotes inside them included, `""` for `"`)."""
    if '"' not in written:
        schema, dot, name = written.rpartition(".")
        return (schema if dot else None), name
    parts: list[str] = []
    rest = written.strip()
    while rest:
        quoted = _QUOTED.match(rest)
        if quoted:
            parts.append(quoted.group(1).replace('""', '"'))
            rest = rest[quoted.end():]
        else:
            head, dot, tail = rest.partition(".")
            parts.append(head)
            rest = "." + tail if dot else ""
        if rest.startswith("."):
            rest = rest[1:]
        elif rest:
            break
    if len(parts) == 1:
        return None, parts[0]
    return parts[-2], parts[-1]


def written_name(name: Name, *, qualified: bool) -> str:
    """How a manifest writes `name` so that `parse_written` reads it back."""
    def part(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if ("." in text or '"' in text) else text

    return f"{part(name.schema)}.{part(name.name)}" if qualified else part(name.name)


def tables_named(catalog: Catalog, schemas: Iterable[str], written: str) -> list[Name]:
    """The catalog tables an unqualified manifest name can mean, one per schema of the project."""
    return [Name(s, written) for s in schemas if catalog.table(Name(s, written)) is not None]


def excluded_tables(catalog: Catalog, project: LoadedProject) -> set[Name]:
    patterns = [p if "." in p else f"{s}.{p}" for p in project.project.exclude
                for s in ([None] if "." in p else project.project.schemas)]
    return {t.qualified for t in catalog.tables if any(fnmatch.fnmatchcase(str(t.qualified), p) for p in patterns)}


def _place_tables(ctx: Context) -> None:
    """Resolve every table entry (PC102, PC104, PC105, PC106, PC107) and record where it loads."""
    position = 0
    unit = load_unit(ctx.catalog)
    for group in ctx.project.groups:
        for index, (written, spec) in enumerate(group.manifest.entries()):
            where = (group.file, group.lines.line("tables", index))
            name = ctx.resolve(written, where)
            if name is None:
                continue
            table = ctx.catalog.table(name)
            if table is not None and table.partition_of is not None:
                ctx.emit("PC107", f"{name} is a partition of {table.partition_of}; its rows load through the "
                         "partitioned table", where, name, hint=f"list {unit(name)} instead")
                continue
            if name in ctx.excluded:
                ctx.emit("PC106", f"{name} is listed here but excluded in project.yml", where, name,
                         hint="remove it from the group or from exclude:")
                continue
            if (first := ctx.placed.get(name)) is not None:
                ctx.emit("PC104", f"{name} is already listed in {first.group.file}:{first.line}", where, name,
                         hint="a table loads once: keep one entry")
                continue
            ctx.placed[name] = Placement(group, index, written, spec, position)
            position += 1


def judge(raw: Iterable[_RawFinding], project: LoadedProject, warn_error: bool) -> tuple[Finding, ...]:
    """Findings with the severity project.yml's `lints:` gives their rule (by code or name; `off` drops
    them); with `warn_error` a warning is an error. A finding whose key `ignore:` lists is dropped."""
    lints = project.project.lints
    ignored = ignore_keys(project)
    findings = []
    for code, message, file, line, table, hint, subject in raw:
        found = by_key(code)
        assert found is not None, code
        level = configured(found, lints)
        finding = Finding(code, "info", message, file, line, table, hint, subject)
        if level == "off" or finding.key in ignored:
            continue
        severity: Severity = "error" if level == "warn" and warn_error else level
        findings.append(Finding(code, severity, message, file, line, table, hint, subject))
    return ordered(findings)


def ignore_keys(project: LoadedProject) -> dict[str, str]:
    """project.yml `ignore:` as finding keys (a rule's name before the colon read as its code) -> the
    entry as written."""
    keys = {}
    for entry in project.project.ignore:
        head, colon, rest = entry.key.partition(":")
        found = by_key(head.strip())
        keys[f"{found.code}:{rest.strip()}" if found is not None and colon else entry.key] = entry.key
    return keys


def matched_ignores(raw: Iterable[_RawFinding], project: LoadedProject) -> set[str]:
    """The `ignore:` keys (as written) that one of these findings has."""
    keys = ignore_keys(project)
    found = (Finding(code, "info", message, file, line, table, hint, subject).key
             for code, message, file, line, table, hint, subject in raw)
    return {keys[key] for key in found if key in keys}


def ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings as they are shown: by file, line, code."""
    return tuple(sorted(findings, key=lambda f: (f.file, f.line or 0, f.code, f.message)))
