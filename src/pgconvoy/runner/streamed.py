"""The coordinator of a data file loaded step by step: streamed from the source's snapshot (`run
--source`), or read from where compile wrote each step's rows in the file, by parallel workers (`foreign_keys:
after`); and the sequences file of a streaming run (see `stream` for how a step travels)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy.errors import PgConvoyError
from pgconvoy.quote import qualified
from pgconvoy.runner import apply, state
from pgconvoy.runner.apply import FileResult
from pgconvoy.runner.contract import RunFile, Step
from pgconvoy.runner.stream import Copied, FileRows, Streamer, _timeouts

Loader = Streamer | FileRows


def apply_file(conn: psycopg.Connection[Any], s: Loader, file: RunFile, done: dict[str, state.Applied],
               shown: Any) -> FileResult:
    started = time.monotonic()
    report = shown.start(file.name, None)
    try:
        if file.sequences is not None:
            assert isinstance(s, Streamer)
            rows = _sequences(conn, s, file)
        elif s.plan.foreign_keys == "during" or file.platform:  # the platform's keys are in place
            rows = _in_one_transaction(conn, s, file, report)
        else:
            rows = _step_by_step(conn, s, file, done, report)
    except psycopg.Error as exc:
        return FileResult(file.name, "failed", file.sha256, 0, _seconds(started),
                          f"{file.name}: {apply.error_message(exc)}")
    except PgConvoyError as exc:
        return FileResult(file.name, "failed", file.sha256, 0, _seconds(started), exc.message)
    if apply.after_commit is not None:
        apply.after_commit(file.name)
    parallel = file.sequences is None and s.plan.foreign_keys == "after" and s.parallel() and not file.platform
    tables = sum(1 for step in file.stream if step.kind == "rows")
    return FileResult(file.name, "done", file.sha256, rows, _seconds(started),
                      workers=max(1, min(s.workers.jobs, tables)) if parallel else 1)


def _seconds(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _label(file: RunFile, step: Step) -> str:
    return f"{file.name}, {qualified(step.table)}{' (second pass)' if step.kind == 'second_pass' else ''}"


def _in_one_transaction(conn: psycopg.Connection[Any], s: Loader, file: RunFile, report: Any) -> int:
    """`foreign_keys: during`: the file's steps in its order, in one transaction, DEFERRABLE keys checked
    at its commit, as the file itself would load."""
    rows = 0
    with conn.transaction(), conn.cursor() as cur:
        _timeouts(cur, s.plan.lock_timeout, s.plan.statement_timeout)
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for step in file.stream:
            rows += s.copy(cur, file, step, conn, _label(file, step), report)[0]
        state.record(cur, s.plan.compile_id, file.name, file.sha256, rows)
    return rows


def _step_by_step(conn: psycopg.Connection[Any], s: Loader, file: RunFile, done: dict[str, state.Applied],
                  report: Any) -> int:
    """`foreign_keys: after`: each table in its own transaction (in parallel in the workers), then the
    second passes; the file is recorded once every step is."""
    pending = [step for step in file.stream if file.unit(step) not in done]
    rows = sum(done[file.unit(step)].rows for step in file.stream if file.unit(step) in done)
    tables = [step for step in pending if step.kind == "rows"]
    if s.parallel() and len(tables) > 1:
        results = s.copy_parallel(file, tables, conn, lambda c: report(c.bytes, c.rows))
        failed = [c for c in results if c.error]
        if failed:
            more = f" (and {len(failed) - 1} more steps failed)" if len(failed) > 1 else ""
            raise PgConvoyError((failed[0].error or "failed") + more)
        rows += sum(c.rows for c in results)
        tables = []
    for step in [*tables, *(step for step in pending if step.kind == "second_pass")]:
        rows += _one_step(conn, s, file, step, report).rows
    with conn.transaction(), conn.cursor() as cur:
        state.record(cur, s.plan.compile_id, file.name, file.sha256, rows)
    return rows


def _one_step(conn: psycopg.Connection[Any], s: Loader, file: RunFile, step: Step, report: Any) -> Copied:
    started = time.monotonic()
    with conn.transaction(), conn.cursor() as cur:
        _timeouts(cur, s.plan.lock_timeout, s.plan.statement_timeout)
        rows, size = s.copy(cur, file, step, conn, _label(file, step), report)
        state.record(cur, s.plan.compile_id, file.unit(step), file.sha256, rows)
    return Copied(file.unit(step), rows, size, time.monotonic() - started)


def _sequences(conn: psycopg.Connection[Any], s: Streamer, file: RunFile) -> int:
    """Each sequence at its position in the run's snapshot (compile's file holds those of its own)."""
    assert file.sequences is not None
    with conn.transaction(), conn.cursor() as cur:
        _timeouts(cur, s.plan.lock_timeout, s.plan.statement_timeout)
        for name in file.sequences:
            row = s.source.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.Identifier(name.schema, name.name))).fetchone()
            assert row is not None
            cur.execute("SELECT pg_catalog.setval(%s::regclass, %s, %s)", (qualified(name), row[0], row[1]))
        state.record(cur, s.plan.compile_id, file.name, file.sha256, 0)
    return 0
