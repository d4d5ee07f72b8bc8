"""The registry as people and machines read it: `pgconvoy rules` (text, json, markdown) and the README's
rule table, which is this module's markdown (a test compares the two)."""

from __future__ import annotations

from typing import Any

from pgconvoy.rules.registry import Rule, all_rules

RULES_VERSION = 1


def as_json() -> dict[str, Any]:
    return {"version": RULES_VERSION, "rules": [_entry(r) for r in all_rules()]}


def _entry(rule: Rule) -> dict[str, Any]:
    return {"code": rule.code, "name": rule.name, "level": rule.level, "stage": rule.stage,
            "summary": rule.summary, "fix": rule.fix, "description": rule.description,
            "reported_by": rule.reported_by or None, "link": rule.link or None}


def markdown() -> str:
    """One row per rule: code, name (linked to its remediation page when it has one), default level, where
    it runs, what it finds, the fix."""
    lines = ["| code | name | level | runs at | finds | fix |", "|---|---|---|---|---|---|"]
    for r in all_rules():
        name = f"[`{r.name}`]({r.link})" if r.link else f"`{r.name}`"
        cells = [r.code, name, r.level, _stage(r), r.summary, r.fix]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _stage(rule: Rule) -> str:
    return {"compile": "compile", "check": "check", "both": "compile, check"}[rule.stage]
