"""`run --source URL`: the rows travel server to server, with no file in between.

A data file's COPY steps (manifest.json `stream`) are read from the source with `COPY (SELECT ...) TO
STDOUT` and written to the target with `COPY ... FROM STDIN` as they arrive: memory stays flat, nothing is
written locally. Every reader uses one snapshot, exported by the run's own source connection when it
starts, so the copy is consistent whatever the source does meanwhile (`row_security = off`: a role that
would see only some rows fails instead of copying a subset).

- Binary COPY for the steps compile marked binary-safe (no type OIDs inside the values) when both
  servers run one major version (`data: encoding: auto`, the default; `binary`: whatever the versions;
  `text`: never); text otherwise, with the same settings as the files.
- With `foreign_keys: after` nothing checks a row against another table while rows load, so a file's
  tables load in parallel, largest first, each in its own transaction on the target with its row in the
  run state (`FILE#rows:schema.table`): a table is copied exactly once, and `--resume` copies only the
  tables not yet in. Workers are processes, each with its own connections (threads would share one
  interpreter lock). Second passes follow, one by one.
- With `foreign_keys: during` a file's steps run in file order in one transaction, as the file would
  (DEFERRABLE keys are checked when it commits).
Each step checks that the target took as many rows as the source sent; the second pass, that its UPDATE
matched every row it copied.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy import split
from pgconvoy.connect import connect
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import state
from pgconvoy.runner.contract import Contract, RunFile, Step
from pgconvoy.runner.workers import Workers

# The settings values are read and written with in text COPY, as the data files set them.
SOURCE_SETTINGS = (("client_encoding", "UTF8"), ("datestyle", "ISO, YMD"), ("intervalstyle", "postgres"),
                   ("extra_float_digits", "3"), ("bytea_output", "hex"), ("search_path", ""))
TARGET_SETTINGS = (("client_encoding", "UTF8"), ("datestyle", "ISO, YMD"), ("intervalstyle", "postgres"),
                   ("search_path", ""))
TEMP = "pgconvoy_second_pass"
READ_BLOCK = 1 << 18

Report = Callable[[int, int], None]  # (bytes, rows) since the last call


@dataclass(frozen=True, slots=True)
class Job:
    """One step for a worker process: everything it needs, picklable."""

    source: str
    target: str
    snapshot: str
    compile_id: str
    file: str
    sha256: str
    step: Step
    binary: bool
    lock_timeout: str
    statement_timeout: str
    path: str | None = None  # rows in files: read the step's COPY data there instead of from the source


@dataclass(frozen=True, slots=True)
class Copied:
    unit: str
    rows: int
    bytes: int
    seconds: float
    error: str | None = None


class StreamFailed(PgConvoyError):
    pass


def open_snapshot(conn: psycopg.Connection[Any]) -> str:
    """Begin the run's REPEATABLE READ READ ONLY transaction on the source; the id of its snapshot."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    row = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()
    _source_settings(conn)
    assert row is not None
    return str(row[0])


def _source_settings(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET LOCAL row_security = off")
    for name, value in SOURCE_SETTINGS:
        conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))


def copy_step(job: Job) -> Copied:
    """In a worker: copy one step in its own transaction on the target, recording it there."""
    started = time.monotonic()
    unit = f"{job.file}#{job.step.unit}"
    try:
        label = f"{job.file}, {job.step.table}"
        if job.path is not None:
            with connect(job.target) as dst, dst.transaction(), dst.cursor() as cur:
                _timeouts(cur, job.lock_timeout, job.statement_timeout)
                rows, size = from_file(Path(job.path), cur, job.step, label)
                state.record(cur, job.compile_id, unit, job.sha256, rows)
            return Copied(unit, rows, size, time.monotonic() - started)
        with connect(job.source) as src, connect(job.target) as dst:
            src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            src.read_only = True
            src.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(job.snapshot)))
            _source_settings(src)
            with dst.transaction(), dst.cursor() as cur:
                _timeouts(cur, job.lock_timeout, job.statement_timeout)
                rows, size = transfer(src, cur, job.step, job.binary, label)
                state.record(cur, job.compile_id, unit, job.sha256, rows)
    except psycopg.Error as exc:
        return Copied(unit, 0, 0, time.monotonic() - started, f"{job.file}, {job.step.table}: {_message(exc)}")
    except PgConvoyError as exc:
        return Copied(unit, 0, 0, time.monotonic() - started, exc.message)
    return Copied(unit, rows, size, time.monotonic() - started)


def _timeouts(cur: psycopg.Cursor[Any], lock: str, statement: str) -> None:
    cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock)))
    cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(statement)))


def transfer(src: psycopg.Connection[Any], cur: psycopg.Cursor[Any], step: Step, binary: bool, label: str,
             report: Report | None = None) -> tuple[int, int]:
    """Copy one step from `src` (in its snapshot) through the target cursor `cur` (in its transaction):
    (rows, bytes)."""
    options = sql.SQL(" (FORMAT binary)" if binary else "")
    with src.cursor() as scur:
        with scur.copy(sql.SQL("COPY ({}) TO STDOUT{}").format(select_sql(step), options)) as out:
            rows, size = load(cur, step, out, binary, label, report)
        sent = max(scur.rowcount, 0)
    if rows != sent:
        raise StreamFailed(f"{label}: the target took {rows} rows where the source sent {sent}")
    return rows, size


def from_file(path: Path, cur: psycopg.Cursor[Any], step: Step, label: str,
              report: Report | None = None) -> tuple[int, int]:
    """Load one step's COPY data from where compile wrote it in the data file (text format), checking its
    sha256 and its rows against the manifest's before the transaction may commit."""
    assert step.offset is not None and step.length is not None
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        with path.open("rb") as f:
            f.seek(step.offset or 0)
            left = step.length or 0
            while left > 0:
                chunk = f.read(min(READ_BLOCK, left))
                if not chunk:
                    break
                left -= len(chunk)
                digest.update(chunk)
                yield chunk

    rows, size = load(cur, step, chunks(), False, label, report)
    if digest.hexdigest() != step.sha256:
        raise StreamFailed(f"{label}: its rows in {path.name} changed since compile (sha256 is not manifest.json's)")
    if rows != step.rows:
        raise StreamFailed(f"{label}: the target took {rows} rows where compile exported {step.rows}")
    return rows, size


def select_sql(step: Step) -> sql.Composed:
    """What a step reads on the source: its columns (two-pass ones as NULL), or its second pass's."""
    table = sql.Identifier(step.table.schema, step.table.name)
    only = sql.SQL("ONLY " if step.only else "")
    if step.kind == "rows":
        values = sql.SQL(", ").join(
            sql.SQL("NULL AS {}").format(sql.Identifier(c)) if c in step.nulls else sql.Identifier(c)
            for c in step.columns)
        select = sql.SQL("SELECT {} FROM {}{}").format(values, only, table)
        if step.part is None:
            return select
        return sql.SQL("{} WHERE {}").format(select, split.where(*step.part[:3]))
    return sql.SQL("SELECT {} FROM {}{} WHERE {}").format(
        sql.SQL(", ").join(map(sql.Identifier, step.key + step.columns)), only, table,
        sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in step.columns))


def load(cur: psycopg.Cursor[Any], step: Step, chunks: Iterable[Any], binary: bool, label: str,
         report: Report | None = None) -> tuple[int, int]:
    """Write a step's COPY data (`chunks`) into the target, in the cursor's transaction; a second pass
    then restores its columns and must match every row it copied. (rows, bytes)."""
    for name, value in TARGET_SETTINGS:
        cur.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))
    table = sql.Identifier(step.table.schema, step.table.name)
    options = sql.SQL(" (FORMAT binary)" if binary else "")
    columns = step.columns if step.kind == "rows" else step.key + step.columns
    into: sql.Composable = table
    skipping = step.kind == "rows" and step.on_conflict == "skip-existing"
    if step.kind == "second_pass" or skipping:
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
            sql.Identifier(TEMP), sql.SQL(", ").join(map(sql.Identifier, columns)), table))
        into = sql.Identifier("pg_temp", TEMP)
    column_list = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns))) if columns else sql.SQL("")
    size = 0
    with cur.copy(sql.SQL("COPY {}{} FROM STDIN{}").format(into, column_list, options)) as inp:
        for chunk in chunks:
            inp.write(chunk)
            size += len(chunk)
            if report is not None:
                report(len(chunk), 0)
    rows = max(cur.rowcount, 0)
    if skipping:  # a platform table: the target's row stays where it holds the key already
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        cur.execute(sql.SQL("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} ON CONFLICT DO NOTHING")
                    .format(table, listed, listed, sql.Identifier("pg_temp", TEMP)))
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("pg_temp", TEMP)))
    if step.kind == "second_pass":
        sets = sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                                  for c in step.columns)
        match = sql.SQL(" AND ").join(sql.SQL("t.{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                                      for c in step.key)
        cur.execute(sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(
            table, sets, sql.Identifier("pg_temp", TEMP), match))
        if cur.rowcount != rows:
            raise StreamFailed(f"{label}: the second pass matched {cur.rowcount} rows of the {rows} it copied")
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier("pg_temp", TEMP)))
    if report is not None:
        report(0, rows)
    return rows, size


def _message(exc: psycopg.Error) -> str:
    from pgconvoy.runner.apply import error_message

    return error_message(exc)


class Streamer:
    """The source side of a streaming run: its snapshot, and the workers that copy steps."""

    def __init__(self, source: psycopg.Connection[Any], source_url: str, plan: Contract, workers: Workers) -> None:
        self.source = source
        self.source_url = source_url
        self.plan = plan
        self.workers = workers
        self.snapshot = open_snapshot(source)

    def binary(self, step: Step, target: psycopg.Connection[Any]) -> bool:
        if self.plan.encoding == "text" or not step.binary:
            return False
        same = self.source.info.server_version // 10000 == target.info.server_version // 10000
        return self.plan.encoding == "binary" or same

    def parallel(self) -> bool:
        return self.plan.foreign_keys == "after" and self.workers.available

    def copy_parallel(self, file: RunFile, steps: list[Step], target: psycopg.Connection[Any],
                      on_done: Callable[[Copied], None]) -> list[Copied]:
        """Copy `steps` in the workers, largest first; every result (failures too)."""
        assert self.workers.target_url is not None
        jobs = [Job(self.source_url, self.workers.target_url, self.snapshot, self.plan.compile_id, file.name,
                    file.sha256, step, self.binary(step, target), self.plan.lock_timeout, self.plan.statement_timeout)
                for step in sorted(steps, key=lambda s: -s.rows)]
        return self.workers.map(copy_step, jobs, _died, on_done)

    def copy(self, cur: psycopg.Cursor[Any], file: RunFile, step: Step, target: psycopg.Connection[Any],
             label: str, report: Report | None) -> tuple[int, int]:
        return transfer(self.source, cur, step, self.binary(step, target), label, report)


class FileRows:
    """The same steps with their rows read from target/'s data files (where compile wrote each one's COPY
    data), for the parallel load of `foreign_keys: after`."""

    def __init__(self, directory: Path, plan: Contract, workers: Workers) -> None:
        self.directory = directory
        self.plan = plan
        self.workers = workers

    @staticmethod
    def handles(file: RunFile, plan: Contract, workers: Workers) -> bool:
        rows = [s for s in file.stream if s.kind == "rows"]
        return (plan.foreign_keys == "after" and workers.available and len(rows) > 1 and not file.platform
                and all(s.offset is not None for s in file.stream))

    def parallel(self) -> bool:
        return True

    def copy_parallel(self, file: RunFile, steps: list[Step], target: psycopg.Connection[Any],
                      on_done: Callable[[Copied], None]) -> list[Copied]:
        assert self.workers.target_url is not None
        path = str(self.directory / file.name)
        jobs = [Job("", self.workers.target_url, "", self.plan.compile_id, file.name, file.sha256, step, False,
                    self.plan.lock_timeout, self.plan.statement_timeout, path)
                for step in sorted(steps, key=lambda s: -(s.length or 0))]
        return self.workers.map(copy_step, jobs, _died, on_done)

    def copy(self, cur: psycopg.Cursor[Any], file: RunFile, step: Step, target: psycopg.Connection[Any],
             label: str, report: Report | None) -> tuple[int, int]:
        return from_file(self.directory / file.name, cur, step, label, report)


def _died(job: Job, exc: BaseException) -> Copied:
    return Copied(f"{job.file}#{job.step.unit}", 0, 0, 0.0,
                  f"{job.file}, {job.step.table}: a worker process failed: {exc or type(exc).__name__}")


@contextmanager
def streamer(source_url: str, plan: Contract, workers: Workers) -> Iterator[Streamer]:
    with connect(source_url) as source:
        s = Streamer(source, source_url, plan, workers)
        try:
            yield s
        finally:
            source.rollback()
