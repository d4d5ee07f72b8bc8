"""Data export: the rows of every group's tables, as files `psql -f` and `pgconvoy run` can apply.

`write_data` writes, in `target/`:
- `(NN+9)-data-GROUP.sql` per group: per table, in the group's load order, a psql COPY block
  (`COPY t (cols) FROM stdin;`, the rows in COPY text format, `\\.`), or with `fmt="insert"` batches of
  multi-row `INSERT ... VALUES` for targets that cannot take COPY (a web SQL editor). Generated columns
  are left out (the target computes them); identity values are kept (`OVERRIDING SYSTEM VALUE`).
- `NN-post-sequences.sql` (`sequences_file`, the slot `placement.POST_STEPS` keeps for it): `setval`
  for every sequence of the layout's tables and every free-standing sequence, after all the data;
- the contents of large objects, at the end of `NN-post-large-objects.sql` (the schema side creates them).
- `validate/NN-GROUP.sql` per group: one query returning a row per failed check (row counts
  against the export, foreign keys without their referenced row, two-pass columns restored).

Partitioned tables load once, through their root: the rows are read with `SELECT cols FROM root`
(every partition) and `COPY root (...) FROM stdin` routes each row to its partition on the target.
Partitions listed beside their root are skipped. Other tables are read with `FROM ONLY` so a classic
inheritance parent does not repeat its children's rows.

Two-pass columns (`Group.two_pass_columns`) are written as NULL in the table's block; a second block
copies (key, two-pass columns) into a temporary table and one `UPDATE ... FROM` restores them. The
restore comes right after the table when every table the columns reference is loaded by then (self
references), otherwise at the end of the data file of the group that loads the last of them, so
row-level cycles and table cycles both load with every foreign key in place.

Everything is read in one REPEATABLE READ READ ONLY transaction (one snapshot for all files) with
`row_security = off`, so a role that would see only some rows fails loudly instead of exporting a
subset. Rows stream from the server to the file chunk by chunk: memory stays flat for any table size.

The data files contain no BEGIN/COMMIT: `pgconvoy run` wraps each file in one transaction; with psql
use `psql -v ON_ERROR_STOP=1 --single-transaction -f FILE`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg import pq, sql
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pgconvoy import quote, split
from pgconvoy.catalog.binary import binary_safe_tables
from pgconvoy.catalog.model import Catalog, ForeignKey, Name, Table
from pgconvoy.checks.data import orphans_sql
from pgconvoy.errors import PgConvoyError
from pgconvoy.graph import load_unit
from pgconvoy.layout import DataFormat, Group, Layout, OnConflict
from pgconvoy.placement import post_data_file
from pgconvoy.quote import one_line
from pgconvoy.split import Part

INSERT_BATCH = 500  # rows per INSERT statement at most ...
INSERT_BYTES = 8 << 20  # ... and bytes: 500 rows of 3 MB would make a statement over the server's 1 GB limit
REPORT_ROWS = 2000
VALIDATE_DIR = "validate"
PLATFORM_TEMP = "pgconvoy_platform_rows"  # where skip-existing rows of a platform table land first

# Output settings for the export and the matching input settings at the top of each data file:
# values travel as text, so both sides must agree on how dates, intervals and bytes are spelled.
_EXPORT_SETTINGS = (
    ("client_encoding", "UTF8"),
    ("datestyle", "ISO, YMD"),
    ("intervalstyle", "postgres"),
    ("extra_float_digits", "3"),
    ("bytea_output", "hex"),
    ("search_path", ""),
)
_FILE_HEADER = """\
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
"""


@dataclass(frozen=True, slots=True)
class TableData:
    table: Name
    rows: int
    two_pass: tuple[str, ...] = ()
    restored: int = 0  # rows whose two-pass columns the second pass fills


@dataclass(frozen=True, slots=True)
class StreamStep:
    """One COPY of a data file, in file order: what `run --source` streams in its place (manifest.json)."""

    kind: str  # rows | second_pass
    table: Name
    columns: tuple[str, ...]  # rows: the columns copied; second_pass: the columns restored
    nulls: tuple[str, ...] = ()  # rows: two-pass columns, read as NULL
    key: tuple[str, ...] = ()  # second_pass: the columns that match a row
    only: bool = True
    binary: bool = False
    rows: int = 0  # rows: of the table at compile (exported, with rows in files); second pass: rows exported
    # where its COPY data lies in the file (format copy, rows in files): workers load it from there
    offset: int | None = None
    length: int | None = None
    sha256: str | None = None
    part: Part | None = None  # one range of a table split for the parallel load
    on_conflict: OnConflict | None = None  # rows into a platform table (platform_data)


@dataclass(frozen=True, slots=True)
class DataFileInfo:
    file: str  # relative to the target directory
    group: str
    tables: tuple[TableData, ...]
    bytes: int
    steps: tuple[StreamStep, ...] = ()

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


@dataclass(frozen=True, slots=True)
class _Restore:
    """The second pass of a table: its key and the columns loaded as NULL in the first."""

    table: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass
class _Plan:
    groups: list[tuple[Group, list[Table]]]
    # restores that run right after a table's block, and those at the end of a group's file
    after_table: dict[Name, _Restore] = field(default_factory=dict)
    end_of_group: dict[int, list[_Restore]] = field(default_factory=dict)


def sequences_file(layout: Layout) -> str:
    """The post-data file with the sequence positions, in the slot the placement keeps for it."""
    return post_data_file(layout, "sequences")


@contextmanager
def _snapshot(conn: psycopg.Connection[Any]) -> Iterator[None]:
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        yield  # the caller's snapshot
        return
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


LO_CHUNK = 1 << 18


def _large_objects(conn: psycopg.Connection[Any], oids: Sequence[int], out: BinaryIO) -> None:
    """The contents of large objects, in 256 KiB pieces: `lo_put` into the objects the file created."""
    out.write(b"\n-- Contents of the large objects.\n")
    for oid in oids:
        offset = 0
        while True:
            row = conn.execute("SELECT pg_catalog.encode(pg_catalog.lo_get(%s::oid, %s, %s), 'hex')",
                               (oid, offset, LO_CHUNK)).fetchone()
            chunk = row[0] if row else ""
            if not chunk:
                break
            out.write(f"SELECT pg_catalog.lo_put('{oid}', {offset}, '\\x{chunk}');\n".encode())
            offset += LO_CHUNK
            if len(chunk) < 2 * LO_CHUNK:
                break


def write_data(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    layout: Layout,
    target_dir: Path,
    *,
    fmt: DataFormat | None = None,
    progress: Console | None = None,
    large_objects: Sequence[int] = (),
    counted: bool = False,
    rows: str = "files",
    split_larger_than: int | None = None,
) -> list[DataFileInfo]:
    """Export the rows of `layout`'s tables from `conn` into `target_dir` (see the module docstring).

    Inside the caller's transaction when one is open (compile's locked snapshot), else in one of its own.
    `large_objects`: the oids whose contents go to the end of the large-objects file the schema side wrote.
    `counted`: the catalog's exact row counts were read in this same snapshot, so a table counted empty
    is not read again (a round trip saved per empty table).
    `rows="stream"`: no rows are read; each data file says that `run --source` copies them (its steps
    are in manifest.json all the same)."""
    fmt = fmt or layout.data_format
    plan = _plan(catalog, layout)
    target_dir.mkdir(parents=True, exist_ok=True)
    with _progress(progress) as report, _snapshot(conn):
        conn.execute("SET LOCAL row_security = off")
        for name, value in _EXPORT_SETTINGS:
            conn.execute(sql.SQL("SELECT pg_catalog.set_config({}, {}, true)").format(name, value))
        empty = frozenset(t.qualified for t in catalog.tables if counted and catalog.exact_rows and t.rows == 0)
        binary = binary_safe_tables(conn, [t.qualified for _, tables in plan.groups for t in tables])
        exporter = _Exporter(conn, fmt, report, empty, binary, stream_only=rows == "stream")
        exporter.on_conflict = {name: layout.on_conflict for name in layout.platform}
        if fmt == "copy":  # INSERT batches are for running by hand, one by one
            exporter.parts = split.plan_parts(conn, [t for _, tables in plan.groups for t in tables
                                                     if t.qualified not in exporter.on_conflict], split_larger_than)
        files = [exporter.group_file(target_dir, plan, i) for i in range(len(plan.groups))]
        if large_objects:
            with (target_dir / post_data_file(layout, "large-objects")).open("ab") as out:
                _large_objects(conn, large_objects, out)
        _write(target_dir / sequences_file(layout), _sequences_sql(conn, catalog, layout))
    counts = {t.table: t for f in files for t in f.tables}
    for group, tables in plan.groups:
        path = target_dir / VALIDATE_DIR / f"{group.number:02d}-{group.name}.sql"
        _write(path, _validation_sql(group, tables, counts, {*layout.tables, *layout.platform}, catalog,
                                     at_least=frozenset(layout.platform)))
    return files


def _plan(catalog: Catalog, layout: Layout) -> _Plan:
    unit = load_unit(catalog)
    in_layout = set(layout.tables)
    position = {name: i for i, name in enumerate(layout.tables)}
    plan = _Plan(groups=[])
    groups = layout.data_groups
    for index, group in enumerate(groups):
        tables = []
        for name in group.tables:
            table = catalog.table(name)
            if table is None:
                raise PgConvoyError(f"table {name} of group {group.name} is not in the catalog")
            if unit(name) != name and unit(name) in in_layout:
                continue  # a partition: its rows load through its root
            tables.append(table)
            columns = group.two_pass_columns(name)
            if not columns:
                continue
            restore = _Restore(table, _key(table, columns), columns)
            referenced = [unit(fk.ref_table) for fk in _foreign_keys(table, columns)]
            last = max((position[r] for r in referenced if r in position), default=-1)
            if last <= position[name]:
                plan.after_table[name] = restore
            else:
                target = next(i for i, g in enumerate(groups) if layout.tables[last] in g.tables)
                plan.end_of_group.setdefault(max(target, index), []).append(restore)
        plan.groups.append((group, tables))
    return plan


def _foreign_keys(table: Table, columns: tuple[str, ...]) -> list[ForeignKey]:
    return [fk for fk in table.foreign_keys if not fk.inherited and set(fk.columns) & set(columns)]


def _key(table: Table, two_pass: tuple[str, ...]) -> tuple[str, ...]:
    """Columns that identify a row for the second pass: the primary key, else a NOT NULL unique key."""
    for column in two_pass:
        col = table.column(column)
        if col is None:
            raise PgConvoyError(f"two-pass column {table.qualified}.{column} does not exist")
        if col.not_null:
            raise PgConvoyError(
                f"two-pass column {table.qualified}.{column} is NOT NULL, so it cannot load as NULL first",
                hint="make its foreign key DEFERRABLE and load the table with constraints deferred instead",
            )
    keys = [c.columns for c in table.constraints if c.kind == "primary key"]
    keys += [
        c.columns for c in table.constraints
        if c.kind == "unique" and all((col := table.column(n)) is not None and col.not_null for n in c.columns)
    ]
    keys += [
        tuple(str(n) for n in i.columns) for i in table.indexes
        if i.unique and i.predicate is None and None not in i.columns
        and all((col := table.column(str(n))) is not None and col.not_null for n in i.columns)
    ]
    for key in keys:
        if not set(key) & set(two_pass):
            return key
    raise PgConvoyError(
        f"table {table.qualified} has two-pass columns ({', '.join(two_pass)}) but no primary key "
        "or NOT NULL unique key to match the rows of the second pass",
        hint="add a primary key to the table, or load it with deferrable constraints deferred",
    )


class _Exporter:
    def __init__(self, conn: psycopg.Connection[Any], fmt: DataFormat, report: Callable[[str, int], None],
                 counted_empty: frozenset[Name] = frozenset(), binary: frozenset[Name] = frozenset(), *,
                 stream_only: bool = False) -> None:
        self.conn = conn
        self.fmt = fmt
        self.report = report
        self.counted_empty = counted_empty  # counted in this snapshot: no need to read them
        self.binary = binary
        self.stream_only = stream_only
        self.steps: list[StreamStep] = []
        self.last_range: tuple[int, int, str] | None = None  # (offset, length, sha256) of the last COPY data
        self.parts: dict[Name, list[Part]] = {}
        self.on_conflict: dict[Name, OnConflict] = {}  # the platform's tables (platform_data)

    def group_file(self, target_dir: Path, plan: _Plan, index: int) -> DataFileInfo:
        group, tables = plan.groups[index]
        path = target_dir / group.data_file
        partial = path.with_name(path.name + ".partial")
        results = []
        restored: dict[Name, int] = {}
        self.steps = []
        with partial.open("wb") as out:
            out.write(f"-- Data of group {group.number:02d} {group.name}: {len(tables)} tables, "
                      f"in load order.\n".encode())
            out.write(_FILE_HEADER.encode())
            if self.stream_only:
                out.write(b"-- Compiled with rows streamed: `pgconvoy run --source URL` copies them; "
                          b"this file has none.\n")
            # DEFERRABLE foreign keys (reconcile accepts them in place of a two-pass rule) are checked
            # when the file's transaction commits, once every row of the group is in.
            out.write(b"SET CONSTRAINTS ALL DEFERRED;\n")
            for table in tables:
                two_pass = group.two_pass_columns(table.qualified)
                rows = self.table_block(out, table, two_pass)
                if (restore := plan.after_table.get(table.qualified)) is not None:
                    restored[table.qualified] = self.restore_block(out, restore)
                results.append((table, rows, two_pass))
            for restore in plan.end_of_group.get(index, []):
                restored[restore.table.qualified] = self.restore_block(out, restore)
            size = out.tell()
        os.replace(partial, path)
        infos = tuple(TableData(t.qualified, rows, tp, restored.get(t.qualified, 0)) for t, rows, tp in results)
        # restores written here for tables of earlier groups are counted with those groups' files
        return DataFileInfo(group.data_file, group.name, infos, size, tuple(self.steps))

    def table_block(self, out: BinaryIO, table: Table, two_pass: tuple[str, ...]) -> int:
        columns = [c for c in table.columns if c.generated is None]
        names = [c.name for c in columns]
        values = [
            sql.SQL("NULL AS {}").format(sql.Identifier(c.name)) if c.name in two_pass else sql.Identifier(c.name)
            for c in columns
        ]
        select = sql.SQL("SELECT {} FROM {}{}").format(
            sql.SQL(", ").join(values), sql.SQL("ONLY " if table.kind == "table" else ""), _ident(table.qualified)
        )
        comment = f"\n-- {one_line(quote.qualified(table.qualified))}"
        if two_pass:
            comment += one_line(f" ({', '.join(two_pass)} loaded as NULL, restored by a second pass)")
        estimate = max(table.rows if table.rows is not None else table.estimated_rows or 0, 0)
        parts: list[Part | None] = list(self.parts.get(table.qualified, [])) or [None]
        total = 0
        conflict = self.on_conflict.get(table.qualified)
        for part in parts:
            nulls = tuple(c for c in names if c in two_pass)
            self.steps.append(StreamStep("rows", table.qualified, tuple(names), nulls,
                                         only=table.kind == "table", binary=table.qualified in self.binary,
                                         rows=estimate // len(parts), part=part, on_conflict=conflict))
            label = comment if part is None else comment + f" (part {part.index} of {part.of})"
            if table.qualified in self.counted_empty or self.stream_only:
                out.write((label + (": rows streamed\n" if self.stream_only else ": no rows\n")).encode())
                if not self.stream_only:
                    self.steps[-1] = replace(self.steps[-1], rows=0, offset=out.tell(), length=0,
                                             sha256=hashlib.sha256().hexdigest())
                continue
            out.write((label + "\n").encode())
            overriding = any(c.identity == "always" for c in columns)
            chosen = select if part is None else sql.SQL("{} WHERE {}").format(
                select, split.where(part.by, part.lower, part.upper))
            if conflict == "skip-existing":
                rows = self._skipping_existing(out, table, names, chosen, overriding=overriding)
            else:
                rows = self.rows(out, table, quote.qualified(table.qualified), names, chosen, overriding=overriding)
            self._placed(rows)
            total += rows
        return total

    def _skipping_existing(self, out: BinaryIO, table: Table, names: list[str], select: sql.Composed, *,
                           overriding: bool) -> int:
        """A platform table's rows through a temporary table, inserted but where the target holds the key
        already (`platform_data: {on_conflict: skip-existing}`)."""
        name = quote.qualified(table.qualified)
        col_list = ", ".join(quote.ident(c) for c in names)
        out.write(f"CREATE TEMPORARY TABLE {PLATFORM_TEMP} AS SELECT {col_list} FROM {name} WITH NO DATA;\n"
                  .encode())
        rows = self.rows(out, table, f"pg_temp.{PLATFORM_TEMP}", names, select, overriding=False)
        placed = self.last_range
        out.write(f"INSERT INTO {name} ({col_list}){' OVERRIDING SYSTEM VALUE' if overriding else ''} "
                  f"SELECT {col_list} FROM pg_temp.{PLATFORM_TEMP} ON CONFLICT DO NOTHING;\n"
                  f"DROP TABLE pg_temp.{PLATFORM_TEMP};\n".encode())
        self.last_range = placed
        return rows

    def _placed(self, rows: int) -> None:
        """The last step's rows as exported, and where its COPY data lies in the file."""
        placed = self.last_range
        self.last_range = None
        self.steps[-1] = replace(self.steps[-1], rows=rows) if placed is None else replace(
            self.steps[-1], rows=rows, offset=placed[0], length=placed[1], sha256=placed[2])

    def restore_block(self, out: BinaryIO, restore: _Restore) -> int:
        table = restore.table
        self.steps.append(StreamStep("second_pass", table.qualified, restore.columns, key=restore.key,
                                     only=table.kind == "table", binary=table.qualified in self.binary))
        if self.stream_only:
            return 0
        name = quote.qualified(table.qualified)
        temp = "pgconvoy_second_pass"
        cols = restore.key + restore.columns
        col_list = ", ".join(quote.ident(c) for c in cols)
        out.write(f"\n-- {one_line(name + ': second pass for ' + ', '.join(restore.columns))}\n".encode())
        out.write(f"CREATE TEMPORARY TABLE {temp} AS SELECT {col_list} FROM {name} WITH NO DATA;\n".encode())
        select = sql.SQL("SELECT {} FROM {}{} WHERE {}").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL("ONLY " if table.kind == "table" else ""),
            _ident(table.qualified),
            sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in restore.columns),
        )
        rows = self.rows(out, table, f"pg_temp.{temp}", list(cols), select, overriding=False)
        self._placed(rows)
        sets = ", ".join(f"{quote.ident(c)} = s.{quote.ident(c)}" for c in restore.columns)
        match = " AND ".join(f"t.{quote.ident(c)} = s.{quote.ident(c)}" for c in restore.key)
        out.write(f"UPDATE {name} AS t SET {sets} FROM pg_temp.{temp} AS s WHERE {match};\n".encode())
        out.write(f"DROP TABLE pg_temp.{temp};\n".encode())
        return rows

    def rows(self, out: BinaryIO, table: Table, into: str, columns: list[str], select: sql.Composed,
             *, overriding: bool) -> int:
        # A table without columns holds rows all the same: COPY takes no column list then (an empty one
        # is a syntax error), and INSERT has no VALUES to write.
        col_list = f" ({', '.join(quote.ident(c) for c in columns)})" if columns else ""
        try:
            if self.fmt == "copy":
                out.write(f"COPY {into}{col_list} FROM stdin;\n".encode())
                start = out.tell()
                digest = hashlib.sha256()
                rows = self._copy(out, select, str(table.qualified), digest)
                self.last_range = (start, out.tell() - start, digest.hexdigest())
                out.write(b"\\.\n")
                return rows
            if not columns:
                return self._empty_rows(out, into, select, str(table.qualified))
            head = f"INSERT INTO {into}{col_list}{' OVERRIDING SYSTEM VALUE' if overriding else ''} VALUES\n"
            return self._inserts(out, head, select, columns, str(table.qualified))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise _privilege_error(self.conn, table, exc) from None

    def _copy(self, out: BinaryIO, select: sql.Composed, label: str, digest: Any) -> int:
        rows = pending = 0
        with self.conn.cursor() as cur, cur.copy(sql.SQL("COPY ({}) TO STDOUT").format(select)) as copy:
            for chunk in copy:
                out.write(chunk)
                digest.update(chunk)
                # COPY text format escapes newlines inside values, so each newline ends one row.
                added = bytes(chunk).count(b"\n")
                rows += added
                pending += added
                if pending >= REPORT_ROWS:  # a chunk is about one row: a progress update each costs too much
                    self.report(label, pending)
                    pending = 0
        self.report(label, pending)
        return rows

    def _inserts(self, out: BinaryIO, head: str, select: sql.Composed, columns: list[str], label: str) -> int:
        # quote_nullable() spells each value as the server's own text output in a literal: exact for
        # every type, and the INSERT casts it back to the column's type.
        literals = sql.SQL(" || ', ' || ").join(
            sql.SQL("pg_catalog.quote_nullable({})").format(sql.Identifier(c)) for c in columns
        )
        query = sql.SQL("SELECT '(' || {} || ')' FROM ({}) AS src").format(literals, select)
        rows = 0
        with self.conn.cursor(name="pgconvoy_export") as cur:
            cur.itersize = 2000
            cur.execute(query)
            batch: list[str] = []
            size = 0
            for (row,) in cur:
                batch.append(row)
                size += len(row)
                if len(batch) == INSERT_BATCH or size >= INSERT_BYTES:
                    size = 0
                    rows += self._flush(out, head, batch, label)
            rows += self._flush(out, head, batch, label)
        return rows

    def _empty_rows(self, out: BinaryIO, into: str, select: sql.Composed, label: str) -> int:
        row = self.conn.execute(sql.SQL("SELECT count(*) FROM ({}) AS src").format(select)).fetchone()
        rows = int(row[0]) if row else 0
        if rows:
            out.write(f"INSERT INTO {into} SELECT FROM pg_catalog.generate_series(1, {rows});\n".encode())
        self.report(label, rows)
        return rows

    def _flush(self, out: BinaryIO, head: str, batch: list[str], label: str) -> int:
        if not batch:
            return 0
        out.write((head + ",\n".join(batch) + ";\n").encode())
        count = len(batch)
        batch.clear()
        self.report(label, count)
        return count


def _privilege_error(conn: psycopg.Connection[Any], table: Table, exc: psycopg.Error) -> PgConvoyError:
    role = conn.info.user
    message = (exc.diag.message_primary or str(exc)).strip()
    if "row-level security" in message:
        return PgConvoyError(
            f"role {role} cannot read table {table.qualified} without row-level security: "
            "use a role with BYPASSRLS or the table owner",
            hint=message,
        )
    return PgConvoyError(f"role {role} cannot read table {table.qualified}: {message}",
                         hint="grant SELECT on every migrated table to the exporting role")


def _sequences_sql(conn: psycopg.Connection[Any], catalog: Catalog, layout: Layout) -> str:
    """setval() for the sequences of the layout's tables and the free-standing ones, as they are now."""
    lines = ["-- Sequence positions, read with the data. `false`: never used, nextval() returns the value."]
    for name in sequence_names(catalog, layout):
        value, called = sequence_position(conn, name)
        lines.append(
            f"SELECT pg_catalog.setval({quote.literal(quote.qualified(name))}, {value}, "
            f"{'true' if called else 'false'});"
        )
    return "\n".join(lines) + "\n"


def sequence_names(catalog: Catalog, layout: Layout) -> list[Name]:
    """The sequences whose positions the migration carries: those of its tables and the free-standing ones."""
    tables = {*layout.tables, *layout.platform}
    unit = load_unit(catalog)
    return [seq.qualified for seq in catalog.sequences
            if seq.owned_by is None or unit(seq.owned_by[0]) in tables]


def sequence_position(conn: psycopg.Connection[Any], name: Name) -> tuple[int, bool]:
    row = conn.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(_ident(name))).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def _validation_sql(group: Group, tables: list[Table], counts: dict[Name, TableData], loaded: set[Name],
                    catalog: Catalog, at_least: frozenset[Name] = frozenset()) -> str:
    """One query; every row it returns is a failed check (empty result: the group is whole). A table of
    `at_least` (the platform's, which may hold rows of the target's own) must hold at least its rows."""
    checks = []
    for table in tables:
        data = counts[table.qualified]
        name = quote.qualified(table.qualified)
        only = "ONLY " if table.kind == "table" else ""
        label = quote.literal(name)
        check, differs = ("'row count (at least)'", "<") if table.qualified in at_least else ("'row count'", "<>")
        checks.append(
            f"SELECT {label} AS table_name, {check} AS check_name, count(*) AS actual, {data.rows} AS expected"
            f"\n  FROM {only}{name} HAVING count(*) {differs} {data.rows}"
        )
        if data.two_pass:
            filled = " OR ".join(f"{quote.ident(c)} IS NOT NULL" for c in data.two_pass)
            checks.append(
                f"SELECT {label}, 'second pass restored {', '.join(data.two_pass)}', count(*), {data.restored}"
                f"\n  FROM {only}{name} WHERE {filled} HAVING count(*) <> {data.restored}"
            )
        for fk in table.foreign_keys:
            if fk.inherited or fk.ref_table not in loaded or not fk.checkable_by_equality:
                continue  # a NOT ENFORCED key promises nothing; a PERIOD key the server checked when added
            orphans = orphans_sql(fk, catalog).as_string(None)  # the check's own query: MATCH FULL and all
            checks.append(
                f"SELECT {label}, {quote.literal('foreign key ' + fk.name)}, count(*), 0"
                f"\n  FROM ({orphans}) AS orphans HAVING count(*) > 0"
            )
    head = f"-- Checks of group {group.number:02d} {group.name}: each row returned is a failure.\n"
    if not checks:
        return head + "SELECT NULL::text AS table_name, NULL::text AS check_name, 0::bigint AS actual, "\
            "0::bigint AS expected WHERE false;\n"
    return head + "\nUNION ALL\n".join(checks) + ";\n"


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (data files can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ident(name: Name) -> sql.Composable:
    return sql.Identifier(name.schema, name.name)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@contextmanager
def _progress(console: Console | None) -> Iterator[Callable[[str, int], None]]:
    """A callback `report(table, rows)`; draws a live rows counter when a console is given."""
    if console is None:
        yield lambda table, rows: None
        return
    with Progress(TextColumn("exporting {task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("", total=None)

        def report(table: str, rows: int) -> None:
            bar.update(task, description=table, advance=rows)

        yield report
