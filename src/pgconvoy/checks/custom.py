"""Custom checks from the user's project: `checks/*.sql`, each a query that returns the failing rows.

An optional header sets how it is judged, as dbt's test config does:

    -- severity: warn
    -- error_if: ">10"
    -- warn_if: ">0"
    -- tags: billing, nightly
    -- description: invoices without a line item
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from pgconvoy.checks.engine import Check, parse_threshold
from pgconvoy.errors import PgConvoyError

_FIELD = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")


def parse_header(text: str) -> dict[str, str]:
    """The `-- key: value` lines at the top of an SQL file (continuation lines start with `--` and two
    spaces, and are joined with a space)."""
    fields: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if (cont := _CONTINUATION.match(line)) and last:
            fields[last] += " " + cont.group(1).strip()
        elif field := _FIELD.match(line):
            last = field.group(1)
            fields[last] = field.group(2).strip()
        else:
            last = None
    return fields


_KNOWN = {"severity", "error_if", "warn_if", "tags", "description", "remediation", "enabled"}


def load_custom_checks(directory: Path | str, defaults: Mapping[str, str] | None = None, *,
                       root: Path | None = None) -> list[Check]:
    """Every `*.sql` in `directory` (sorted by file name) as a check named `custom:<file stem>`.

    `defaults` (severity, warn_if, error_if) apply where a file's header sets none (project-wide config).
    Each check names its file relative to `root` (the project), as reports show it."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return [custom_check(path, defaults, root=root) for path in sorted(folder.glob("*.sql"))]


def custom_check(path: Path, defaults: Mapping[str, str] | None = None, *, root: Path | None = None) -> Check:
    text = path.read_text()
    header = {**(defaults or {}), **parse_header(text)}
    where = f"{path}"
    unknown = sorted(set(header) - _KNOWN)
    if unknown:
        raise PgConvoyError(f"{where}: unknown header {', '.join(unknown)}", hint=f"known: {', '.join(sorted(_KNOWN))}")
    severity = header.get("severity", "error").lower()
    if severity not in ("warn", "error"):
        raise PgConvoyError(f"{where}: severity must be warn or error, not {severity!r}")
    thresholds = {key: header[key].strip().strip("'\"") for key in ("warn_if", "error_if") if key in header}
    for value in thresholds.values():
        try:
            parse_threshold(value)
        except PgConvoyError as exc:
            raise PgConvoyError(f"{where}: {exc.message}", hint=exc.hint) from None
    if not _body(text):
        raise PgConvoyError(f"{where}: the file has no query", hint="write a SELECT that returns the failing rows")
    return Check(
        name=f"custom:{path.stem}", kind="custom", severity="warn" if severity == "warn" else "error",
        sql=text, description=header.get("description", ""), remediation=header.get("remediation", ""),
        tags=("custom", *(t.strip() for t in header.get("tags", "").split(",") if t.strip())),
        plain_search_path=True, enabled=header.get("enabled", "true").lower() not in ("false", "no", "off"),
        warn_if=thresholds.get("warn_if", "!=0"), error_if=thresholds.get("error_if", "!=0"),
        file=path.relative_to(root).as_posix() if root is not None else str(path), line=1,
    )


def _body(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()
