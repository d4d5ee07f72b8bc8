"""Every object accounted for: what the source holds against what `target/` creates.

Pure. The source's side is `catalog.objects` (read from the system catalogs, not from pg_dump), the
migration's side is the placement of pg_dump's archive. Each object that needs an archive entry of its
own must have one in a file; each comment and each grant must have its COMMENT / ACL entry there too
(counted per object, a table's columns and inline constraints with the table). What is missing becomes
a finding naming the object and why; silence would be a lost object.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pgconvoy.archive import Archive, Entry
from pgconvoy.catalog.model import Name
from pgconvoy.catalog.objects import PG_CLASS, PG_LARGEOBJECT, PG_USER_MAPPING, DbObject, Key
from pgconvoy.placement import Placement

NOT_MIGRATED = "PC601"
EXCLUDED = "PC602"
DATABASE_SETTINGS = "PC603"

# Why pg_dump leaves an object out of its archive, where it is known.
_NOT_DUMPED = {
    "subscription": "pg_dump dumps subscriptions only when connected as a superuser",
    "security label": "security labels need their label provider loaded",
}


@dataclass(frozen=True, slots=True)
class Raw:
    """A finding before its severity is judged (`reconcile.judge`)."""

    code: str
    message: str
    table: Name | None = None
    hint: str | None = None
    subject: str | None = None  # the object, for the finding's key


def account(objects: dict[Key, DbObject], archive: Archive, placement: Placement,
            excluded: Iterable[Name] = ()) -> list[Raw]:
    ledger = _Ledger(objects, archive, placement, frozenset(excluded))
    return [*ledger.missing_objects(), *ledger.missing_properties(), *ledger.excluded_tables(),
            *ledger.database_level()]


class _Ledger:
    def __init__(self, objects: dict[Key, DbObject], archive: Archive, placement: Placement,
                 excluded: frozenset[Name]) -> None:
        self.objects = objects
        self.archive = archive
        self.placement = placement
        self.excluded = excluded
        self.placed = {p.entry.dump_id for p in placement.placed()}
        self.dropped = {d.entry.dump_id: d for d in placement.dropped}
        self.by_key = {e.catalog_id: e for e in archive.entries if e.catalog_id != (0, 0)}
        self.by_tag = {(e.desc, e.namespace, e.tag): e for e in archive.entries}
        self.blobs = {oid: e for e in archive.entries if e.desc == "BLOB METADATA" for oid in e.large_objects}

    def counted(self, entry: Entry) -> bool:
        """In a file, or left out for a reason that loses nothing (or that the user chose)."""
        dropped = self.dropped.get(entry.dump_id)
        return entry.dump_id in self.placed or (dropped is not None and (dropped.harmless or dropped.excluded))

    def _skipped(self, obj: DbObject) -> bool:
        return obj.relation is not None and obj.relation in self.excluded

    def entry_of(self, obj: DbObject) -> Entry | None:
        if obj.key[0] == PG_USER_MAPPING:
            return self.by_tag.get(("USER MAPPING", None, obj.name or ""))
        if obj.key[0] == PG_LARGEOBJECT:
            return self.blobs.get(obj.key[1])
        return self.by_key.get(obj.key)

    def missing_objects(self) -> Iterable[Raw]:
        for obj in self.objects.values():
            if not obj.own_entry or self._skipped(obj):
                continue
            entry = self.entry_of(obj)
            if entry is None:
                reason = _NOT_DUMPED.get(obj.kind, "pg_dump did not dump it")
                yield _lost(obj, reason)
            elif not self.counted(entry):
                dropped = self.dropped.get(entry.dump_id)
                yield _lost(obj, dropped.reason if dropped is not None else "no file holds it")
            if obj.key[0] == PG_CLASS and obj.rls and obj.relation is not None and obj.relkind in ("r", "p"):
                rls = self.by_tag.get(("ROW SECURITY", obj.relation.schema, obj.relation.name))
                if rls is None or not self.counted(rls):
                    yield _lost(obj, "its row-level security is not enabled by any file", "row-level security of")

    def missing_properties(self) -> Iterable[Raw]:
        """Comments and grants, counted per object (a table's columns and inline constraints with it)."""
        comments: Counter[Key] = Counter()
        grants: Counter[Key] = Counter()
        for obj in self.objects.values():
            if self._skipped(obj):
                continue
            comments[obj.owner_key] += obj.comments
            grants[obj.owner_key] += int(obj.acl_changed) + obj.column_acls
        found_comments: Counter[Key] = Counter()
        found_grants: Counter[Key] = Counter()
        for entry in self.archive.entries:
            if entry.desc not in ("COMMENT", "ACL") or not self.counted(entry):
                continue
            found = found_comments if entry.desc == "COMMENT" else found_grants
            for key in self._subjects(entry):
                found[key] += 1
        for key, expected in sorted(comments.items()):
            if found_comments[key] < expected and key in self.objects:
                yield _lost(self.objects[key], f"{expected - found_comments[key]} of its {expected} comments "
                            "are in no file", "comment on")
        for key, expected in sorted(grants.items()):
            if found_grants[key] < expected and key in self.objects:
                yield _lost(self.objects[key], f"{expected - found_grants[key]} of its {expected} grant lists "
                            "are in no file", "privileges on")

    def _subjects(self, entry: Entry) -> list[Key]:
        """The objects a COMMENT or ACL entry is about, as the counts above key them."""
        if entry.tag.startswith("LARGE OBJECTS") and entry.dependencies:  # one ACL for a group of them
            metadata = self.archive.get(entry.dependencies[0])
            return [(PG_LARGEOBJECT, oid) for oid in metadata.large_objects] if metadata else []
        if entry.tag.startswith("LARGE OBJECT "):
            oid = entry.tag.removeprefix("LARGE OBJECT ")
            return [(PG_LARGEOBJECT, int(oid))] if oid.isdigit() else []
        parent = self.archive.get(entry.dependencies[0]) if entry.dependencies else None
        if parent is None:
            return []
        key = (PG_CLASS, parent.catalog_id[1]) if parent.catalog_id[0] == 0 else parent.catalog_id
        obj = self.objects.get(key)
        return [obj.owner_key] if obj is not None else []

    def excluded_tables(self) -> Iterable[Raw]:
        left = Counter(d.table for d in self.placement.dropped if d.excluded and d.table is not None)
        for table, count in sorted(left.items()):
            yield Raw(EXCLUDED, f"{table} is excluded: its {count} schema objects are not migrated", table,
                      "remove it from exclude: in project.yml to migrate it")

    def database_level(self) -> Iterable[Raw]:
        # The database itself, and who may connect to it, are the target's (its platform's) to decide;
        # its settings and comment are the application's and are named.
        kept = [d.entry for d in self.placement.dropped
                if d.reason.startswith("database-level") and d.entry.desc not in ("DATABASE", "ACL")]
        if kept:
            what = ", ".join(sorted({e.desc.lower() if e.desc != "DATABASE PROPERTIES" else "settings"
                                     for e in kept}))
            yield Raw(DATABASE_SETTINGS, f"database-level {what} of the source are not migrated",
                      hint="apply ALTER DATABASE ... SET and COMMENT ON DATABASE on the target by hand (its "
                      "database is created by the platform or by you)")


def _lost(obj: DbObject, reason: str, what: str = "") -> Raw:
    label = f"{what} {obj.kind} {obj.identity}".strip()
    return Raw(NOT_MIGRATED, f"not migrated: {label}: {reason}", obj.relation,
               "migrate it by hand, or report the object kind to pgconvoy", subject=label)


