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

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.connect import connect
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import state
from pgconvoy.runner.contract import Contract, RunFile, Step

# The settings values are read and written with in text COPY, as the data files set them.
SOURCE_SETTINGS = (("client_encoding", "UTF8"), ("datestyle", "ISO, YMD"), ("intervalstyle", "postgres"),
                   ("extra_float_digits", "3"), ("bytea_output", "hex"), ("search_path", ""))
TARGET_SETTINGS = (("client_encoding", "UTF8"), ("datestyle", "ISO, YMD"), ("intervalstyle", "postgres"),
                   ("search_path", ""))
TEMP = "pgconvoy_second_pass"

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
        with connect(job.source) as src, connect(job.target) as dst:
            src.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            src.read_only = True
            src.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(job.snapshot)))
            _source_settings(src)
            with dst.transaction(), dst.cursor() as cur:
                _timeouts(cur, job.lock_timeout, job.statement_timeout)
                rows, size = transfer(src, cur, job.step, job.binary, f"{job.file}, {job.step.table}")
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
    for name, value in TARGET_SETTINGS:
        cur.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))
    table = sql.Identifier(step.table.schema, step.table.name)
    only = sql.SQL("ONLY " if step.only else "")
    options = sql.SQL(" (FORMAT binary)" if binary else "")
    if step.kind == "rows":
        columns = step.columns
        values = sql.SQL(", ").join(
            sql.SQL("NULL AS {}").format(sql.Identifier(c)) if c in step.nulls else sql.Identifier(c) for c in columns)
        select = sql.SQL("SELECT {} FROM {}{}").format(values, only, table)
        into: sql.Composable = table
    else:
        columns = step.key + step.columns
        names = sql.SQL(", ").join(map(sql.Identifier, columns))
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
            sql.Identifier(TEMP), names, table))
        select = sql.SQL("SELECT {} FROM {}{} WHERE {}").format(
            names, only, table,
            sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in step.columns))
        into = sql.Identifier("pg_temp", TEMP)
    column_list = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns))) if columns else sql.SQL("")
    size = 0
    with src.cursor() as scur:
        with scur.copy(sql.SQL("COPY ({}) TO STDOUT{}").format(select, options)) as out, \
                cur.copy(sql.SQL("COPY {}{} FROM STDIN{}").format(into, column_list, options)) as inp:
            for chunk in out:
                inp.write(chunk)
                size += len(chunk)
                if report is not None:
                    report(len(chunk), 0)
        rows = max(cur.rowcount, 0)
        sent = max(scur.rowcount, 0)
    if rows != sent:
        raise StreamFailed(f"{label}: the target took {rows} rows where the source sent {sent}")
    if step.kind == "second_pass":
        sets = sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                                  for c in step.columns)
        match = sql.SQL(" AND ").join(sql.SQL("t.{} = s.{}").format(sql.Identifier(c), sql.Identifier(c))
                                      for c in step.key)
        cur.execute(sql.SQL("UPDATE {} AS t SET {} FROM {} AS s WHERE {}").format(
            table, sets, sql.Identifier("pg_temp", TEMP), match))
        if cur.rowcount != rows:
            raise StreamFailed(f"{label}: the second pass matched {cur.rowcount} rows of the {rows} it copied")
    if report is not None:
        report(0, rows)
    return rows, size


def _message(exc: psycopg.Error) -> str:
    from pgconvoy.runner.apply import error_message

    return error_message(exc)


class Streamer:
    """The source side of a streaming run: its snapshot, and the workers that copy steps."""

    def __init__(self, source: psycopg.Connection[Any], source_url: str, target_url: str | None,
                 plan: Contract, jobs: int) -> None:
        self.source = source
        self.source_url = source_url
        self.target_url = target_url
        self.plan = plan
        self.jobs = jobs
        self.snapshot = open_snapshot(source)
        self._pool: ProcessPoolExecutor | None = None

    def binary(self, step: Step, target: psycopg.Connection[Any]) -> bool:
        if self.plan.encoding == "text" or not step.binary:
            return False
        same = self.source.info.server_version // 10000 == target.info.server_version // 10000
        return self.plan.encoding == "binary" or same

    def parallel(self) -> bool:
        return self.plan.foreign_keys == "after" and self.jobs > 1 and self.target_url is not None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.source.rollback()

    def copy_parallel(self, file: RunFile, steps: list[Step], target: psycopg.Connection[Any],
                      on_done: Callable[[Copied], None]) -> list[Copied]:
        """Copy `steps` in the workers, largest first; every result (failures too)."""
        assert self.target_url is not None
        futures: list[Future[Copied]] = []
        for step in sorted(steps, key=lambda s: -s.rows):
            job = Job(self.source_url, self.target_url, self.snapshot, self.plan.compile_id, file.name, file.sha256,
                      step, self.binary(step, target), self.plan.lock_timeout, self.plan.statement_timeout)
            future = self.pool().submit(copy_step, job)
            future.add_done_callback(lambda f: on_done(f.result()) if not f.cancelled() and not f.exception()
                                     else None)
            futures.append(future)
        results = []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:  # a worker that died (killed, out of memory)
                results.append(Copied(file.name, 0, 0, 0.0, f"{file.name}: a worker process failed: {exc}"))
        return results


@contextmanager
def streamer(source_url: str, target_url: str | None, plan: Contract, jobs: int) -> Iterator[Streamer]:
    with connect(source_url) as source:
        s = Streamer(source, source_url, target_url, plan, jobs)
        try:
            yield s
        finally:
            s.close()
