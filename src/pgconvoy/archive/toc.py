"""Read the table of contents of a pg_dump custom-format archive (`pg_dump -Fc`) into plain data.

The layout is pg_dump's own (`ReadHead` and `ReadToc` in src/bin/pg_dump/pg_backup_archiver.c, and
`_ReadExtraToc` in pg_backup_custom.c): a header, then one entry per object with its dump id, catalog
id, type (`desc`), tag, section, the SQL that creates it (`defn`), schema, tablespace, table access
method, relkind, owner and the dump ids it depends on. Archives of format 1.12 (PostgreSQL 9.0) to
1.16 (PostgreSQL 17 and 18) are read; the fields an older format lacks are empty.

Pure: bytes in, `Archive` out. Data blocks are never read (the archives pgconvoy makes hold none).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from enum import IntEnum

from pgconvoy.errors import PgConvoyError

MAGIC = b"PGDMP"
FORMAT_CUSTOM = 1


def _version(major: int, minor: int, rev: int = 0) -> int:
    return (major * 256 + minor) * 256 + rev


V_1_12 = _version(1, 12)
V_1_14 = _version(1, 14)  # table access method
V_1_15 = _version(1, 15)  # compression algorithm in the header
V_1_16 = _version(1, 16)  # relkind
V_MAX = _version(1, 16, 255)


class Section(IntEnum):
    """`teSection` of pg_backup.h: where pg_restore puts an entry."""

    NONE = 1  # comments, ACLs: wherever their object is
    PRE_DATA = 2
    DATA = 3
    POST_DATA = 4


class ArchiveError(PgConvoyError):
    """The archive cannot be read."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One object of the archive, as pg_dump describes it."""

    dump_id: int
    desc: str  # TABLE, INDEX, FK CONSTRAINT, ACL, COMMENT, ...
    tag: str  # the object's name as pg_dump labels it (not quoted)
    section: Section
    defn: str  # pg_dump's SQL creating the object ("" for bookkeeping entries)
    namespace: str | None = None
    owner: str | None = None
    tablespace: str | None = None
    tableam: str | None = None
    relkind: str | None = None  # 'r', 'p', ... for relations (format 1.16)
    dependencies: tuple[int, ...] = ()
    catalog_id: tuple[int, int] = (0, 0)  # (pg_class oid of the catalog, object oid); (0, 0) for sub-entries
    drop: str = ""  # pg_dump's DROP statement (what pg_restore derives ALTER ... OWNER from)
    had_dumper: bool = False

    @property
    def large_objects(self) -> list[int]:
        """The oids a BLOB METADATA entry (pg_dump 17 and later) stands for: its definition lists them,
        one per line; pg_restore creates and drops them from it."""
        return [int(line) for line in self.defn.split() if line.isdigit()] if self.desc == "BLOB METADATA" else []

    @property
    def name(self) -> str:
        """The object as messages name it: `public.hotels`, `FUNCTION f() in schema kinds` (for a comment or
        grant, whose tag names its object), `CAST (a AS b)`."""
        if self.desc in _ABOUT_ANOTHER:
            return f"{self.tag} in schema {self.namespace}" if self.namespace else self.tag
        return f"{self.namespace}.{self.tag}" if self.namespace else self.tag

    @property
    def label(self) -> str:
        """`TABLE public.hotels`, `ACL FUNCTION f() in schema kinds`, `TRANSFORM FOR int LANGUAGE sql`."""
        name = self.name
        return name if name.startswith(self.desc) else f"{self.desc} {name}"


# Entry types whose tag names the object they are about ("TABLE hotels", "COLUMN hotels.name").
_ABOUT_ANOTHER = frozenset({"COMMENT", "ACL", "SECURITY LABEL", "DEFAULT ACL"})


@dataclass(frozen=True, slots=True)
class Archive:
    version: str  # archive format, e.g. "1.16.0"
    server_version: str  # of the server dumped, e.g. "15.18"
    dump_version: str  # of pg_dump, e.g. "18.6"
    database: str
    entries: tuple[Entry, ...]  # in pg_dump's order (dependencies always come first)
    data: bytes = field(default=b"", repr=False, compare=False)  # the archive itself, for pg_restore
    _by_id: dict[int, Entry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({e.dump_id: e for e in self.entries})

    def get(self, dump_id: int) -> Entry | None:
        return self._by_id.get(dump_id)


class _Reader:
    """pg_dump's ReadInt (a sign byte, then `int_size` little-endian bytes) and ReadStr (a length, -1 for
    NULL, then the bytes), over the whole archive in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.int_size = 4
        self.version = 0
        self._int = struct.Struct("<BI")

    def size(self, int_size: int) -> None:
        self.int_size = int_size
        self._int = struct.Struct("<BI") if int_size == 4 else struct.Struct(f"<B{int_size}s")

    def byte(self) -> int:
        try:
            value = self.data[self.pos]
        except IndexError:
            raise ArchiveError("the archive ends before its table of contents does") from None
        self.pos += 1
        return value

    def skip(self, size: int) -> None:
        self.pos += size

    def int(self) -> int:
        try:
            sign, value = self._int.unpack_from(self.data, self.pos)
        except struct.error:
            raise ArchiveError("the archive ends before its table of contents does") from None
        self.pos += self._int.size
        if not isinstance(value, int):
            value = int.from_bytes(value, "little")
        return -value if sign else value

    def str(self) -> str | None:
        size = self.int()
        if size < 0:
            return None
        end = self.pos + size
        if end > len(self.data):
            raise ArchiveError("the archive ends before its table of contents does")
        text = self.data[self.pos:end].decode("utf-8", errors="replace")
        self.pos = end
        return text


def read(data: bytes) -> Archive:
    """The table of contents of a custom-format archive."""
    if not data.startswith(MAGIC):
        raise ArchiveError("not a pg_dump custom-format archive (no PGDMP header)")
    r = _Reader(data)
    r.skip(len(MAGIC))
    major, minor, rev = r.byte(), r.byte(), r.byte()
    r.version = _version(major, minor, rev)
    if not V_1_12 <= r.version <= V_MAX:
        raise ArchiveError(f"archive format {major}.{minor}.{rev} is not supported (1.12 to 1.16 are)")
    r.size(r.byte())
    offset_size = r.byte()
    if r.byte() != FORMAT_CUSTOM:
        raise ArchiveError("not a custom-format archive (pg_dump -Fc)")
    if r.version >= V_1_15:
        r.byte()  # compression algorithm
    else:
        r.int()  # compression level
    for _ in range(7):  # creation time: sec, min, hour, mday, mon, year, isdst
        r.int()
    database = r.str() or ""
    server_version = r.str() or ""
    dump_version = r.str() or ""
    entries = tuple(_entry(r, offset_size) for _ in range(r.int()))
    return Archive(f"{major}.{minor}.{rev}", server_version, dump_version, database, entries, data)


def _entry(r: _Reader, offset_size: int) -> Entry:
    dump_id = r.int()
    had_dumper = bool(r.int())
    table_oid = int(r.str() or 0)
    oid = int(r.str() or 0)
    tag = r.str() or ""
    desc = r.str() or ""
    section = Section(r.int())
    defn = r.str() or ""
    drop = r.str() or ""
    r.str()  # copy statement
    namespace = r.str() or None
    tablespace = r.str()
    tableam = r.str() if r.version >= V_1_14 else None
    relkind = r.int() if r.version >= V_1_16 else 0
    owner = r.str() or None
    r.str()  # "false": WITH OIDS, long gone
    dependencies = []
    while (dep := r.str()) is not None:
        dependencies.append(int(dep))
    r.byte()  # data offset: a flag, then the offset (custom format's extra TOC data)
    r.skip(offset_size)
    return Entry(
        dump_id=dump_id, desc=desc, tag=tag, section=section, defn=defn, namespace=namespace, owner=owner,
        tablespace=tablespace, tableam=tableam or None, relkind=chr(relkind) if relkind else None,
        dependencies=tuple(dependencies), catalog_id=(table_oid, oid), drop=drop, had_dumper=had_dumper,
    )


def merge(first: Archive, second: Archive) -> Archive:
    """`second`'s entries after `first`'s, renumbered so dump ids stay unique (its bookkeeping dropped)."""
    offset = max((e.dump_id for e in first.entries), default=0)
    known = {e.dump_id for e in first.entries}
    extra = tuple(
        replace(e, dump_id=e.dump_id + offset, dependencies=tuple(d + offset for d in e.dependencies))
        for e in second.entries
        if e.desc not in ("ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE") and e.dump_id + offset not in known
    )
    return replace(first, entries=first.entries + extra)
