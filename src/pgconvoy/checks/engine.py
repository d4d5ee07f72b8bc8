"""Run checks against a live connection: each check yields failing rows, thresholds turn them into a status.

A check is either a query that returns the rows that fail (like a dbt test) or a function that
returns an `Outcome`. Every check runs in its own transaction, which is always rolled back, so a
check can never change the database and one broken check cannot abort the others.

Statuses: PASS (below every threshold), WARN (crossed `warn_if`), FAIL (crossed `error_if` on a check
of severity error), ERROR (the check itself could not run: an SQL error in its query, a missing
table), SKIP (disabled). A broken connection is not a check's status: it stops the run with
`ConnectionFailed` (exit 2), because nothing after it could be trusted.
"""

from __future__ import annotations

import fnmatch
import operator
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import psycopg
from psycopg import sql

from pgconvoy.errors import ConnectionFailed, PgConvoyError

Severity = Literal["error", "warn"]
SAMPLE_ROWS = 5  # failing rows fetched to explain a failure; the count covers all of them


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a function check found: how many things fail, a sentence saying what, and a sample of them
    (as the failing rows of a query check: `object`, `detail`, ...)."""

    failures: int
    message: str = ""
    rows: tuple[dict[str, Any], ...] = ()


CheckFunction = Callable[[psycopg.Connection[Any]], Outcome]


@dataclass(frozen=True, slots=True)
class Check:
    """One check. `name` is stable and unique (`kind:target`, e.g. `rows:public.hotels`).

    `sql` returns the failing rows; a column named `detail` (if any) explains each one. It runs with
    the setting `pgconvoy.schemas` (a text[] literal) holding the schemas the run is limited to.
    """

    name: str
    kind: str  # lint | rows | foreign_key | self_reference | index | rls | custom
    severity: Severity = "error"
    sql: sql.Composable | str | None = None
    function: CheckFunction | None = None
    warn_if: str = "!=0"
    error_if: str = "!=0"
    table: str | None = None
    description: str = ""
    remediation: str = ""
    tags: tuple[str, ...] = ()
    plain_search_path: bool = False  # custom SQL runs with the database's search_path; built-ins with ''
    enabled: bool = True
    file: str | None = None  # where the check is written (checks/x.sql), relative to the project
    line: int | None = None

    def __post_init__(self) -> None:
        if (self.sql is None) == (self.function is None):
            raise ValueError(f"check {self.name!r} needs exactly one of sql or function")
        parse_threshold(self.warn_if)
        parse_threshold(self.error_if)

    @property
    def target(self) -> str:
        """What the check is about, for display: the name after `kind:`."""
        prefix, sep, rest = self.name.partition(":")
        return rest if sep else prefix


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: Status
    failures: int
    message: str
    seconds: float
    table: str | None = None
    kind: str = ""
    severity: Severity = "error"
    # A sample of a query's failing rows; all of a function's (already in memory: the findings of a rule).
    # A row may name where it comes from: `file` and `line`, as the rows of rule checks do.
    rows: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    file: str | None = None  # the check's own file and line, for a check written in the project
    line: int | None = None

    @property
    def target(self) -> str:
        prefix, sep, rest = self.name.partition(":")
        return rest if sep else prefix


_THRESHOLD = re.compile(r"^\s*(>=|<=|!=|<>|==|=|>|<)\s*(\d+)\s*$")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
}


def parse_threshold(text: str) -> Callable[[int], bool]:
    """A dbt-style condition on the failing row count, e.g. `">0"`, `">=10"`, `"!=0"`."""
    match = _THRESHOLD.match(text)
    if not match:
        raise PgConvoyError(
            f"invalid threshold {text!r}", hint='write a comparison with a whole number, e.g. ">0", ">=10", "!=0"'
        )
    op, limit = _OPS[match.group(1)], int(match.group(2))
    return lambda failures: op(failures, limit)


def status_for(check: Check, failures: int) -> Status:
    """dbt's rule: error_if decides FAIL (only at severity error), then warn_if decides WARN."""
    if check.severity == "error" and parse_threshold(check.error_if)(failures):
        return Status.FAIL
    if parse_threshold(check.warn_if)(failures):
        return Status.WARN
    return Status.PASS


def select_checks(checks: Iterable[Check], select: Sequence[str] | None) -> list[Check]:
    """Checks whose name, kind or a tag matches any of the globs in `select` (all when None)."""
    chosen = list(checks)
    if not select:
        return chosen
    return [c for c in chosen if any(_matches(c, pattern) for pattern in select)]


def _matches(check: Check, pattern: str) -> bool:
    if pattern.startswith("tag:"):
        return any(fnmatch.fnmatchcase(t, pattern[4:]) for t in check.tags)
    return any(fnmatch.fnmatchcase(text, pattern) for text in (check.name, check.kind, check.target))


def run_checks(
    conn: psycopg.Connection[Any],
    checks: Iterable[Check],
    *,
    select: Sequence[str] | None = None,
    schemas: Sequence[str] | None = None,
    on_result: Callable[[int, int, CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Run the selected checks in order. `schemas` limits scoped checks (lints); None means every
    non-system, non-managed schema. `on_result(index, total, result)` is called as each one ends."""
    chosen = select_checks(checks, select)
    scope = list(schemas) if schemas is not None else default_schemas(conn)
    results = []
    for index, check in enumerate(chosen, start=1):
        result = run_check(conn, check, scope)
        results.append(result)
        if on_result:
            on_result(index, len(chosen), result)
    return results


def run_check(conn: psycopg.Connection[Any], check: Check, schemas: Sequence[str] = ()) -> CheckResult:
    if not check.enabled:
        return _result(check, Status.SKIP, 0, "disabled", 0.0)
    started = time.perf_counter()
    try:
        failures, message, rows = _execute(conn, check, schemas)
    except psycopg.OperationalError as exc:
        if conn.broken or conn.closed:
            raise ConnectionFailed(f"lost the connection while running check {check.name}: {_diag(exc)}") from None
        return _result(check, Status.ERROR, 0, _diag(exc), time.perf_counter() - started)
    except psycopg.Error as exc:
        return _result(check, Status.ERROR, 0, _diag(exc), time.perf_counter() - started)
    return _result(check, status_for(check, failures), failures, message, time.perf_counter() - started, rows)


def _execute(
    conn: psycopg.Connection[Any], check: Check, schemas: Sequence[str]
) -> tuple[int, str, tuple[dict[str, Any], ...]]:
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    with conn.transaction(force_rollback=True):
        conn.execute("SET TRANSACTION READ ONLY")
        # Lints read their scope from a setting, so each file also runs alone in psql after
        # `SET pgconvoy.schemas = '{public}'`.
        conn.execute("SELECT set_config('pgconvoy.schemas', %s::text[]::text, true)", [list(schemas)])
        if not check.plain_search_path:
            # Built-in SQL is fully qualified; an empty search_path makes pg_get_expr() and
            # regclass output schema-qualified too, so lints read names exactly as written.
            conn.execute("SET LOCAL search_path = ''")
            # Seeing every row matters more than running: fail loudly instead of counting through RLS.
            conn.execute("SET LOCAL row_security = off")
        if check.function is not None:
            outcome = check.function(conn)
            return outcome.failures, outcome.message, outcome.rows
        return _failing_rows(conn, check)


def _failing_rows(conn: psycopg.Connection[Any], check: Check) -> tuple[int, str, tuple[dict[str, Any], ...]]:
    query = check.sql
    assert query is not None
    inner = sql.SQL(query.strip().rstrip(";")) if isinstance(query, str) else query
    wrapped = sql.SQL(
        "SELECT count(*) OVER () AS pgconvoy_failures, q.* FROM ({}\n) AS q LIMIT {}"
    ).format(inner, sql.Literal(SAMPLE_ROWS))
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(wrapped)
        rows = cur.fetchall()
    failures = int(rows[0]["pgconvoy_failures"]) if rows else 0
    sample = tuple({k: v for k, v in r.items() if k != "pgconvoy_failures"} for r in rows)
    return failures, _explain(failures, sample), sample


def _explain(failures: int, rows: tuple[dict[str, Any], ...]) -> str:
    if not failures:
        return ""
    details = [str(r["detail"]) if "detail" in r else _row_text(r) for r in rows]
    more = f" (and {failures - len(rows)} more)" if failures > len(rows) else ""
    noun = "row" if failures == 1 else "rows"
    return f"{failures} failing {noun}: " + "; ".join(details) + more


def _row_text(row: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())


def _result(
    check: Check, status: Status, failures: int, message: str, seconds: float,
    rows: tuple[dict[str, Any], ...] = (),
) -> CheckResult:
    return CheckResult(
        name=check.name, status=status, failures=failures, message=message, seconds=seconds,
        table=check.table, kind=check.kind, severity=check.severity, rows=rows, file=check.file, line=check.line,
    )


_DEFAULT_SCHEMAS = """
SELECT n.nspname
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
  AND n.nspname <> ALL(%(managed)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
ORDER BY 1
"""


def default_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Every schema but system, platform-managed and extension-owned ones (as catalog.introspect)."""
    from pgconvoy.catalog import MANAGED_SCHEMAS

    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.rollback()
    with conn.transaction(force_rollback=True):
        rows = conn.execute(_DEFAULT_SCHEMAS.encode(), {"managed": sorted(MANAGED_SCHEMAS)}).fetchall()
    return [str(r[0]) for r in rows]


def _diag(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
