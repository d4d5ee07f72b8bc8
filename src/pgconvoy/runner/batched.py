"""A post-data file built by several workers at once (manifest.json `batches`, written by compile as it
renders the file), in phases of file order: the indexes and keys of one plain table per worker, then what
must follow them (index attachments, statistics, partitioned tables), as pg_restore -j builds indexes;
the foreign keys added NOT VALID in one transaction, then validated side by side, one table per worker.

Each table's statements run in one transaction on the target, after the file's session settings, with
its row in the run state (`FILE#table:schema.name`) and a large `maintenance_work_mem`; each serial
phase in one transaction with its own row (`FILE#serial:N`): a killed run resumes with what is not done.
The file is hashed before anything runs; its own row in the run state is written once every phase is.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pgconvoy import sqlfile
from pgconvoy.connect import connect
from pgconvoy.errors import PgConvoyError
from pgconvoy.runner import apply, state
from pgconvoy.runner.apply import FileResult
from pgconvoy.runner.contract import Contract, RunFile
from pgconvoy.runner.workers import Workers

MAINTENANCE_WORK_MEM = "512MB"  # per worker: sorts for index builds stay in memory


@dataclass(frozen=True, slots=True)
class Job:
    target: str
    compile_id: str
    file: str
    sha256: str
    unit: str
    session: tuple[str, ...]
    statements: tuple[tuple[int, str], ...]  # (line, text)
    lock_timeout: str
    statement_timeout: str


@dataclass(frozen=True, slots=True)
class Built:
    unit: str
    seconds: float
    error: str | None = None


def parallel(file: RunFile, workers: Workers) -> bool:
    return workers.available and sum(1 for kind, _, _ in file.batches if kind == "table") > 1


def build(job: Job) -> Built:
    """In a worker: one table's statements in one transaction, recorded in the run state."""
    started = time.monotonic()
    line = 0
    try:
        with connect(job.target) as conn, conn.transaction(), conn.cursor() as cur:
            _settings(cur, job.lock_timeout, job.statement_timeout)
            for text in job.session:
                cur.execute(text.encode())
            for item in job.statements:
                line = item[0]  # named in the error
                cur.execute(item[1].encode())
            state.record(cur, job.compile_id, job.unit, job.sha256, 0)
    except psycopg.Error as exc:
        return Built(job.unit, time.monotonic() - started, f"{job.file}, line {line}: {apply.error_message(exc)}")
    except PgConvoyError as exc:
        return Built(job.unit, time.monotonic() - started, exc.message)
    return Built(job.unit, time.monotonic() - started)


def _settings(cur: psycopg.Cursor[Any], lock: str, statement: str) -> None:
    cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(lock)))
    cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(statement)))
    cur.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(MAINTENANCE_WORK_MEM)))


def apply_file(conn: psycopg.Connection[Any], directory: Path, plan: Contract, file: RunFile, workers: Workers,
               done: dict[str, state.Applied], shown: Any) -> FileResult:
    started = time.monotonic()
    raw = (directory / file.name).read_bytes()
    if hashlib.sha256(raw).hexdigest() != file.sha256:
        return FileResult(file.name, "failed", file.sha256, 0, 0.0,
                          f"{file.name} changed since compile: its sha256 is not the one manifest.json records")
    report = shown.start(file.name, len(raw))
    items = [i for i in sqlfile.split(raw.splitlines(keepends=True), file.name) if isinstance(i, sqlfile.Statement)]
    session: list[str] = []
    # phases in file order: consecutive table batches run side by side, serial ones in one transaction
    phases: list[tuple[str, dict[str, list[tuple[int, str]]]]] = []
    position = 0
    for kind, count, table in file.batches:
        chunk = [(s.line, s.text) for s in items[position:position + count]]
        position += count
        if kind == "session":
            session += [text for _, text in chunk]
            continue
        parallel = kind == "table" and table is not None
        if not phases or phases[-1][0] != ("table" if parallel else "serial"):
            phases.append(("table" if parallel else "serial", {}))
        unit = f"{file.name}#table:{table}" if parallel else f"{file.name}#serial:{len(phases)}"
        phases[-1][1].setdefault(unit, []).extend(chunk)
    if position != len(items):
        return FileResult(file.name, "failed", file.sha256, 0, 0.0,
                          f"{file.name} holds {len(items)} statements where manifest.json's batches count {position}: "
                          "it is not the file compile wrote")
    used = 1
    for kind, units in phases:
        if kind == "table":
            jobs = [Job(workers.target_url or "", plan.compile_id, file.name, file.sha256, unit, tuple(session),
                        tuple(statements), plan.lock_timeout, plan.statement_timeout)
                    for unit, statements in sorted(units.items(), key=lambda t: -len(t[1])) if unit not in done]
            used = max(used, min(workers.jobs, len(jobs)))
            failed = [b for b in workers.map(build, jobs, _died, lambda b: report(0, 0)) if b.error]
            if failed:
                more = f" (and {len(failed) - 1} more tables failed)" if len(failed) > 1 else ""
                return FileResult(file.name, "failed", file.sha256, 0, round(time.monotonic() - started, 3),
                                  (failed[0].error or "failed") + more)
            continue
        for unit, statements in units.items():
            if unit in done:
                continue
            error = _serial(conn, plan, file, unit, session, statements)
            if error is not None:
                return FileResult(file.name, "failed", file.sha256, 0, round(time.monotonic() - started, 3), error)
    with conn.transaction(), conn.cursor() as cur:
        state.record(cur, plan.compile_id, file.name, file.sha256, 0)
    report(len(raw), 0)
    if apply.after_commit is not None:
        apply.after_commit(file.name)
    return FileResult(file.name, "done", file.sha256, 0, round(time.monotonic() - started, 3), workers=used)


def _serial(conn: psycopg.Connection[Any], plan: Contract, file: RunFile, unit: str, session: list[str],
            statements: list[tuple[int, str]]) -> str | None:
    """Statements that run in file order, in one transaction of the run's own session; the error, if any."""
    line = 0
    try:
        with conn.transaction(), conn.cursor() as cur:
            _settings(cur, plan.lock_timeout, plan.statement_timeout)
            for text in session:
                cur.execute(text.encode())
            for item in statements:
                line = item[0]
                cur.execute(item[1].encode())
            state.record(cur, plan.compile_id, unit, file.sha256, 0)
    except psycopg.Error as exc:
        return f"{file.name}, line {line}: {apply.error_message(exc)}"
    return None


def _died(job: Job, exc: BaseException) -> Built:
    return Built(job.unit, 0.0, f"{job.file}, {qualified_unit(job.unit)}: a worker process failed: {exc}")


def qualified_unit(unit: str) -> str:
    return unit.partition("#table:")[2] or unit

