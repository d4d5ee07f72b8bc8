"""Run the rules of a stage over a catalog and the manifests: the one entry point compile and check share."""

from __future__ import annotations

from typing import Literal

from pgconvoy.catalog.model import Catalog
from pgconvoy.graph import build
from pgconvoy.manifest import LoadedProject
from pgconvoy.rules.context import Context, Finding, judge
from pgconvoy.rules.registry import Level, Rule, all_rules, by_key, configured, functions


def evaluate(catalog: Catalog, project: LoadedProject, stage: Literal["compile", "check"], *,
             warn_error: bool | None = None) -> tuple[Context, tuple[Finding, ...]]:
    """Every rule of `stage` over `catalog` (the source's at compile, the target's at check): the context
    (where each listed table sits) and the findings, judged by project.yml's `lints:`."""
    ctx = Context.make(catalog, project, build(catalog), side="source" if stage == "compile" else "target")
    lint_keys(ctx)
    for function in functions(stage):
        function(ctx)
    return ctx, judge(ctx.raw, project, project.project.warn_error if warn_error is None else warn_error)


def lint_keys(ctx: Context) -> None:
    """PC001: every `lints:` key is a rule's code or name."""
    for key in ctx.project.project.lints:
        if by_key(key) is None:
            ctx.emit("PC001", f"lints: {key!r} is no rule code or name",
                     (ctx.project.file, ctx.project.lines.line("lints", key)),
                     hint="`pgconvoy rules` lists every rule's code and name")


def level(rule: Rule, project: LoadedProject) -> Level:
    """The level project.yml gives `rule` (by code or name), else its default."""
    return configured(rule, project.project.lints)


def at_stage(stage: Literal["compile", "check"]) -> tuple[Rule, ...]:
    """The rules reported at `stage`, the declared ones (name resolution, lints: keys) included."""
    return tuple(r for r in all_rules() if r.stage in (stage, "both"))
