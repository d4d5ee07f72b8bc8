"""A post-data file built by several workers at once: the indexes and keys of one plain table per
worker (manifest.json `batches`, written by compile as it renders the file), then what must follow them
in file order (index attachments, statistics, partitioned tables), as pg_restore -j builds indexes.

Each table's statements run in one transaction on the target, after the file's session settings, with
its row in the run state (`FILE#table:schema.name`) and a large `maintenance_work_mem`: a killed run
resumes with the tables not yet indexed. The file is hashed before anything runs; its row in the run
state is written with the last statements.
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
    tables: dict[str, list[tuple[int, str]]] = {}
    serial: list[tuple[int, str]] = []
    position = 0
    for kind, count, table in file.batches:
        chunk = [(s.line, s.text) for s in items[position:position + count]]
        position += count
        if kind == "session":
            session += [text for _, text in chunk]
        elif kind == "table" and table is not None:
            tables.setdefault(f"{file.name}#table:{table}", []).extend(chunk)
        else:
            serial += chunk
    if position != len(items):
        return FileResult(file.name, "failed", file.sha256, 0, 0.0,
                          f"{file.name} holds {len(items)} statements where manifest.json's batches count {position}: "
                          "it is not the file compile wrote")
    jobs = [Job(workers.target_url or "", plan.compile_id, file.name, file.sha256, unit, tuple(session),
                tuple(statements), plan.lock_timeout, plan.statement_timeout)
            for unit, statements in sorted(tables.items(), key=lambda t: -len(t[1])) if unit not in done]
    failed = [b for b in workers.map(build, jobs, _died, lambda b: report(0, 0)) if b.error]
    if failed:
        more = f" (and {len(failed) - 1} more tables failed)" if len(failed) > 1 else ""
        return FileResult(file.name, "failed", file.sha256, 0, round(time.monotonic() - started, 3),
                          (failed[0].error or "failed") + more)
    line = 0
    try:
        with conn.transaction(), conn.cursor() as cur:
            _settings(cur, plan.lock_timeout, plan.statement_timeout)
            for text in session:
                cur.execute(text.encode())
            for item in serial:
                line = item[0]
                cur.execute(item[1].encode())
            state.record(cur, plan.compile_id, file.name, file.sha256, 0)
    except psycopg.Error as exc:
        return FileResult(file.name, "failed", file.sha256, 0, round(time.monotonic() - started, 3),
                          f"{file.name}, line {line}: {apply.error_message(exc)}")
    report(len(raw), 0)
    if apply.after_commit is not None:
        apply.after_commit(file.name)
    return FileResult(file.name, "done", file.sha256, 0, round(time.monotonic() - started, 3),
                      workers=max(1, min(workers.jobs, len(jobs))))


def _died(job: Job, exc: BaseException) -> Built:
    return Built(job.unit, 0.0, f"{job.file}, {qualified_unit(job.unit)}: a worker process failed: {exc}")


def qualified_unit(unit: str) -> str:
    return unit.partition("#table:")[2] or unit

