"""Apply the files of a compile to a database, in the manifest's order, each file in one transaction.

Statements are split by `sqlfile` and sent one by one; COPY blocks stream from the file to
`COPY … FROM STDIN`, so memory stays flat for any file size. Each file is hashed as it streams: a file
whose sha256 is not the manifest's is rolled back (it changed since compile). The file's row in the
target's run state is written in the same transaction (`state.record`), so a file is applied exactly
once. After the last data file, every group's validation runs (counts, foreign keys, second passes).

Nothing here needs a superuser: triggers and closing foreign keys come after the data, so nothing is
disabled during the load.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq, sql

from pgconvoy import sqlfile
from pgconvoy.errors import EXIT_FINDINGS, PgConvoyError
from pgconvoy.runner import state
from pgconvoy.runner.contract import Contract, RunFile

COPY_CHUNK = 1 << 16
READ_BLOCK = 1 << 20

Report = Callable[[int, int], None]  # (bytes read, rows loaded) since the last call
# Called once a file is committed, before anything is written locally (tests inject faults here).
after_commit: Callable[[str], None] | None = None


class RunFailed(PgConvoyError):
    """A statement of a file failed on the target, or a validation found a problem; nothing of that
    file stayed."""

    exit_code = EXIT_FINDINGS


@dataclass
class FileResult:
    file: str
    status: str  # done | failed | skipped (done by an earlier run)
    sha256: str
    rows: int = 0
    seconds: float = 0.0
    error: str | None = None
    workers: int = 1  # processes that applied it at once


@dataclass
class RunResult:
    target: str
    compile_id: str
    files: list[FileResult] = field(default_factory=list)
    validation: list[tuple[str, str, int, int]] = field(default_factory=list)  # failures: table, check, got, want

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "done")


class Applier:
    def __init__(self, conn: psycopg.Connection[Any], target_dir: Path, contract: Contract) -> None:
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            raise PgConvoyError("the target connection has a transaction open; commit or roll it back first")
        self.conn = conn
        self.dir = target_dir
        self.contract = contract

    def apply(self, file: RunFile, report: Report) -> FileResult:
        path = self.dir / file.name
        digest = hashlib.sha256()
        rows = 0
        started = time.monotonic()
        current: sqlfile.Item | None = None
        try:
            with path.open("rb", buffering=0) as raw, self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(self.contract.lock_timeout)))
                cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(self.contract.statement_timeout)))
                lines = io.BufferedReader(_HashingReader(raw, digest, report), buffer_size=READ_BLOCK)
                for current in sqlfile.split(lines, file.name):
                    written = self._execute(cur, current)
                    rows += written
                    report(0, written)
                current = None
                if digest.hexdigest() != file.sha256:
                    raise _Changed(file.name)
                state.record(cur, self.contract.compile_id, file.name, file.sha256, rows)
        except psycopg.Error as exc:
            return self._failed(file, rows, started, describe_error(file.name, current, exc))
        except (sqlfile.SqlFileError, _Changed) as exc:
            return self._failed(file, rows, started, exc.message)
        except OSError as exc:
            return self._failed(file, rows, started, f"{file.name}: cannot read it: {exc.strerror}")
        if after_commit is not None:
            after_commit(file.name)
        return FileResult(file.name, "done", file.sha256, rows, round(time.monotonic() - started, 3))

    def _failed(self, file: RunFile, rows: int, started: float, error: str) -> FileResult:
        return FileResult(file.name, "failed", file.sha256, rows, round(time.monotonic() - started, 3), error)

    def _execute(self, cur: psycopg.Cursor[Any], item: sqlfile.Item) -> int:
        """Run one statement or COPY block; the rows a COPY or INSERT wrote."""
        if isinstance(item, sqlfile.CopyBlock):
            with cur.copy(item.statement.text.encode()) as copy:
                for chunk in _chunks(item.data):
                    copy.write(chunk)
            return max(cur.rowcount, 0)
        cur.execute(item.text.encode())
        return max(cur.rowcount, 0) if (cur.statusmessage or "").startswith(("INSERT", "COPY")) else 0

    def validate(self) -> list[tuple[str, str, int, int]]:
        """Every group's checks (each query returns a row per failure), in one read-only transaction."""
        failures: list[tuple[str, str, int, int]] = []
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            for name in self.contract.validations:
                text = (self.dir / name).read_text(encoding="utf-8")
                try:
                    rows = cur.execute(text.encode()).fetchall()
                except psycopg.Error as exc:
                    raise RunFailed(f"{name}: the validation query failed: {error_message(exc)}") from None
                failures += [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]
        return failures


class _Changed(PgConvoyError):
    def __init__(self, file: str) -> None:
        super().__init__(f"{file} changed since compile: its sha256 is not the one manifest.json records")


class _HashingReader(io.RawIOBase):
    """A file read in large blocks, each hashed and reported as it goes by. Lines are then split in C by
    the BufferedReader around it: a Python step per line costs as much as the line's trip to the server."""

    def __init__(self, raw: io.FileIO, digest: Any, report: Report) -> None:
        self.raw = raw
        self.digest = digest
        self.report = report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = self.raw.readinto(buffer)
        if size:
            with memoryview(buffer) as view:
                self.digest.update(view[:size])
            self.report(size, 0)
        return int(size or 0)


def _chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    """COPY data lines joined into chunks of about 64 KiB: fewer, larger writes to the server."""
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= COPY_CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def error_message(exc: psycopg.Error) -> str:
    """The server's message, its detail and its hint (`out of shared memory` means nothing without
    `You might need to increase max_locks_per_transaction`)."""
    diag = exc.diag
    message = (diag.message_primary or str(exc)).strip()
    if diag.message_detail:
        message += f" ({diag.message_detail.strip()})"
    if diag.message_hint:
        message += f"; hint: {diag.message_hint.strip()}"
    return message


def describe_error(file: str, item: sqlfile.Item | None, exc: psycopg.Error) -> str:
    """`FILE, line N, WHAT: server message (detail); hint: ...`, the line being the failing line of the file."""
    message = error_message(exc)
    if item is None:
        return f"{file}: {message}"
    if isinstance(item, sqlfile.CopyBlock):
        line = item.statement.line
        m = re.search(r"\bline (\d+)", exc.diag.context or "")
        if m:
            line = item.data_line + int(m.group(1)) - 1
        return f"{file}, line {line}, {item.statement.summary}: {message}"
    line = item.line
    if exc.diag.statement_position:
        line += item.text[: int(exc.diag.statement_position) - 1].count("\n")
    return f"{file}, line {line}, {item.summary}: {message}"
