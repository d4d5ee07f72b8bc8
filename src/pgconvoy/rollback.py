"""`target/rollback.sql`: undo everything the migration creates, so `rollback` then `run` works.

Made from the placement, never from the SQL: every entry a file of target/ creates, in the reverse of
the order `run` applies them, as pg_dump's own DROP statement for it (the one `pg_restore --clean`
runs), with `IF EXISTS` inserted as `pg_restore --if-exists` does, so a rollback after a partial run
drops what is there and passes over what is not. Nothing is dropped with CASCADE: an object of the
target that the migration did not create, and that depends on one it did, stops the rollback (in its
transaction) instead of going with it. Extensions stay unless they live in a schema the migration
creates (created IF NOT EXISTS, the target may have had them). Default privileges stay as the
migration set them: they are changed, not created, and what the target had before is not known when
compile writes this file (running the migration again sets them the same). Large objects are unlinked
by oid. Last, the run state (schema `pgconvoy`) goes, so that a fresh run starts from the first file.

Run it as a file applies: `psql -v ON_ERROR_STOP=1 --single-transaction -f target/rollback.sql`.
"""

from __future__ import annotations

from pgconvoy.archive.toc import Entry
from pgconvoy.layout import run_order
from pgconvoy.placement import Placement

ROLLBACK_FILE = "rollback.sql"
STATE_SCHEMA = "pgconvoy"

# The word after DROP in an entry's drop statement, where it is not the entry's type.
_DROP_KEYWORD = {"FK CONSTRAINT": "CONSTRAINT", "CHECK CONSTRAINT": "CONSTRAINT", "CONSTRAINT": "CONSTRAINT",
                 "TABLE ATTACH": "", "INDEX ATTACH": "", "PROCEDURAL LANGUAGE": "LANGUAGE",
                 "FOREIGN TABLE": "FOREIGN TABLE", "MATERIALIZED VIEW": "MATERIALIZED VIEW"}
# What a table takes with it when it is dropped: dropped on its own only when the migration did not create
# the table (a trigger or policy the application put on a platform table). A partition's primary key,
# inherited from its parent's, cannot even be dropped alone. Foreign keys are not among them: a table
# referenced by one cannot be dropped (no CASCADE) until the key is gone.
_GOES_WITH_ITS_TABLE = frozenset({"CONSTRAINT", "CHECK CONSTRAINT", "INDEX", "INDEX ATTACH", "TABLE ATTACH",
                                  "TRIGGER", "POLICY", "ROW SECURITY", "DEFAULT", "RULE", "STATISTICS",
                                  "SEQUENCE OWNED BY"})
# ALTER TABLE ... ALTER COLUMN ... DROP DEFAULT has no IF EXISTS of its own (pg_restore's exception).
_NO_IF_EXISTS = frozenset({"DEFAULT"})
_UNLINK = "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '{oid}';"


def render_rollback(placement: Placement) -> str:
    lines = [
        "-- Undoes what the files of this directory create, last first: pg_dump's DROP statement of each",
        "-- object, with IF EXISTS (a partial run is undone too), never CASCADE (an object the target had",
        "-- that depends on one of them stops the rollback). Then the run state, so that `pgconvoy run`",
        "-- starts again from the first file. psql -v ON_ERROR_STOP=1 --single-transaction -f rollback.sql",
        "SET client_min_messages = warning;",
    ]
    created = {p.table for p in placement.placed() if p.entry.desc == "TABLE" and p.table is not None}
    schemas = {p.entry.dump_id for p in placement.placed() if p.entry.desc == "SCHEMA"}
    for name in sorted(placement.files, key=run_order, reverse=True):
        drops = [d for placed in reversed(placement.files[name])
                 if not (placed.entry.desc in _GOES_WITH_ITS_TABLE and placed.table in created)
                 and (d := drop_statement(placed.entry,
                                          in_created_schema=bool(schemas & set(placed.entry.dependencies))))]
        if drops:
            lines += ["", f"-- {name}", *drops]
    lines += ["", f"DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE;  -- the run state pgconvoy keeps on the target"]
    return "\n".join(lines) + "\n"


def drop_statement(entry: Entry, *, in_created_schema: bool = False) -> str:
    """The entry's DROP as pg_restore --clean --if-exists writes it; "" when the entry creates nothing
    of its own (comments, grants, sequence ownership), and for an extension outside the schemas the
    migration creates: it is created IF NOT EXISTS, so the target may have had it (a platform's pgcrypto,
    vector), and the next run's CREATE EXTENSION IF NOT EXISTS passes over it. One in a schema the
    migration creates did not exist before the run."""
    drop = entry.drop.strip()
    if not drop or (entry.desc == "EXTENSION" and not in_created_schema):
        return ""
    if entry.desc == "BLOB METADATA":  # its drop is a placeholder: pg_restore unlinks the oids it lists
        return "\n".join(_UNLINK.format(oid=oid) for oid in entry.large_objects)
    if drop.startswith("ALTER TABLE "):
        drop = "ALTER TABLE IF EXISTS " + drop[len("ALTER TABLE "):]
    if entry.desc in _NO_IF_EXISTS:
        return drop
    keyword = _DROP_KEYWORD.get(entry.desc, entry.desc)
    marker = f"DROP {keyword} " if keyword else ""
    if marker and marker in drop and f"{marker}IF EXISTS " not in drop:
        drop = drop.replace(marker, f"{marker}IF EXISTS ", 1)
    return drop
