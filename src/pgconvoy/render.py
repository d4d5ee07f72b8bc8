"""Render the schema side of a migration: the shared file, one schema file per group, post-data files.

Pure: a `Catalog` and a `Layout` in, file name -> SQL text out, byte-identical for the same input.
Python decides what goes where (this module); the Jinja2 templates in `templates/` hold the SQL shape.

Files, in the order the runner applies them (by name):
- `00-schema-shared.sql`: schemas, extensions, types, functions and free sequences that no single
  group's table owns (only rendered when it has something in it);
- `NN-schema-GROUP.sql`: each group's tables with their columns, constraints, the foreign keys to
  tables that exist by then, RLS, policies, comments, grants; then the functions that need those
  tables to exist (row-type arguments or results, SQL-standard bodies) and the views that only read
  tables created so far;
- post-data, numbered after the last data file (see `POST_STEPS`):
  `+1 post-indexes` indexes that no constraint implements;
  `+2 post-constraints` foreign keys to later groups or closing a cycle, NOT VALID constraints,
  policies that read tables of later groups;
  `+3 post-triggers` triggers, with their enabled/disabled state (after the data: they must not fire
  during the load);
  `+4 post-views` views that read later objects, materialized views (created empty, then refreshed);
  `+5 post-sequences` reserved for the sequence positions (rendered by the data side, not here);
  `+6 post-analyze` ANALYZE of every migrated table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

import jinja2

from pgconvoy import graph
from pgconvoy.catalog.model import (
    Catalog,
    Column,
    Constraint,
    ForeignKey,
    Function,
    Grant,
    Index,
    Name,
    Policy,
    Sequence,
    Table,
    View,
)
from pgconvoy.layout import Group, Layout
from pgconvoy.quote import ident, literal, qualified

SHARED_FILE = "00-schema-shared.sql"

# Post-data steps and their offset after the last data file. The numbers are fixed so that a file
# keeps its name whatever else the migration holds; steps with nothing to do are not rendered.
POST_STEPS = {"indexes": 1, "constraints": 2, "triggers": 3, "views": 4, "sequences": 5, "analyze": 6}

# A schema-qualified name as PostgreSQL prints it with an empty search_path (bare or double-quoted).
_PART = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QUALIFIED = re.compile(rf"(?<![A-Za-z0-9_$\".]){_PART}\.{_PART}")


def post_data_file(layout: Layout, step: str) -> str:
    """The file name of a post-data step, e.g. `post_data_file(layout, "sequences")` -> `20-post-sequences.sql`."""
    return f"{layout.last_data_number + POST_STEPS[step]:02d}-post-{step}.sql"


def render_schema(catalog: Catalog, layout: Layout) -> dict[str, str]:
    """File name -> SQL text, deterministic (same input, byte-identical output)."""
    plan = _Plan.make(catalog, layout)
    files: dict[str, str] = {}
    shared = _render("schema_shared.sql.j2", plan.shared_context())
    if plan.shared_has_content():
        files[SHARED_FILE] = shared
    for group in layout.groups:
        files[group.schema_file] = _render("schema_group.sql.j2", plan.group_context(group))
    for step, context in plan.post_contexts():
        files[post_data_file(layout, step)] = _render(f"post_{step}.sql.j2", context)
    return files


# --- templates ---------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pgconvoy", "templates"),
        autoescape=False,  # SQL, not HTML: every name and value goes through the quoting filters
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        ident=ident, qualified=qualified, literal=literal, privileges=_privilege_rows, one_line=_one_line
    )
    env.globals.update(column_sql=_column_sql, view_sql=_view_body, sequence_options=_sequence_options)
    return env


def _one_line(text: object) -> str:
    """Text for a `--` comment: a line break in a name or description must not end the comment."""
    return re.sub(r"[\r\n]+", " ", str(text))


def _render(template: str, context: dict[str, object]) -> str:
    text = _environment().get_template(template).render(**context)
    # One blank line at most between statements, one newline at the end.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


@dataclass(frozen=True, slots=True)
class PrivilegeRow:
    privileges: str  # "SELECT, INSERT"
    grantee: str  # quoted role name, or PUBLIC
    grantable: bool


def _privilege_rows(grants: Iterable[Grant]) -> list[PrivilegeRow]:
    """Grants folded into one GRANT per grantee (and grant option), in a fixed order."""
    folded: dict[tuple[str, bool], list[str]] = {}
    for g in grants:
        folded.setdefault((g.grantee, g.grantable), []).append(g.privilege)
    return [
        PrivilegeRow(", ".join(sorted(privs)), "PUBLIC" if grantee == "PUBLIC" else ident(grantee), grantable)
        for (grantee, grantable), privs in sorted(folded.items())
    ]


def _column_sql(column: Column, identity: Sequence | None) -> str:
    """One column of CREATE TABLE: name, type, collation, generated / identity, default, NOT NULL."""
    parts = [ident(column.name), column.type]
    if column.collation:
        parts.append(f"COLLATE {column.collation}")
    if column.generated is not None:
        parts.append(f"GENERATED ALWAYS AS ({column.generated}) {(column.generated_kind or 'stored').upper()}")
    if column.identity:
        parts.append(f"GENERATED {column.identity.upper()} AS IDENTITY")
        if identity is not None:
            parts.append(f"({_sequence_options(identity, with_name=True)})")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    if column.not_null and not column.identity:
        parts.append("NOT NULL")
    return " ".join(parts)


def _sequence_options(seq: Sequence, *, with_name: bool = False) -> str:
    parts = [f"SEQUENCE NAME {qualified(seq.qualified)}"] if with_name else [f"AS {seq.type}"]
    parts += [
        f"START WITH {seq.start}", f"INCREMENT BY {seq.increment}", f"MINVALUE {seq.minimum}",
        f"MAXVALUE {seq.maximum}", f"CACHE {seq.cache}", "CYCLE" if seq.cycle else "NO CYCLE",
    ]
    return " ".join(parts)


def _view_body(view: View) -> str:
    """pg_get_viewdef() text without its trailing semicolon (the template writes its own)."""
    return view.definition.strip().removesuffix(";").rstrip()


# --- placement ---------------------------------------------------------------------------------


@dataclass
class _TableBlock:
    """One table of a group file, with everything the template writes next to it."""

    table: Table
    partitions: list[_TableBlock] = field(default_factory=list)
    columns: list[tuple[Column, Sequence | None]] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)  # inline in CREATE TABLE
    added_constraints: list[Constraint] = field(default_factory=list)  # ALTER TABLE ... ADD (partitions)
    serials: list[Sequence] = field(default_factory=list)  # created before, owned after the table
    owned_sequences: list[Sequence] = field(default_factory=list)  # serial and identity: comments, grants
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)

    @property
    def only(self) -> str:
        """`ONLY ` for ALTER TABLE on a plain table; a partitioned table's changes must reach its partitions."""
        return "" if self.table.kind == "partitioned" else "ONLY "


@dataclass
class _Plan:
    catalog: Catalog
    layout: Layout
    blocks: dict[Name, _TableBlock]  # every rendered table, partitions included
    late_fks: list[ForeignKey]
    late_constraints: list[tuple[Table, Constraint]]
    late_policies: list[Policy]
    group_views: dict[int, list[View]]
    late_views: list[View]
    group_functions: dict[int, list[Function]]
    shared_functions: list[Function]
    free_sequences: list[Sequence]
    partitions: dict[Name, list[Table]] = field(default_factory=dict)  # partitioned table -> its partitions

    @classmethod
    def make(cls, catalog: Catalog, layout: Layout) -> _Plan:
        unit = graph.load_unit(catalog)
        sequences = _owned_sequences(catalog)
        position = {name: i for i, name in enumerate(layout.tables)}
        group_index = {t: i for i, g in enumerate(layout.groups) for t in g.tables}
        # Forward references are added after the data. A self-reference stays in place (two-pass rules
        # load it), except on a table the manifest marks `deferred`, whose rows load with no second pass.
        deferred = {t for g in layout.groups for t in g.deferred}
        forward = {
            (fk.table, fk.name)
            for fks in graph.forward_references(catalog, layout.tables).values()
            for fk in fks
            if not fk.is_self_reference or unit(fk.table) in deferred
        }
        plan = cls(catalog, layout, {}, [], [], [], {}, [], {}, [], [])
        for t in sorted(catalog.tables, key=_key):
            if t.partition_of is not None:
                plan.partitions.setdefault(t.partition_of, []).append(t)
        for name in layout.tables:
            table = catalog.table(name)
            if table is not None:
                plan._add_block(table, sequences, forward)
        plan._place_policies(position, unit)
        plan._place_functions(group_index, unit)
        plan._place_views(group_index, unit)
        placed = {s.qualified for b in plan.blocks.values() for s in b.owned_sequences}
        plan.free_sequences = [s for s in catalog.sequences if s.qualified not in placed and not s.identity]
        return plan

    def _add_block(self, table: Table, sequences: dict[tuple[Name, str], Sequence],
                   forward: set[tuple[Name, str]]) -> _TableBlock:
        block = _TableBlock(table)
        self.blocks[table.qualified] = block
        for column in table.columns:
            seq = sequences.get((table.qualified, column.name))
            if seq is not None:
                block.owned_sequences.append(seq)
                if not seq.identity:
                    block.serials.append(seq)
            if not column.inherited:
                block.columns.append((column, seq if seq is not None and seq.identity else None))
        for con in table.constraints:
            if con.inherited:
                continue
            if not con.validated:
                self.late_constraints.append((table, con))  # the rows may break it: add after the data
            elif table.is_partition:
                block.added_constraints.append(con)
            else:
                block.constraints.append(con)
        for fk in table.foreign_keys:
            if fk.inherited:
                continue
            known = fk.external or self.catalog.table(fk.ref_table) is not None
            late = self.layout.foreign_keys == "after" or (fk.table, fk.name) in forward
            if late or not fk.validated or not known:
                self.late_fks.append(fk)
            else:
                block.foreign_keys.append(fk)
        children = self.partitions.get(table.qualified, [])
        block.partitions = [self._add_block(child, sequences, forward) for child in children]
        return block

    def _place_policies(self, position: dict[Name, int], unit: _Unit) -> None:
        """A policy that reads another relation can only be created once that relation exists."""
        views = {v.qualified for v in self.catalog.views}
        relations = _by_text([t.qualified for t in self.catalog.tables] + sorted(views))
        for block in self.blocks.values():
            me = position.get(unit(block.table.qualified), -1)
            for policy in block.table.policies:
                reads = _references(f"{policy.using or ''} {policy.with_check or ''}", relations)
                later = [r for r in reads if r in views or position.get(unit(r), len(position)) > me]
                (self.late_policies if later else block.policies).append(policy)

    def _place_functions(self, group_index: dict[Name, int], unit: _Unit) -> None:
        """A function whose arguments or result are a table's rows, or whose SQL-standard body (parsed
        when it is created, whatever check_function_bodies says) reads a table, goes after that table."""
        tables = _by_text(t.qualified for t in self.catalog.tables)
        for function in self.catalog.functions:
            if _is_type_constructor(function):
                continue  # CREATE TYPE ... AS RANGE makes these itself
            text = f"{function.returns or ''} {function.arguments}"
            if _has_sql_standard_body(function):
                text += f" {function.definition}"
            groups = [group_index.get(unit(r), -1) for r in _references(text, tables)]
            if groups and max(groups) >= 0:
                self.group_functions.setdefault(max(groups), []).append(function)
            else:
                self.shared_functions.append(function)

    def _place_views(self, group_index: dict[Name, int], unit: _Unit) -> None:
        """Views go to the first group after which everything they read exists; the rest to post-data."""
        views = {v.qualified: v for v in self.catalog.views}
        done: set[Name] = set()
        pending = sorted(views.values(), key=_key)
        last = len(self.layout.groups)

        def exists_after(name: Name, index: int) -> bool:
            if name in views:
                return name in done
            if self.catalog.table(name) is None:
                return True  # outside the migrated schemas (auth.users): already on the target
            return group_index.get(unit(name), last) <= index

        for index in range(last):
            def ready(view: View, index: int = index) -> bool:
                return not view.materialized and all(exists_after(d, index) for d in view.depends_on)

            self.group_views[index] = _ready_in_order(pending, ready, done)
            pending = [v for v in pending if v.qualified not in done]
        self.late_views = _ready_in_order(pending, lambda v: all(exists_after(d, last) for d in v.depends_on), done)
        self.late_views += [v for v in pending if v.qualified not in done]  # a dependency loop: keep them

    # --- contexts for the templates ---

    def _header(self, file: str, holds: str) -> dict[str, object]:
        return {"file": file, "holds": holds, "database": self.catalog.database}

    def shared_context(self) -> dict[str, object]:
        types = sorted(self.catalog.types, key=lambda t: (["enum", "range", "domain", "composite"].index(t.kind),
                                                          t.schema, t.name))
        schemas = [s for s in self.catalog.schemas if not s.managed]
        return self._header(SHARED_FILE, "schemas, extensions, types, functions and sequences shared by groups") | {
            "schemas": schemas,
            "extensions": self.catalog.extensions,
            "types": types,
            "functions": self.shared_functions,
            "sequences": self.free_sequences,
        }

    def shared_has_content(self) -> bool:
        return bool(
            [s for s in self.catalog.schemas if not s.managed and (s.name != "public" or s.comment or s.grants)]
            or self.catalog.extensions or self.catalog.types or self.shared_functions or self.free_sequences
        )

    def group_context(self, group: Group) -> dict[str, object]:
        index = self.layout.groups.index(group)
        roots = [self.blocks[t] for t in _parents_first(group.tables, self.catalog) if t in self.blocks]
        return self._header(group.schema_file, f'schema of group {group.number:02d} "{group.name}"') | {
            "group": group,
            "blocks": roots,
            "functions": self.group_functions.get(index, []),
            "views": self.group_views.get(index, []),
        }

    def post_contexts(self) -> Iterator[tuple[str, dict[str, object]]]:
        indexes = self._post_indexes()
        if indexes or any(i.comment for b in self.blocks.values() for i in b.table.indexes):
            yield "indexes", self._post_header("indexes", "indexes that no constraint implements") | {
                "indexes": indexes,
                "commented": sorted((i for b in self.blocks.values() for i in b.table.indexes if i.comment),
                                    key=lambda i: (i.table, i.name)),
            }
        if self.late_fks or self.late_constraints or self.late_policies:
            yield "constraints", self._post_header(
                "constraints", "foreign keys to later groups or closing cycles, NOT VALID constraints, "
                "policies that read later tables") | {
                "foreign_keys": [(fk, self._only(fk.table)) for fk in self.late_fks],
                "constraints": [(t, c, self._only(t.qualified)) for t, c in self.late_constraints],
                "policies": self.late_policies,
            }
        triggers = [t for b in self.blocks.values() for t in b.table.triggers]
        if triggers:
            yield "triggers", self._post_header("triggers", "triggers, created after the data so they never fire "
                                                "during the load") | {"triggers": triggers}
        if self.late_views:
            yield "views", self._post_header("views", "views that read later objects and materialized views") | {
                "views": self.late_views,
                "materialized": [v for v in self.late_views if v.materialized],
            }
        if self.blocks:
            yield "analyze", self._post_header("analyze", "fresh planner statistics for every migrated table") | {
                # ANALYZE of a partitioned table samples its partitions and recurses into them.
                "tables": [b.table.qualified for b in self.blocks.values() if not b.table.is_partition],
            }

    def _post_header(self, step: str, holds: str) -> dict[str, object]:
        return self._header(post_data_file(self.layout, step), holds)

    def _only(self, name: Name) -> str:
        block = self.blocks.get(name)
        return block.only if block is not None else "ONLY "

    def _post_indexes(self) -> list[str]:
        """CREATE INDEX statements, partitions' indexes first: creating the partitioned table's index
        afterwards (without ONLY) attaches them, so every index keeps its name."""
        depth = {name: self._partition_depth(name) for name in self.blocks}
        found = sorted(
            (i for b in self.blocks.values() for i in b.table.indexes if i.constraint is None),
            key=lambda i: (-depth[i.table], i.table, i.name),
        )
        return [_attaching_definition(i) for i in found]

    def _partition_depth(self, name: Name) -> int:
        table = self.catalog.table(name)
        return 0 if table is None or table.partition_of is None else 1 + self._partition_depth(table.partition_of)


_Unit = Callable[[Name], Name]


def _attaching_definition(index: Index) -> str:
    prefix = f"INDEX {ident(index.name)} ON ONLY "
    return index.definition.replace(prefix, f"INDEX {ident(index.name)} ON ", 1)


def _is_type_constructor(function: Function) -> bool:
    """A range or multirange constructor: an internal function named after the type it returns.

    The catalog query reads them as ordinary functions (they depend on their type internally)."""
    return function.language == "internal" and function.returns == qualified(function.qualified)


def _has_sql_standard_body(function: Function) -> bool:
    """`BEGIN ATOMIC ... END` or `RETURN expr`: pg_get_functiondef() prints them without `AS $...$`."""
    body = function.definition or ""
    return function.language == "sql" and not re.search(r"^AS ", body, re.M) and bool(
        re.search(r"^(BEGIN ATOMIC|RETURN )", body, re.M))


def _owned_sequences(catalog: Catalog) -> dict[tuple[Name, str], Sequence]:
    return {s.owned_by: s for s in catalog.sequences if s.owned_by is not None and catalog.table(s.owned_by[0])}


def _by_text(names: Iterable[Name]) -> dict[str, Name]:
    """Names by the text PostgreSQL prints for them with an empty search_path."""
    return {qualified(n): n for n in names}


def _references(text: str, known: dict[str, Name]) -> list[Name]:
    """Relations of `known` named (schema-qualified, as PostgreSQL prints them) in an expression or type."""
    return sorted({known[m] for m in _QUALIFIED.findall(text) if m in known})


def _ready_in_order(pending: list[View], ready: Callable[[View], bool], done: set[Name]) -> list[View]:
    """Views in dependency order (by name among those ready together); marks them done."""
    placed: list[View] = []
    progress = True
    while progress:
        progress = False
        for view in pending:
            if view.qualified not in done and ready(view):
                done.add(view.qualified)
                placed.append(view)
                progress = True
                break
    return placed


def _parents_first(tables: Iterable[Name], catalog: Catalog) -> list[Name]:
    """The group's order, except that a table comes after the tables it INHERITS from (in this group)."""
    names = list(tables)
    members = set(names)
    out: list[Name] = []
    seen: set[Name] = set()

    def visit(name: Name) -> None:
        if name in seen:
            return
        seen.add(name)
        table = catalog.table(name)
        for parent in table.inherits if table else ():
            if parent in members:
                visit(parent)
        out.append(name)

    for name in names:
        visit(name)
    return out


def _key(obj: Table | View) -> tuple[str, str]:
    return (obj.schema, obj.name)
