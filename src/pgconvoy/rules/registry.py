"""The one registry of rules: every rule, compile-time or check-time, declared once.

A rule has a stable code and name (`lints:` in project.yml takes either, in every command), a default
level, what it finds, how to fix it, where it runs, a description (its function's docstring) and, for
the lints Supabase's linter (splinter) also has, a link to its remediation page. Where it runs:
- `compile`: on the source's catalog and the manifests, before anything is rendered;
- `check`: on the target's catalog (`pgconvoy check` / `build`);
- `both`: the same function on either catalog.
Rules reported by another step (`accounting` for PC6xx, the manifest loader for PC001) are declared with
`declare` so that they are documented, listed and configurable like the others.

Each rule has pass/fail cases in `tests/rules/CODE.yml`; a test fails when one lacks them or its
description. The README's rule table and `pgconvoy rules` are generated from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pgconvoy.rules.context import Context

Severity = Literal["error", "warn", "info"]
Level = Literal["error", "warn", "info", "off"]  # what project.yml `lints:` may set
Stage = Literal["compile", "check", "both"]
RuleFunction = Callable[["Context"], None]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    level: Severity
    summary: str  # what it finds, one line
    fix: str
    stage: Stage
    description: str
    function: RuleFunction | None = None  # None: another step reports it (see `declare`)
    reported_by: str = ""
    link: str = ""  # a page on how to fix it (splinter's remediation page for the lints it has too)

    def runs_at(self, stage: Literal["compile", "check"]) -> bool:
        return self.function is not None and self.stage in (stage, "both")


_RULES: dict[str, Rule] = {}


SPLINTER = "https://supabase.com/docs/guides/database/database-linter?lint="


def splinter(lint: str) -> str:
    """The remediation page of one of splinter's lints (`0013_rls_disabled_in_public`), as its lint says."""
    return SPLINTER + lint


def rule(code: str, name: str, level: Severity, summary: str, fix: str, *, stage: Stage = "compile",
         also: tuple[tuple[str, str, Severity, str, str], ...] = (), link: str = ""
         ) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as rule `code`; `also` declares the other codes it emits (one
    check that finds several kinds of problem), sharing its description and stage (`link` is `code`'s)."""

    def register(function: RuleFunction) -> RuleFunction:
        description = inspect.getdoc(function) or ""
        _add(Rule(code, name, level, summary, fix, stage, description, function, link=link))
        for c, n, lv, s, f in also:
            _add(Rule(c, n, lv, s, f, stage, description, function))
        return function

    return register


def declare(code: str, name: str, level: Severity, summary: str, fix: str, description: str, *,
            reported_by: str, stage: Stage = "compile", link: str = "") -> None:
    """A rule that another step reports (`reported_by`), declared here to be documented and configurable."""
    _add(Rule(code, name, level, summary, fix, stage, description, None, reported_by, link))


def _add(new: Rule) -> None:
    for existing in _RULES.values():
        if new.code == existing.code or new.name == existing.name:
            raise ValueError(f"rule {new.code} {new.name} declared twice")
    _RULES[new.code] = new


def all_rules() -> tuple[Rule, ...]:
    _load()
    return tuple(sorted(_RULES.values(), key=lambda r: r.code))


def by_key(key: str) -> Rule | None:
    """A rule by its code or its name."""
    _load()
    return _RULES.get(key) or next((r for r in _RULES.values() if r.name == key), None)


def configured(rule: Rule, lints: Mapping[str, Level]) -> Level:
    """The level project.yml's `lints:` gives `rule` (by code or name; `off` included), else its default."""
    return lints.get(rule.code, lints.get(rule.name, rule.level))


def functions(stage: Literal["compile", "check"]) -> list[RuleFunction]:
    """The rule functions of a stage, each once, in code order."""
    seen: list[RuleFunction] = []
    for r in all_rules():
        if r.runs_at(stage) and r.function is not None and r.function not in seen:
            seen.append(r.function)
    return seen


def _load() -> None:
    """Import the rule modules (they register themselves)."""
    from pgconvoy.rules import api, counts, coverage, indexes, migration, order, roles, security  # noqa: F401
