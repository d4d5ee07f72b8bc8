"""Built-in lints: one SQL file per rule in `sql/`, each a query over pg_catalog returning the objects
that break the rule (columns `object` and `detail`), with a header naming its level and remedy:

    -- name: unindexed_foreign_key
    -- level: warn
    -- description: ...
    -- remediation: ...

Continuation lines of a header field start with `--` and two spaces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from pgconvoy.checks.engine import Check, Severity
from pgconvoy.errors import PgConvoyError

_FIELD = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")


@dataclass(frozen=True, slots=True)
class Lint:
    code: str  # e.g. "0001"
    name: str
    level: Severity
    description: str
    remediation: str
    sql: str


def parse_header(text: str) -> dict[str, str]:
    """The `-- key: value` lines at the top of an SQL file (continuations joined with a space)."""
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


def builtin_lints() -> list[Lint]:
    """Every lint shipped with pgconvoy, in file order."""
    folder = resources.files("pgconvoy.checks").joinpath("sql")
    lints = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text()
        header = parse_header(text)
        level = header.get("level", "warn")
        if level not in ("warn", "error"):
            raise PgConvoyError(f"lint {entry.name}: level must be warn or error, not {level!r}")
        lints.append(Lint(
            code=entry.name.split("_", 1)[0], name=header["name"], level="error" if level == "error" else "warn",
            description=header.get("description", ""), remediation=header.get("remediation", ""), sql=text,
        ))
    return lints


def lint_checks(severities: Mapping[str, str] | None = None) -> list[Check]:
    """The built-in lints as checks. `severities` overrides a lint's level by name (`warn`, `error`,
    or `off` to leave it out), as `lints:` in project.yml does."""
    overrides = dict(severities or {})
    known = {lint.name for lint in builtin_lints()}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise PgConvoyError(f"unknown lint {', '.join(unknown)}", hint=f"lints: {', '.join(sorted(known))}")
    checks = []
    for lint in builtin_lints():
        level = overrides.get(lint.name, lint.level)
        if level == "off":
            continue
        if level not in ("warn", "error"):
            raise PgConvoyError(f"lint {lint.name}: severity must be warn, error or off, not {level!r}")
        checks.append(Check(
            name=f"lint:{lint.name}", kind="lint", severity="error" if level == "error" else "warn",
            sql=lint.sql, description=lint.description, remediation=lint.remediation, tags=("lint",),
        ))
    return checks
