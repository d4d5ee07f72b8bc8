"""Checks: built-in lints over pg_catalog, data checks generated from the catalog and manifests,
and the user's custom SQL checks, all run by one engine into `CheckResult`s."""

from __future__ import annotations

from collections.abc import Mapping

from pgconvoy.catalog.model import Catalog
from pgconvoy.checks.custom import load_custom_checks
from pgconvoy.checks.data import foreign_key_checks, index_check, orphans_sql, rls_check, rows_check
from pgconvoy.checks.engine import (
    Check,
    CheckResult,
    Outcome,
    Severity,
    Status,
    default_schemas,
    parse_threshold,
    run_check,
    run_checks,
    select_checks,
)
from pgconvoy.checks.lints import Lint, builtin_lints, lint_checks

__all__ = [
    "Check", "CheckResult", "Lint", "Outcome", "Severity", "Status", "builtin_checks", "builtin_lints",
    "default_schemas", "foreign_key_checks", "index_check", "lint_checks", "load_custom_checks", "orphans_sql",
    "parse_threshold", "rls_check", "rows_check", "run_check", "run_checks", "select_checks",
]


def builtin_checks(catalog: Catalog, severities: Mapping[str, str] | None = None) -> list[Check]:
    """The lints, then one foreign-key check per foreign key of the catalog."""
    return [*lint_checks(severities), *foreign_key_checks(catalog)]
