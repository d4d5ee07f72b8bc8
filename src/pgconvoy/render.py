"""Render the schema side of a migration: the text of every file `placement` filled.

Pure: a `Placement` in, file name -> SQL text out, byte-identical for the same input. The SQL of each
entry is pg_dump's; this module adds what pg_restore adds when it prints an entry (the tablespace and
table access method it needs, `lo_create` for large objects, ownership when `owners: keep`), and the
framing the templates in `templates/` hold: the header, a `--` line naming each entry, the reset of
privileges a target's default privileges added, `REFRESH MATERIALIZED VIEW`, `ANALYZE`.

Files, in the order the runner applies them (by name):
- `00-schema-shared.sql`: what no group's table owns (schemas, extensions, types, functions...);
- `NN-schema-GROUP.sql`: each group's tables and what belongs to them, the views and functions that
  need them;
- post-data, numbered after the last data file (`placement.POST_STEPS`): large objects, indexes,
  constraints, triggers and rules, row-level security, privileges, sequence positions (written by the
  data side), finish (materialized view data, publications, subscriptions, event triggers), analyze.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import jinja2

from pgconvoy import roles as roles_
from pgconvoy import sqlfile
from pgconvoy.archive import Entry
from pgconvoy.catalog.model import Catalog, ForeignKey, Name
from pgconvoy.catalog.objects import PG_CLASS, PG_EXTENSION, PG_LARGEOBJECT, PG_NAMESPACE, PG_PROC, PG_TYPE
from pgconvoy.layout import Layout, run_order
from pgconvoy.placement import SHARED_FILE, Placed, Placement, post_data_file
from pgconvoy.quote import ident, literal, one_line, qualified
from pgconvoy.rollback import ROLLBACK_FILE, render_rollback

PG_FOREIGN_DATA_WRAPPER = 2328
PG_FOREIGN_SERVER = 1417
PG_LANGUAGE = 2612
# Catalogs of the objects that carry privileges (GRANT ... ON <kind>), and pg_class kinds that do;
# an extension stands for its members.
_WITH_PRIVILEGES = frozenset({PG_CLASS, PG_PROC, PG_TYPE, PG_NAMESPACE, PG_FOREIGN_DATA_WRAPPER, PG_FOREIGN_SERVER,
                              PG_LANGUAGE, PG_LARGEOBJECT, PG_EXTENSION})
_RELKINDS_WITH_PRIVILEGES = frozenset({"r", "p", "v", "m", "f", "S"})
_NOT_CREATING = frozenset({"COMMENT", "ACL", "SECURITY LABEL", "DEFAULT ACL"})

# pg_restore's _getObjectDescription(): the entry types ALTER ... OWNER names by their tag...
_OWNED_BY_TAG = frozenset({
    "COLLATION", "CONVERSION", "DOMAIN", "FOREIGN TABLE", "MATERIALIZED VIEW", "SEQUENCE", "STATISTICS", "TABLE",
    "TEXT SEARCH DICTIONARY", "TEXT SEARCH CONFIGURATION", "TYPE", "VIEW", "PROCEDURAL LANGUAGE", "SCHEMA",
    "EVENT TRIGGER", "FOREIGN DATA WRAPPER", "SERVER", "PUBLICATION", "SUBSCRIPTION",
})
# ... and those it names as their DROP statement does.
_OWNED_BY_DROP = frozenset({"AGGREGATE", "FUNCTION", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE"})


@dataclass(frozen=True)
class Options:
    owners: bool = False  # `owners: keep`: ALTER ... OWNER TO the source's owner
    roles: tuple[roles_.Role, ...] = ()  # project.yml `roles:`, created first in the shared file


@dataclass
class _Block:
    label: str
    sql: str
    settings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Batch:
    """A run of consecutive statements of a file `run` may spread over workers (manifest.json `batches`):
    `session` ones (the header's settings) run first in every session, `table` ones build one plain
    table's indexes and keys and may run beside another table's, `serial` ones run after all of them, in
    file order (index attachments, statistics, anything of a partitioned table)."""

    kind: str  # session | table | serial
    statements: int
    table: Name | None = None


PARALLEL_DESCS = frozenset({"INDEX", "CONSTRAINT"})


def render_schema(placement: Placement, catalog: Catalog, layout: Layout, options: Options = Options(),
                  batches: dict[str, list[Batch]] | None = None) -> dict[str, str]:
    """File name -> SQL text for every file with entries, plus `refresh`/`analyze` when they have work.
    `batches` receives how the indexes file divides into statements workers may run side by side."""
    batched = {post_data_file(layout, "indexes"): "indexes", post_data_file(layout, "constraints"): "constraints"}
    files = {name: _render_file(name, entries, placement, catalog, layout, options)
             for name, entries in placement.files.items()
             if name != post_data_file(layout, "finish") and name not in batched}
    if options.roles and SHARED_FILE not in files:
        files[SHARED_FILE] = _render_file(SHARED_FILE, [], placement, catalog, layout, options)
    for name, kind in batched.items():
        if placement.files.get(name):
            files[name], found = _render_batched(name, placement.files[name], placement, catalog, layout, options,
                                                 kind)
            if batches is not None:
                batches[name] = found
    finish = post_data_file(layout, "finish")
    if placement.files.get(finish) or placement.refresh:
        files[finish] = _render_file(finish, placement.files.get(finish, []), placement, catalog, layout, options)
    migrated = set(layout.tables)
    tables = [t.qualified for t in catalog.tables if t.qualified in migrated and not t.is_partition]
    if tables:
        analyze = post_data_file(layout, "analyze")
        files[analyze] = _render("post_analyze.sql.j2", _header(analyze, catalog, _HOLDS["analyze"]) |
                                 {"tables": tables})
    files[ROLLBACK_FILE] = render_rollback(placement)
    return dict(sorted(files.items(), key=lambda item: run_order(item[0])))


_HOLDS = {
    "shared": "what no group's table owns: schemas, extensions, types, functions, operators, ...",
    "large-objects": "large objects: created here, their contents follow",
    "indexes": "indexes, index attachments and extended statistics",
    "constraints": "foreign keys to later groups or closing cycles, NOT VALID and NOT ENFORCED constraints",
    "triggers": "triggers and rules, created after the data so they never fire during the load",
    "security": "row-level security and policies",
    "privileges": "the source's privileges and default privileges (pg_restore's ACL pass)",
    "finish": "materialized view data, publications, subscriptions and event triggers, last as pg_restore does",
    "analyze": "fresh planner statistics for every migrated table",
}


def _render_file(name: str, entries: list[Placed], placement: Placement, catalog: Catalog, layout: Layout,
                 options: Options) -> str:
    blocks = _blocks(entries, placement)
    created = [p for p in entries if _carries_privileges(p)]
    context = _header(name, catalog, _holds(name, layout)) | {
        "blocks": blocks,
        "roles": roles_.render(options.roles) if options.roles and name == SHARED_FILE else "",
        "reset": [p.obj.address for p in created if p.obj is not None],
        "privileges_file": post_data_file(layout, "privileges"),
        "owners": [o for p in entries if options.owners for o in _owner_statements(p.entry)],
        "refresh": [qualified(Name(p.entry.namespace or "", p.entry.tag)) for p in placement.refresh]
        if name == post_data_file(layout, "finish") else [],
    }
    return _render("entries.sql.j2", context)


def _render_batched(name: str, entries: list[Placed], placement: Placement, catalog: Catalog, layout: Layout,
                    options: Options, kind: str) -> tuple[str, list[Batch]]:
    """A post-data file `run` may spread over workers, with the statements of each block counted for
    `Batch`es (each block sets what its session needs: a worker runs it in a session of its own).
    - indexes: each plain table's indexes and keys first (a `table` batch each), then the rest in file
      order (index attachments, statistics, partitioned tables: `serial`);
    - constraints: every entry in file order (`serial`), the foreign keys of plain tables added NOT VALID,
      which is quick; then one VALIDATE CONSTRAINT per such key (a `table` batch per referencing table).
      VALIDATE takes locks that do not conflict with each other, so they run side by side, as pg_restore
      cannot; the result is the same validated constraint."""
    header = _render_file(name, [], placement, catalog, layout, options)
    first: list[tuple[str, Batch]] = []
    rest: list[tuple[str, Batch]] = []
    validate: list[tuple[str, Batch]] = []
    for placed in entries:
        entry = placed.entry
        table = catalog.table(placed.table) if placed.table is not None else None
        plain = table is not None and table.kind == "table" and not table.is_partition
        sql_text = _entry_sql(entry, placement)
        if kind == "indexes":
            tablespace = f"SET default_tablespace = {ident(entry.tablespace) if entry.tablespace else literal('')};\n"
            text = f"{tablespace}-- {one_line(entry.label)}\n{sql_text}\n\n"
            if plain and entry.desc in PARALLEL_DESCS:
                first.append((text, Batch("table", _count(text), placed.table)))
            else:
                rest.append((text, Batch("serial", _count(text))))
            continue
        fk = _validated_later(placed, catalog) if plain else None
        if fk is not None and sql_text.endswith(";") and _count(sql_text) == 1:
            sql_text = sql_text[:-1].rstrip() + " NOT VALID;"
            statement = (f"ALTER TABLE ONLY {qualified(fk.table)} VALIDATE CONSTRAINT {ident(fk.name)};\n")
            validate.append((statement, Batch("table", 1, fk.table)))
        text = f"-- {one_line(entry.label)}\n{sql_text}\n\n"
        rest.append((text, Batch("serial", _count(text))))
    owners = [o for p in entries if options.owners for o in _owner_statements(p.entry)]
    if owners:
        tail = "\n".join(owners) + "\n"
        rest.append((tail, Batch("serial", _count(tail))))
    if validate:
        validate.insert(0, ("\n-- Validation of the foreign keys added NOT VALID above, one statement each.\n",
                            Batch("table", 0)))
    blocks = [*first, *rest, *validate]
    text = header + "".join(t for t, _ in blocks)
    return text, [b for b in [Batch("session", _count(header)), *(b for _, b in blocks)] if b.statements]


def _validated_later(placed: Placed, catalog: Catalog) -> ForeignKey | None:
    """The enforced, valid foreign key of a FK CONSTRAINT entry between plain tables (one that can be
    added NOT VALID and validated on its own), or None."""
    obj = placed.obj
    if placed.entry.desc != "FK CONSTRAINT" or obj is None or obj.relation is None:
        return None
    table = catalog.table(obj.relation)
    fk = next((f for f in table.foreign_keys if f.name == obj.name), None) if table else None
    if fk is None or not fk.validated or not fk.enforced or fk.inherited:
        return None
    parent = catalog.table(fk.ref_table)
    return fk if parent is not None and parent.kind == "table" else None


def _count(text: str) -> int:
    return sum(1 for _ in sqlfile.split(text.encode().splitlines(keepends=True)))


def _holds(name: str, layout: Layout) -> str:
    if name == SHARED_FILE:
        return _HOLDS["shared"]
    group = next((g for g in layout.groups if g.schema_file == name), None)
    if group is not None:
        return f'schema of group {group.number:02d} "{group.name}"' + (
            f": {group.description}" if group.description else "")
    step = name.split("-post-", 1)[1].removesuffix(".sql")
    return _HOLDS.get(step, step)


def _blocks(entries: list[Placed], placement: Placement) -> list[_Block]:
    tablespace: str | None = None
    access_method: str | None = None
    blocks = []
    for placed in entries:
        entry = placed.entry
        block = _Block(entry.label, _entry_sql(entry, placement))
        if entry.tablespace is not None and entry.tablespace != tablespace:
            tablespace = entry.tablespace
            block.settings.append(f"SET default_tablespace = {ident(tablespace) if tablespace else literal('')};")
        if entry.tableam and entry.relkind != "p" and entry.tableam != access_method:
            access_method = entry.tableam
            block.settings.append(f"SET default_table_access_method = {ident(access_method)};")
        blocks.append(block)
    return blocks


def _entry_sql(entry: Entry, placement: Placement) -> str:
    """pg_dump's SQL for an entry as pg_restore prints it."""
    if entry.desc == "BLOB METADATA":
        return "\n".join(f"SELECT pg_catalog.lo_create('{oid}');" for oid in entry.large_objects)
    if entry.desc == "ACL" and entry.tag.startswith("LARGE OBJECTS"):
        return _acl_per_blob(entry, placement)
    text = entry.defn.strip()
    if entry.relkind == "p" and entry.tableam:  # a partitioned table's access method: ALTER, not SET
        text += f"\nALTER TABLE {qualified(Name(entry.namespace or '', entry.tag))} SET ACCESS METHOD " \
                f"{ident(entry.tableam)};"
    return text


def _acl_per_blob(entry: Entry, placement: Placement) -> str:
    """An ACL entry of a group of large objects holds the commands for the first one: repeat them for
    each object of its BLOB METADATA entry, as pg_restore's IssueACLPerBlob does."""
    metadata = next((p.entry for p in placement.placed() if p.entry.dump_id == entry.dependencies[0]), None)
    if metadata is None:
        return entry.defn.strip()
    commands = []
    for statement in _split_outside_quotes(entry.defn):
        head, _, rest = statement.partition("LARGE OBJECT ")
        tail = rest.lstrip("0123456789")
        commands += [f"{head}LARGE OBJECT {oid}{tail};" for oid in metadata.large_objects]
    return "\n".join(commands)


def _split_outside_quotes(text: str) -> list[str]:
    """`GRANT ...; REVOKE ...;` into commands; a `;` inside a double-quoted role name does not split."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    return [p for p in parts if p]


def _carries_privileges(placed: Placed) -> bool:
    obj = placed.obj
    if obj is None or placed.entry.desc in _NOT_CREATING or obj.key[0] not in _WITH_PRIVILEGES:
        return False
    return obj.key[0] != PG_CLASS or obj.relkind in _RELKINDS_WITH_PRIVILEGES


def owner_of(entry: Entry) -> str | None:
    """The role `owners: keep` makes the entry's owner (ALTER ... OWNER TO), None when it sets none."""
    return entry.owner if _owner_statements(entry) else None


def _owner_statements(entry: Entry) -> list[str]:
    """`ALTER ... OWNER TO`, as pg_restore writes it when it does not use SET SESSION AUTHORIZATION."""
    if not entry.owner or not entry.drop:
        return []
    owner = ident(entry.owner)
    if entry.desc == "BLOB METADATA":
        return [f"ALTER LARGE OBJECT {oid} OWNER TO {owner};" for oid in entry.large_objects]
    if entry.desc in _OWNED_BY_TAG:
        name = f"{ident(entry.namespace)}.{ident(entry.tag)}" if entry.namespace else ident(entry.tag)
        return [f"ALTER {entry.desc.replace('PROCEDURAL ', '')} {name} OWNER TO {owner};"]
    if entry.desc in _OWNED_BY_DROP:
        return [f"ALTER {entry.drop.strip().removeprefix('DROP ').rstrip(';').strip()} OWNER TO {owner};"]
    return []


# --- templates ---------------------------------------------------------------------------------


def _header(file: str, catalog: Catalog, holds: str) -> dict[str, object]:
    return {"file": file, "holds": holds, "database": catalog.database}


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pgconvoy", "templates"),
        autoescape=False,  # SQL, not HTML: names and values go through the quoting filters
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(ident=ident, qualified=qualified, literal=literal, one_line=one_line,
                       text_array=_text_array)
    return env


def _text_array(values: tuple[str, ...]) -> str:
    """A text[] literal: ARRAY['a', 'b']::text[]."""
    return "ARRAY[" + ", ".join(literal(v) for v in values) + "]::text[]"


def _render(template: str, context: dict[str, object]) -> str:
    text = _environment().get_template(template).render(**context)
    # One blank line at most between statements, one newline at the end.
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
