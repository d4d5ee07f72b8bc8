"""The rules: one registry (`registry`), what a rule sees (`context`), and one module per concern
(coverage, order, counts, indexes, security, api, migration). `pgconvoy rules` lists them."""

from __future__ import annotations

from pgconvoy.rules.context import (
    Context,
    Finding,
    Placement,
    judge,
    ordered,
    parse_written,
    tables_named,
    written_name,
)
from pgconvoy.rules.registry import Rule, Severity, Stage, all_rules, by_key, functions

__all__ = [
    "Context", "Finding", "Placement", "Rule", "Severity", "Stage", "all_rules", "by_key", "functions", "judge",
    "ordered", "parse_written", "tables_named", "written_name",
]
