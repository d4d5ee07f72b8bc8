"""`pgconvoy run`: apply a compile's `target/` to a database, resumably and exactly once.

What runs comes from `target/manifest.json` (`contract`); what has been applied is kept in the target
itself (`state`), written in each file's own transaction; `apply` applies one file. The steps:
1. refuse a target older than the source's major version (unless allowed), then take the run lock;
2. read the target's state: files of another compile are refused; without `resume`, so is a target
   that already holds files of this one, or tables of the migration;
3. apply each file not yet applied, in order, each in one transaction; after the last data file,
   run every group's validation and fail naming what is wrong;
4. write `target/run_results.json`, a report of this run (the truth is the target's state).
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from rich.console import Console
from rich.markup import escape

from pgconvoy import connect, contracts
from pgconvoy.data import file_sha256
from pgconvoy.errors import PgConvoyError
from pgconvoy.quote import qualified
from pgconvoy.runner import apply, batched, contract, state, stream, streamed
from pgconvoy.runner.apply import FileResult, RunFailed, RunResult
from pgconvoy.runner.progress import bars
from pgconvoy.runner.workers import Workers

__all__ = ["STATE_FILE", "FileResult", "RunFailed", "RunResult", "check_versions", "file_sha256", "run"]

STATE_FILE = "run_results.json"


def run(
    target: str | psycopg.Connection[Any],
    target_dir: Path,
    *,
    resume: bool = False,
    only: str | None = None,
    allow_nonempty: bool = False,
    allow_older_target: bool = False,
    forget_state: bool = False,
    progress: Console | None = None,
    source: str | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Apply the files of `target_dir` to `target` (a connection string or an open connection).

    `source`: copy the rows from this database instead of reading them from target/ (`stream`), with
    `jobs` worker processes (default: the machine's cores; workers need `target` as a connection string)."""
    if not target_dir.is_dir():
        raise PgConvoyError(f"{target_dir} is not a directory", hint="run `pgconvoy compile` first")
    plan = contract.read(target_dir)
    if plan.rows == "stream" and source is None:
        raise PgConvoyError("this compile holds no rows (data: rows: stream): they are copied from the source",
                            hint="give the source: pgconvoy run --source URL --target URL")
    if isinstance(target, str):
        with connect.connect(target) as conn:
            return _run(conn, connect.resolve(target), target_dir, plan, resume=resume, only=only,
                        allow_nonempty=allow_nonempty, allow_older_target=allow_older_target,
                        forget_state=forget_state, progress=progress, source=source, jobs=jobs)
    return _run(target, None, target_dir, plan, resume=resume, only=only, allow_nonempty=allow_nonempty,
                allow_older_target=allow_older_target, forget_state=forget_state, progress=progress,
                source=source, jobs=jobs)


def _run(conn: psycopg.Connection[Any], target_url: str | None, target_dir: Path, plan: contract.Contract, *,
         resume: bool, only: str | None, allow_nonempty: bool, allow_older_target: bool, forget_state: bool,
         progress: Console | None, source: str | None, jobs: int | None) -> RunResult:
    check_versions(conn, plan.source_version, allow_older=allow_older_target, console=progress)
    _preflight(conn, plan, progress)
    state.lock(conn)
    try:
        with ExitStack() as stack:
            workers = Workers(jobs or os.cpu_count() or 1, target_url)
            stack.callback(workers.close)
            streaming = None
            if source is not None:
                streaming = stack.enter_context(stream.streamer(connect.resolve(source), plan, workers))
            return _Run(conn, target_dir, plan, progress, streaming, workers).go(
                plan.select(only), resume=resume or only is not None,
                allow_nonempty=allow_nonempty or only is not None,
                forget=forget_state and only is None, validate=only is None)
    finally:
        conn.rollback()
        conn.execute("SELECT pg_catalog.pg_advisory_unlock(%s)", (state.LOCK_KEY,))
        conn.commit()


class _Run:
    def __init__(self, conn: psycopg.Connection[Any], target_dir: Path, plan: contract.Contract,
                 console: Console | None, streaming: stream.Streamer | None = None,
                 workers: Workers | None = None) -> None:
        self.conn = conn
        self.dir = target_dir
        self.plan = plan
        self.console = console
        self.streaming = streaming
        self.workers = workers or Workers(1, None)
        info = conn.info
        self.result = RunResult(f"{info.user}@{info.host}:{info.port}/{info.dbname}", plan.compile_id)

    def go(self, files: tuple[contract.RunFile, ...], *, resume: bool, allow_nonempty: bool,
           forget: bool, validate: bool) -> RunResult:
        done = self._applied(resume)
        if not done and not allow_nonempty:
            self._refuse_nonempty()
        state.prepare(self.conn)
        applier = apply.Applier(self.conn, self.dir, self.plan)
        last_data = max((i for i, f in enumerate(self.plan.files) if f.step == "data"), default=-1)
        with bars(self.console, len(files)) as shown:
            for number, file in enumerate(files, 1):
                if file.name in done:
                    self.result.files.append(FileResult(file.name, "skipped", file.sha256, done[file.name].rows))
                    shown.skip(number, file.name)
                    continue
                if validate and self.plan.files.index(file) > last_data >= 0 and not self.result.validation:
                    self._validate(applier, shown)
                if self.streaming is not None and (file.step == "data" or file.sequences is not None):
                    outcome = streamed.apply_file(self.conn, self.streaming, file, done, shown)
                elif file.step == "data" and stream.FileRows.handles(file, self.plan, self.workers):
                    outcome = streamed.apply_file(self.conn, stream.FileRows(self.dir, self.plan, self.workers),
                                                  file, done, shown)
                elif batched.parallel(file, self.workers):
                    outcome = batched.apply_file(self.conn, self.dir, self.plan, file, self.workers, done, shown)
                else:
                    outcome = applier.apply(file, shown.start(file.name, (self.dir / file.name).stat().st_size))
                self.result.files.append(outcome)
                self._report()
                shown.finish(number, outcome)
                if outcome.status == "failed":
                    raise RunFailed(outcome.error or "failed", hint="fix the cause, then run again with --resume "
                                    "to continue from this file (the files before it stay applied)")
            if validate and last_data >= 0 and not self.result.validation:  # no post-data file came after
                self._validate(applier, shown)
        if forget:
            state.forget(self.conn)
            shown.note("The target's run state (schema pgconvoy) is removed.")
        return self.result

    def _applied(self, resume: bool) -> dict[str, state.Applied]:
        applied = state.read(self.conn)
        others = sorted({a.compile_id for a in applied} - {self.plan.compile_id})
        if others:
            raise PgConvoyError(
                f"the target holds files of another compile ({len([a for a in applied if a.compile_id in others])} "
                f"files of compile {others[0][:12]}): this is not the migration it started",
                hint="apply this one to an empty database; if the earlier one was undone, clear its state with "
                "--forget-state")
        done = {a.file: a for a in applied}
        if done and not resume:
            raise PgConvoyError(f"the target already holds {len(done)} files of this migration (applied by an earlier "
                                "run)", hint="continue it with --resume")
        for name, row in done.items():
            file_name = name.partition("#")[0]  # a step of a streamed data file: FILE#rows:schema.table
            local = next((f for f in self.plan.files if f.name == file_name), None)
            if local is None or local.sha256 != row.sha256:
                raise PgConvoyError(f"{name} changed since it was applied to the target, so the run cannot resume",
                                    hint="apply the new files to an empty target, or restore the old file")
        return done

    def _refuse_nonempty(self) -> None:
        """A table the migration creates must not exist; one it loads must not hold rows."""
        taken = []
        with self.conn.transaction(), self.conn.cursor() as cur:
            for name in dict.fromkeys(self.plan.creates + self.plan.loads):
                row = cur.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL", (qualified(name),)).fetchone()
                if not row or not row[0]:
                    continue
                if name in self.plan.creates:
                    taken.append(f"{qualified(name)} exists")
                    continue
                has_rows = cur.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
                    sql.Identifier(name.schema, name.name))).fetchone()
                if has_rows and has_rows[0]:
                    taken.append(f"{qualified(name)} has rows")
        if taken:
            more = f" and {len(taken) - 5} more" if len(taken) > 5 else ""
            raise PgConvoyError(
                f"target {self.result.target} already holds tables of this migration: {', '.join(taken[:5])}{more}",
                hint="use an empty database, undo the earlier run with target/rollback.sql, or allow a non-empty "
                "target explicitly")

    def _validate(self, applier: apply.Applier, shown: Any) -> None:
        if self.streaming is not None:  # compile's counts are of its snapshot, not of the run's
            self.result.validation = [("", "all checks passed", 0, 0)]
            shown.note("Validation: every table holds the rows the source sent in the run's snapshot, every "
                       "second pass matched all its rows.")
            return
        failures = applier.validate()
        if failures:
            self.result.validation = failures
            self._report()
            listed = "; ".join(f"{table} {check}: {got} where {want} were expected"
                               for table, check, got, want in failures[:5])
            raise RunFailed(f"the data is not what compile exported: {listed}"
                            + (f" and {len(failures) - 5} more" if len(failures) > 5 else ""),
                            hint="the rows of target/ and of the target differ: look for triggers, rules or policies "
                            "the target already had, or rows changed by another session")
        self.result.validation = [("", "all checks passed", 0, 0)]
        shown.note(f"Validation of {len(self.plan.validations)} groups: every count, foreign key and second pass "
                   "as compiled.")

    def _report(self) -> None:
        """target/run_results.json: what this run did (the target's state is the truth)."""
        doc = {"version": contracts.RUN_RESULTS_VERSION, "compile_id": self.result.compile_id,
               "target": self.result.target,
               "files": {f.file: asdict(f) for f in self.result.files},
               "validation": [{"table": t, "check": c, "actual": a, "expected": e}
                              for t, c, a, e in self.result.validation]}
        text = contracts.dump(contracts.RunResultsDoc, doc)
        path = self.dir / STATE_FILE
        partial = path.with_name(STATE_FILE + ".partial")
        try:
            partial.write_text(text)
            partial.replace(path)
        except OSError:
            pass  # a report only: the target's state already holds the truth


def _preflight(conn: psycopg.Connection[Any], plan: contract.Contract, console: Console | None) -> None:
    """What would fail half-way (privileges, extensions, roles, the lock table), found before anything is
    written (`pgconvoy preflight`); the version and a non-empty target are judged by run itself, above and
    with the run state (a resumed run finds its own tables)."""
    from pgconvoy import preflight

    found = [f for f in preflight.findings(conn, plan) if f.kind not in ("older_target", "not_empty")]
    for finding in preflight.refuse(found):
        if console is not None:
            console.print(f"[yellow]warning:[/] {escape(finding.subject)}: {escape(finding.message)}",
                          highlight=False)


def check_versions(conn: psycopg.Connection[Any], source_version: int, *, allow_older: bool,
                   console: Console | None) -> None:
    """pg_dump writes SQL for the source's version: a target of an older major version may not accept
    it (identity syntax, NOT NULL constraints, ...). Refused before anything is written."""
    target = conn.info.server_version
    if target // 10000 >= source_version // 10000:
        return
    message = (f"the target runs PostgreSQL {target // 10000}, older than the source's {source_version // 10000}: "
               "its SQL may use what the target does not know")
    if not allow_older:
        raise PgConvoyError(message, hint="migrate to a target of the same or a newer major version, or allow an "
                            "older target explicitly (--allow-older-target) and fix what fails")
    if console is not None:
        console.print(f"[yellow]warning:[/] {message}", highlight=False)
