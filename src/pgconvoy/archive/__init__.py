"""pg_dump's archive: the schema side of a migration, deparsed by pg_dump for every PostgreSQL version.

`dump` runs pg_dump in the compile's snapshot; `toc` reads the archive's table of contents.
"""

from pgconvoy.archive.dump import DumpFailed, DumpOptions, Pending, dump, start
from pgconvoy.archive.toc import Archive, ArchiveError, Entry, Section, merge, read

__all__ = [
    "Archive", "ArchiveError", "DumpFailed", "DumpOptions", "Entry", "Pending", "Section", "dump", "merge", "read",
    "start",
]
