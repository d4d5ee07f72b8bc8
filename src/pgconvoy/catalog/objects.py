"""Every object a migration must account for (`sql/objects.sql`), keyed as pg_dump's archive keys its
entries: (oid of the system catalog, oid of the object)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pgconvoy.catalog.model import Name

Key = tuple[int, int]  # (classid, objid)

PG_CLASS = 1259
PG_TYPE = 1247
PG_PROC = 1255
PG_NAMESPACE = 2615
PG_CONSTRAINT = 2606
PG_LARGEOBJECT = 2613
PG_USER_MAPPING = 1418
PG_EXTENSION = 3079


@dataclass(frozen=True, slots=True)
class DbObject:
    key: Key
    kind: str  # pg_identify_object()'s type: "table", "function", "table constraint", ...
    identity: str  # pg_identify_object()'s identity, quoted as SQL writes it: kinds.secret_count()
    schema: str | None
    name: str | None  # unquoted: relname, conname, proname, ...; for a user mapping, pg_dump's tag
    own_entry: bool  # pg_dump gives it an archive entry of its own
    parent: Key | None  # the table (or domain) it belongs to
    relation: Name | None  # the table or view it is, or belongs to
    acl_changed: bool
    column_acls: int
    comments: int
    contype: str | None = None
    validated: bool | None = None
    populated: bool | None = None  # materialized views
    relkind: str | None = None
    rls: bool = False  # the relation has row-level security enabled
    default_comment: bool = False  # an extension whose comment is the one CREATE EXTENSION gives it
    attachment: bool = False  # the application's policy or trigger on a table of the platform
    address: tuple[str, tuple[str, ...], tuple[str, ...]] = ("", (), ())  # pg_identify_object_as_address()

    @property
    def owner_key(self) -> Key:
        """The object its comments and grants are counted with: the parent of a sub-object, else itself."""
        return self.parent if self.parent is not None and not self.own_entry else self.key


def read_objects(conn: psycopg.Connection[Any], schemas: list[str], platform: list[str] | None = None
                 ) -> dict[Key, DbObject]:
    """The objects of `schemas` and the database's, and what the application attached to the tables of
    the `platform` schemas (its policies, triggers calling its functions)."""
    text = resources.files("pgconvoy.catalog").joinpath("sql/objects.sql").read_text()
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(text.encode(), {"schemas": schemas, "platform": platform or []}).fetchall()
    return {(r["classid"], r["objid"]): _object(r) for r in rows}


def _object(r: dict[str, Any]) -> DbObject:
    parent = (r["parent_class"], r["parent_id"]) if r["parent_class"] else None
    relation = Name(r["rel_schema"], r["rel_name"]) if r["rel_name"] else None
    return DbObject(
        key=(r["classid"], r["objid"]), kind=r["kind"], identity=r["identity"], schema=r["schema"], name=r["name"],
        own_entry=r["own_entry"], parent=parent, relation=relation, acl_changed=bool(r["acl_changed"]),
        column_acls=r["column_acls"] or 0, comments=r["comments"] or 0, contype=r["contype"],
        validated=r["validated"], populated=r["populated"], relkind=r["relkind"], rls=bool(r["rel_rls"]),
        default_comment=bool(r["default_comment"]), attachment=bool(r["attachment"]),
        address=(r["address_type"] or "", tuple(r["address_names"] or ()), tuple(r["address_args"] or ())),
    )
