"""Place every entry of pg_dump's archive into the numbered files of a migration.

Pure: the archive, the objects it describes (`catalog.objects`), the catalog and the layout in; which
file each entry goes to out. The SQL of an entry is pg_dump's own; pgconvoy only decides where it goes.

Each entry first gets the file its kind prefers:
- pre-data (types, functions, tables, sequences, views...): the schema file of the group that loads
  the table it belongs to, else `00-schema-shared.sql`;
- PRIMARY KEY / UNIQUE / EXCLUDE and the foreign keys that can be checked while the rows load
  (`data: {foreign_keys: during}`): the schema file of their table's group;
- post-data, after every data file (`POST_STEPS`): indexes and statistics; the other constraints;
  triggers and rules (they must not fire, or rewrite rows, during the load); row-level security and
  policies; privileges (pg_restore's ACL pass: a REVOKE from the owner must not stop the load);
  materialized view data, publications, subscriptions and event triggers last, as pg_restore does;
- comments and security labels: wherever their object is.
Then the rule that makes every file valid on its own: an entry never goes to a file before an entry it
depends on (it moves to the latest file among its dependencies). Inside a file the archive's order is
kept, and pg_dump's order puts every entry after the entries it depends on.

Entries left out are returned with the reason (the accounting turns them into findings): the objects
of an excluded table, what a platform itself ships, database-level settings. Of the platform's tables
(Supabase's auth.users, storage.objects) only what the application attached moves: its policies and
its triggers (those calling its own functions), after the data like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pgconvoy import graph
from pgconvoy.archive import Archive, Entry, Section
from pgconvoy.catalog.model import Catalog, ForeignKey, Name
from pgconvoy.catalog.objects import DbObject, Key
from pgconvoy.layout import Layout

SHARED_FILE = "00-schema-shared.sql"

# Post-data steps and their offset after the last data file. The numbers are fixed so that a file
# keeps its name whatever else the migration holds; steps with nothing to do are not rendered.
POST_STEPS = {
    "large-objects": 1, "indexes": 2, "constraints": 3, "triggers": 4, "security": 5, "privileges": 6,
    "sequences": 7, "finish": 8, "analyze": 9,
}
BOOKKEEPING = frozenset({"ENCODING", "STDSTRINGS", "SEARCHPATH"})
DATABASE_LEVEL = frozenset({"DATABASE", "DATABASE PROPERTIES"})
_INDEXES = frozenset({"INDEX", "INDEX ATTACH", "STATISTICS"})
_TRIGGERS = frozenset({"TRIGGER", "RULE"})
_SECURITY = frozenset({"POLICY", "ROW SECURITY"})
_PRIVILEGES = frozenset({"ACL", "DEFAULT ACL"})
_FOLLOWERS = frozenset({"COMMENT", "SECURITY LABEL"})  # go wherever their object goes


def post_data_file(layout: Layout, step: str) -> str:
    """The file name of a post-data step, e.g. `post_data_file(layout, "sequences")` -> `23-post-sequences.sql`."""
    return f"{layout.last_data_number + POST_STEPS[step]:02d}-post-{step}.sql"


@dataclass(frozen=True, slots=True)
class Placed:
    entry: Entry
    obj: DbObject | None  # the catalog's view of the object (None for sub-entries such as ACL, COMMENT)
    table: Name | None  # the migrated table it belongs to


@dataclass(frozen=True, slots=True)
class Dropped:
    """An entry left out of the migration."""

    entry: Entry
    reason: str
    table: Name | None = None
    excluded: bool = False  # it belongs to a table project.yml excludes
    harmless: bool = False  # nothing is lost: the platform or CREATE EXTENSION makes it


@dataclass
class Placement:
    files: dict[str, list[Placed]]  # file name -> entries in archive order (only files with entries)
    dropped: list[Dropped] = field(default_factory=list)
    refresh: list[Placed] = field(default_factory=list)  # populated materialized views, refreshed last
    file_of: dict[int, str] = field(default_factory=dict)  # dump id -> file

    def placed(self) -> Iterable[Placed]:
        for entries in self.files.values():
            yield from entries


@dataclass(frozen=True)
class Options:
    excluded: frozenset[Name] = frozenset()  # tables left out: their own entries are dropped
    platform_roles: frozenset[str] = frozenset()  # database-wide objects these roles own are the platform's
    platform_objects: frozenset[tuple[str, str]] = frozenset()  # (type, tag) the platform creates itself
    platform_schemas: frozenset[str] = frozenset()  # of their objects only the application's attachments move


def place(archive: Archive, objects: dict[Key, DbObject], catalog: Catalog, layout: Layout,
          options: Options = Options()) -> Placement:
    return _Placer(archive, objects, catalog, layout, options).run()


class _Placer:
    def __init__(self, archive: Archive, objects: dict[Key, DbObject], catalog: Catalog, layout: Layout,
                 options: Options) -> None:
        self.archive = archive
        self.objects = objects
        self.catalog = catalog
        self.layout = layout
        self.options = options
        self.unit = graph.load_unit(catalog)
        self.group_file = {t: g.schema_file for g in layout.groups for t in g.tables}
        self.order = [SHARED_FILE, *(g.schema_file for g in layout.groups),
                      *(post_data_file(layout, s) for s in POST_STEPS)]
        self.rank = {name: i for i, name in enumerate(self.order)}
        self.late = _late_foreign_keys(catalog, layout)
        self.table_of: dict[int, Name | None] = {}
        self.file_of: dict[int, str] = {}
        self.dropped_ids: set[int] = set()
        self.dropped: list[Dropped] = []

    def run(self) -> Placement:
        placement = Placement({name: [] for name in self.order})
        for entry in self.archive.entries:
            if entry.desc in BOOKKEEPING:
                continue
            obj = self.objects.get(entry.catalog_id) if entry.catalog_id != (0, 0) else None
            table = self._table(entry, obj)
            self.table_of[entry.dump_id] = table
            dropped = self._left_out(entry, obj, table)
            if dropped is not None:
                self.dropped_ids.add(entry.dump_id)
                self.dropped.append(dropped)
                continue
            file = self._latest(self._preferred(entry, obj, table), entry)
            placed = Placed(entry, obj, table)
            placement.files[file].append(placed)
            if entry.desc == "MATERIALIZED VIEW" and obj is not None and obj.populated:
                placement.refresh.append(placed)
        placement.files = {name: entries for name, entries in placement.files.items() if entries}
        placement.file_of = self.file_of
        placement.dropped = self.dropped
        return placement

    # --- which table an entry belongs to ---

    def _table(self, entry: Entry, obj: DbObject | None) -> Name | None:
        if entry.desc == "ROW SECURITY":
            return Name(entry.namespace or "", entry.tag)
        if obj is not None:
            return obj.relation if obj.relation is not None and self._is_table(obj.relation) else None
        if entry.dependencies:  # COMMENT, ACL, TABLE ATTACH, SEQUENCE OWNED BY: the first is their object
            return self.table_of.get(entry.dependencies[0])
        return None

    def _is_table(self, name: Name) -> bool:
        return self.catalog.table(name) is not None or name in self.options.excluded

    # --- what is left out ---

    def _left_out(self, entry: Entry, obj: DbObject | None, table: Name | None) -> Dropped | None:
        if entry.desc in DATABASE_LEVEL or (entry.desc in _FOLLOWERS | _PRIVILEGES and entry.namespace is None
                                            and entry.tag.startswith("DATABASE ")):
            return Dropped(entry, "database-level: the target database is created by the platform or by hand")
        if table is not None and (table in self.options.excluded or self.unit(table) in self.options.excluded):
            return Dropped(entry, f"belongs to excluded table {table}", table, excluded=True)
        if entry.dependencies and entry.desc in _FOLLOWERS | _PRIVILEGES:
            parent = next((d for d in self.dropped if d.entry.dump_id == entry.dependencies[0]), None)
            if parent is not None:
                return Dropped(entry, f"its object is left out: {parent.reason}", parent.table, parent.excluded,
                               parent.harmless)
        if entry.namespace is None and entry.owner in self.options.platform_roles and entry.desc not in _FOLLOWERS:
            return Dropped(entry, f"owned by platform role {entry.owner}: the platform creates it", harmless=True)
        if (entry.desc, entry.tag) in self.options.platform_objects:
            return Dropped(entry, "the platform creates it", harmless=True)
        if entry.namespace in self.options.platform_schemas and entry.desc not in _FOLLOWERS | _PRIVILEGES \
                and not (obj is not None and obj.attachment):
            return Dropped(entry, f"in platform schema {entry.namespace}: the platform creates it", harmless=True)
        if entry.desc == "DEFAULT ACL" and entry.owner in self.options.platform_roles:
            return Dropped(entry, f"default privileges of platform role {entry.owner}: the platform sets them",
                           harmless=True)
        if entry.desc in _PRIVILEGES and entry.namespace in self.options.platform_schemas \
                and entry.owner in self.options.platform_roles:
            # e.g. Supabase's grants on pgvector's functions in `extensions` to postgres WITH GRANT OPTION: the
            # target's platform made them, and a non-superuser cannot grant them back to itself
            return Dropped(entry, f"privileges on an object platform role {entry.owner} owns in platform schema "
                           f"{entry.namespace}: the platform grants them", harmless=True)
        if entry.desc == "COMMENT" and entry.dependencies:
            parent_entry = self.archive.get(entry.dependencies[0])
            target = self.objects.get(parent_entry.catalog_id) if parent_entry is not None else None
            if target is not None and target.default_comment:
                return Dropped(entry, "the extension's own comment: CREATE EXTENSION sets it", harmless=True)
        return None

    # --- where it goes ---

    def _preferred(self, entry: Entry, obj: DbObject | None, table: Name | None) -> str:
        group_file = self.group_file.get(self.unit(table)) if table is not None else None
        desc = entry.desc
        if desc in _PRIVILEGES:
            return self._post("privileges")
        if desc in _FOLLOWERS or entry.section == Section.NONE:
            return SHARED_FILE
        if desc == "BLOB METADATA":
            return self._post("large-objects")
        if entry.section == Section.PRE_DATA:
            return group_file or SHARED_FILE
        if desc == "CONSTRAINT" and obj is not None and obj.contype in ("p", "u", "x"):
            during = self.layout.foreign_keys == "during" and obj.validated is not False
            return group_file if during and group_file else self._post("indexes")
        if desc == "FK CONSTRAINT":
            fk = self._foreign_key(obj)
            in_place = fk is not None and (fk.table, fk.name) not in self.late
            return group_file if in_place and group_file else self._post("constraints")
        if desc in ("CONSTRAINT", "CHECK CONSTRAINT"):
            return self._post("constraints")
        if desc in _INDEXES:
            return self._post("indexes")
        if desc in _TRIGGERS:
            return self._post("triggers")
        if desc in _SECURITY:
            return self._post("security")
        return self._post("finish")  # publications, subscriptions, event triggers, anything newer

    def _post(self, step: str) -> str:
        return post_data_file(self.layout, step)

    def _latest(self, preferred: str, entry: Entry) -> str:
        rank = self.rank[preferred]
        for dep in entry.dependencies:
            file = self.file_of.get(dep)
            if file is not None and self.rank[file] > rank:
                rank = self.rank[file]
        file = self.order[rank]
        self.file_of[entry.dump_id] = file
        return file

    def _foreign_key(self, obj: DbObject | None) -> ForeignKey | None:
        if obj is None or obj.relation is None:
            return None
        table = self.catalog.table(obj.relation)
        return next((fk for fk in table.foreign_keys if fk.name == obj.name), None) if table else None


def _late_foreign_keys(catalog: Catalog, layout: Layout) -> set[tuple[Name, str]]:
    """Foreign keys added after the data: all of them with `foreign_keys: after`; otherwise those that
    point forward in the load order (a self-reference stays: its two-pass rule loads it, unless the
    table is `deferred`), NOT VALID ones (the rows may break them) and those to a table the target
    will not have (excluded from the migration)."""
    unit = graph.load_unit(catalog)
    deferred = {t for g in layout.groups for t in g.deferred}
    forward = {
        (fk.table, fk.name)
        for fks in graph.forward_references(catalog, layout.tables).values()
        for fk in fks
        if not fk.is_self_reference or unit(fk.table) in deferred
    }
    late = set()
    for fk in catalog.foreign_keys:
        known = fk.external or catalog.table(fk.ref_table) is not None
        if layout.foreign_keys == "after" or (fk.table, fk.name) in forward or not fk.validated or not known:
            late.add((fk.table, fk.name))
    return late
