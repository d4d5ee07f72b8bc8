"""Apply `target/*.sql` to a database, in file-name order, each file in one transaction; resumable.

Files run in the order of their number (`01-schema-…`, `10-data-…`, `14-post-sequences.sql`, …);
`rollback.sql` and `validate/` are never run. Statements are split by `sqlfile` and sent one by one;
COPY blocks stream from the file to `COPY … FROM STDIN`, so memory stays flat for any file size.

After each file the outcome is written to `target/run_results.json` (status, sha256 of the file, rows,
seconds). A failed file is rolled back and the files before it stay committed; `resume=True` skips
the files already done, and refuses to go on when one of them changed since it was applied.

Without `resume`, a target that already holds tables of the migration is refused: a table a file
creates already exists, or a table a data file loads already has rows. Nothing here needs a
superuser: the schema renderer puts triggers and closing foreign keys after the data, so nothing is
disabled during the load.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq, sql
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pgconvoy import connect, quote, sqlfile
from pgconvoy.catalog.model import Name
from pgconvoy.errors import EXIT_FINDINGS, PgConvoyError

STATE_FILE = "run_results.json"
STATE_VERSION = 1
NOT_RUN = frozenset({"rollback.sql"})
COPY_CHUNK = 1 << 16
READ_BLOCK = 1 << 20

Report = Callable[[int, int], None]  # (bytes read, rows loaded) since the last call


class RunFailed(PgConvoyError):
    """A statement of a file failed on the target; the file was rolled back."""

    exit_code = EXIT_FINDINGS


@dataclass
class FileResult:
    file: str
    status: str  # done | failed | skipped (done by an earlier run)
    sha256: str
    rows: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)  # rows loaded per table
    error: str | None = None


@dataclass
class RunResult:
    target: str
    files: list[FileResult]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files if f.status == "done")


def files_to_run(target_dir: Path, only: str | None = None) -> list[Path]:
    """The files `run` applies, in order. `only` keeps one file (its name), one group's files
    (`foundation`: every `NN-*-foundation.sql`) or the files matching a glob (`1?-data-*.sql`)."""
    files = sorted((p for p in target_dir.glob("*.sql") if p.name not in NOT_RUN), key=_order)
    if only is None:
        return files
    chosen = [p for p in files if p.name == only or p.name.endswith(f"-{only}.sql") or fnmatch.fnmatch(p.name, only)]
    if not chosen:
        raise PgConvoyError(f"no file of {target_dir} matches {only!r}",
                            hint="give a file name, a group name or a glob such as '1?-data-*.sql'")
    return chosen


def run(
    target: str | psycopg.Connection[Any],
    target_dir: Path,
    *,
    resume: bool = False,
    only: str | None = None,
    allow_nonempty: bool = False,
    allow_older_target: bool = False,
    progress: Console | None = None,
) -> RunResult:
    """Apply the files of `target_dir` to `target` (a connection string or an open connection)."""
    if not target_dir.is_dir():
        raise PgConvoyError(f"{target_dir} is not a directory", hint="run `pgconvoy compile` first")
    files = files_to_run(target_dir, only)
    if isinstance(target, str):
        with connect.connect(target) as conn:
            return run(conn, target_dir, resume=resume, only=only, allow_nonempty=allow_nonempty,
                       allow_older_target=allow_older_target, progress=progress)
    check_versions(target, target_dir, allow_older=allow_older_target, console=progress)
    return _Runner(target, target_dir, progress).run(files, resume=resume, fresh=only is None,
                                                     allow_nonempty=allow_nonempty)


def check_versions(conn: psycopg.Connection[Any], target_dir: Path, *, allow_older: bool,
                   console: Console | None) -> None:
    """pg_dump writes SQL for the source's version: a target of an older major version may not accept
    it (identity syntax, NOT NULL constraints, MERGE, ...). Refused before anything is written."""
    manifest = target_dir / "manifest.json"
    if not manifest.is_file():
        return
    try:
        source = int(json.loads(manifest.read_text())["source"]["server_version"])
    except (ValueError, KeyError, TypeError):
        return  # an unreadable manifest is the manifest's problem, not this check's
    target = conn.info.server_version
    if target // 10000 >= source // 10000:
        return
    message = (f"the target runs PostgreSQL {target // 10000}, older than the source's {source // 10000}: "
               "its SQL may use what the target does not know")
    if not allow_older:
        raise PgConvoyError(message, hint="migrate to a target of the same or a newer major version, or allow an "
                            "older target explicitly (--allow-older-target) and fix what fails")
    if console is not None:
        console.print(f"[yellow]warning:[/] {message}", highlight=False)


class _Runner:
    def __init__(self, conn: psycopg.Connection[Any], target_dir: Path, console: Console | None) -> None:
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            raise PgConvoyError("the target connection has a transaction open; commit or roll it back first")
        self.conn = conn
        self.dir = target_dir
        self.console = console
        self.state_path = target_dir / STATE_FILE
        info = conn.info
        self.target = f"{info.user}@{info.host}:{info.port}/{info.dbname}"

    def run(self, files: list[Path], *, resume: bool, fresh: bool, allow_nonempty: bool) -> RunResult:
        state = self._load_state() if resume or not fresh else {}
        done = {name for name, r in state.items() if r.get("status") == "done"} if resume else set()
        if resume:
            self._check_unchanged([p for p in files if p.name in done], state)
        elif not allow_nonempty:
            self._refuse_nonempty(files)
        results = []
        with _progress(self.console, files) as bars:
            for number, path in enumerate(files, 1):
                if path.name in done:
                    entry = state[path.name]
                    results.append(FileResult(path.name, "skipped", entry["sha256"], entry.get("rows", 0)))
                    bars.skip(path, number)
                    continue
                result = self._apply(path, bars.start(path, number))
                state[path.name] = asdict(result)
                self._save_state(state)
                bars.finish(path, number, result)
                results.append(result)
                if result.status == "failed":
                    raise RunFailed(result.error or "failed",
                                    hint="fix the cause, then run again with resume to continue from this file")
        return RunResult(self.target, results)

    def _apply(self, path: Path, report: Report) -> FileResult:
        digest = hashlib.sha256()
        tables: dict[str, int] = {}
        started = time.monotonic()
        current: sqlfile.Item | None = None
        try:
            with path.open("rb", buffering=0) as raw, self.conn.transaction(), self.conn.cursor() as cur:
                lines = io.BufferedReader(_HashingReader(raw, digest, report), buffer_size=READ_BLOCK)
                for current in sqlfile.split(lines, path.name):
                    loaded = self._execute(cur, current)
                    if loaded is not None:
                        name, rows = loaded
                        tables[name] = tables.get(name, 0) + rows
                        report(0, rows)
        except psycopg.Error as exc:
            error = _describe_error(path.name, current, exc)
            return FileResult(path.name, "failed", file_sha256(path), sum(tables.values()),
                              round(time.monotonic() - started, 3), tables, error)
        except sqlfile.SqlFileError as exc:
            return FileResult(path.name, "failed", file_sha256(path), 0, round(time.monotonic() - started, 3), {},
                              exc.message)
        return FileResult(path.name, "done", digest.hexdigest(), sum(tables.values()),
                          round(time.monotonic() - started, 3), tables)

    def _execute(self, cur: psycopg.Cursor[Any], item: sqlfile.Item) -> tuple[str, int] | None:
        """Run one statement or COPY block; (table, rows) when it loaded rows into a table."""
        if isinstance(item, sqlfile.CopyBlock):
            with cur.copy(item.statement.text.encode()) as copy:
                for chunk in _chunks(item.data):
                    copy.write(chunk)
            return _loaded(item.table, cur.rowcount)
        cur.execute(item.text.encode())
        found = sqlfile.table_of(item)
        if found is not None and found[0] == "insert":
            return _loaded(found[1], cur.rowcount)
        return None

    def _refuse_nonempty(self, files: list[Path]) -> None:
        created, loaded = _tables_of(files)
        taken = []
        with self.conn.transaction(), self.conn.cursor() as cur:
            for name in sorted(created | loaded):
                row = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (quote.qualified(name),)).fetchone()
                if not row or not row[0]:
                    continue
                if name in created:
                    taken.append(f"{name} exists")
                    continue
                has_rows = cur.execute(
                    sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(name.schema, name.name))
                ).fetchone()
                if has_rows and has_rows[0]:
                    taken.append(f"{name} has rows")
        if taken:
            more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
            raise PgConvoyError(
                f"target {self.target} already holds tables of this migration: {', '.join(taken[:5])}{more}",
                hint="use an empty database, undo the earlier run with target/rollback.sql, "
                "continue it with resume, or allow a non-empty target explicitly",
            )

    def _check_unchanged(self, done: list[Path], state: dict[str, Any]) -> None:
        for path in done:
            if file_sha256(path) != state[path.name]["sha256"]:
                raise PgConvoyError(
                    f"{path.name} changed since it was applied to the target, so the run cannot resume",
                    hint="apply the new files to an empty target (without resume), or restore the old file",
                )

    def _load_state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {}
        try:
            data = json.loads(self.state_path.read_text())
            files: dict[str, Any] = data["files"]
        except (ValueError, KeyError, TypeError):
            raise PgConvoyError(f"{self.state_path} is not a run state pgconvoy can read",
                                hint="delete it and run without resume") from None
        return files

    def _save_state(self, files: dict[str, Any]) -> None:
        data = {"version": STATE_VERSION, "target": self.target, "files": files}
        partial = self.state_path.with_name(STATE_FILE + ".partial")
        partial.write_text(json.dumps(data, indent=2) + "\n")
        partial.replace(self.state_path)


def _order(path: Path) -> tuple[int, str]:
    m = re.match(r"\d+", path.name)
    return (int(m.group()) if m else 1 << 30, path.name)


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


def _loaded(table: Name | None, rows: int) -> tuple[str, int] | None:
    if table is None or table.schema == "pg_temp" or rows < 0:
        return None
    return str(table), rows


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks (data files can be gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables_of(files: list[Path]) -> tuple[set[Name], set[Name]]:
    """Tables the files create, and tables they load rows into (COPY or INSERT)."""
    created: set[Name] = set()
    loaded: set[Name] = set()
    for path in files:
        with path.open("rb") as f:
            for item in sqlfile.split(f, path.name):
                statement = item.statement if isinstance(item, sqlfile.CopyBlock) else item
                found = sqlfile.table_of(statement)
                if found is None or found[1].schema == "pg_temp":
                    continue
                (created if found[0] == "create" else loaded).add(found[1])
    return created, loaded - created


def _describe_error(file: str, item: sqlfile.Item | None, exc: psycopg.Error) -> str:
    """`FILE, line N, WHAT: server message (detail)`, the line being the failing line of the file."""
    diag = exc.diag
    message = (diag.message_primary or str(exc)).strip()
    if diag.message_detail:
        message += f" ({diag.message_detail.strip()})"
    if item is None:
        return f"{file}: {message}"
    if isinstance(item, sqlfile.CopyBlock):
        line = item.statement.line
        m = re.search(r"\bline (\d+)", diag.context or "")
        if m:
            line = item.data_line + int(m.group(1)) - 1
        what = f"COPY {item.table}" if item.table else item.statement.summary
        return f"{file}, line {line}, {what}: {message}"
    line = item.line
    if diag.statement_position:
        line += item.text[: int(diag.statement_position) - 1].count("\n")
    return f"{file}, line {line}, {item.summary}: {message}"


class _Bars:
    def __init__(self, progress: Progress | None, console: Console | None, total: int) -> None:
        self.progress = progress
        self.console = console
        self.total = total
        self.task: Any = None
        self.rows = 0

    def start(self, path: Path, number: int) -> Report:
        if self.progress is None:
            return lambda size, rows: None
        self.rows = 0
        self.task = self.progress.add_task(path.name, total=path.stat().st_size, rows=0)
        progress, task = self.progress, self.task

        def report(size: int, rows: int) -> None:
            self.rows += rows
            progress.update(task, advance=size, rows=self.rows)

        return report

    def finish(self, path: Path, number: int, result: FileResult) -> None:
        if self.progress is None or self.console is None:
            return
        self.progress.remove_task(self.task)
        status = "[green]OK[/]" if result.status == "done" else "[red]ERROR[/]"
        self.console.print(f"{number} of {self.total} {status} {path.name}  "
                           f"{result.rows:,} rows in {result.seconds:.1f}s", highlight=False)

    def skip(self, path: Path, number: int) -> None:
        if self.console is not None:
            self.console.print(f"{number} of {self.total} [dim]SKIP[/] {path.name} (done by an earlier run)",
                               highlight=False)


@contextmanager
def _progress(console: Console | None, files: list[Path]) -> Iterator[_Bars]:
    if console is None:
        yield _Bars(None, None, len(files))
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield _Bars(progress, console, len(files))
