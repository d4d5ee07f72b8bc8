"""Checks: the rules of the check stage (`gate.rule_checks`), data checks generated from the catalog,
and the user's custom checks, all run by one engine into `CheckResult`s."""

from __future__ import annotations

from pgconvoy.checks.custom import load_custom_checks
from pgconvoy.checks.data import foreign_key_checks, index_check, orphans_sql, rls_check, rows_check
from pgconvoy.checks.engine import (
    SAMPLE_ROWS,
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

__all__ = [
    "SAMPLE_ROWS", "Check", "CheckResult", "Outcome", "Severity", "Status", "default_schemas", "foreign_key_checks",
    "index_check", "load_custom_checks", "orphans_sql", "parse_threshold", "rls_check", "rows_check", "run_check",
    "run_checks", "select_checks",
]
