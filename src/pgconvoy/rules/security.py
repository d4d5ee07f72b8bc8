"""Row-level security: the state and policies the manifests expect, and the lints people of this field
expect (Supabase's splinter: RLS without a policy, several permissive policies, auth.uid() per row, ...)."""

from __future__ import annotations

import re

from pgconvoy.catalog.model import Name, Policy
from pgconvoy.rules.context import Context
from pgconvoy.rules.registry import rule, splinter


@rule("PC501", "rls_mismatch", "error", "row-level security enabled / forced not as the manifest says",
      "ALTER TABLE ... ENABLE / FORCE ROW LEVEL SECURITY, or fix the entry", stage="both",
      also=(("PC502", "policy_missing", "error", "a policy the manifest expects is not there",
             "create it, or fix the name"),))
def rls_expectations(ctx: Context) -> None:
    """A group's `rls:` entries hold: RLS enabled (and forced) as declared (PC501), every listed policy
    present (PC502). On the target, a policy lost or RLS left off would expose rows."""
    for group in ctx.project.groups:
        for written, spec in group.manifest.rls.items():
            where = (group.file, group.lines.line("rls", written))
            name = ctx.resolve(written, where)
            if name is None:
                continue
            table = ctx.table(name)
            if spec.enabled != table.rls_enabled:
                state = "disabled" if spec.enabled else "enabled"
                ctx.emit("PC501", f"{name} has row level security {state} in the {ctx.side}, the manifest says "
                         f"enabled: {str(spec.enabled).lower()}", where, name,
                         hint=f"ALTER TABLE {name} {'ENABLE' if spec.enabled else 'DISABLE'} ROW LEVEL SECURITY")
            if spec.forced is not None and spec.forced != table.rls_forced:
                ctx.emit("PC501", f"{name} has row level security {'not ' if spec.forced else ''}forced in the "
                         f"{ctx.side}, the manifest says forced: {str(spec.forced).lower()}", where, name,
                         hint=f"ALTER TABLE {name} {'' if spec.forced else 'NO '}FORCE ROW LEVEL SECURITY")
            present = {p.name for p in table.policies}
            for i, policy in enumerate(spec.policies):
                if policy not in present:
                    ctx.emit("PC502", f"{name} has no policy {policy!r} in the {ctx.side}",
                             (group.file, group.lines.line("rls", written, "policies", i)), name,
                             hint=f"policies on {name}: {', '.join(sorted(present)) or 'none'}",
                             subject=f"{name}.{policy}")


def rls_where(ctx: Context, name: Name, policy: str | None = None) -> tuple[str, int]:
    """The rls entry of a table (or the line of one of its policies), else its table entry."""
    placement = ctx.placed.get(name)
    if placement is None:
        return ctx.project.file, 1
    for group in ctx.project.groups:
        for written, spec in group.manifest.rls.items():
            if written in (name.name, str(name)):
                if policy in spec.policies:
                    return group.file, group.lines.line("rls", written, "policies", spec.policies.index(policy))
                return group.file, group.lines.line("rls", written)
    return ctx.where(name)


@rule("PC503", "rls_enabled_no_policy", "warn", "row-level security enabled with no policy",
      "add a policy, or turn the rule off in lints: if only roles that bypass RLS read the table", stage="both",
      link=splinter("0008_rls_enabled_no_policy"))
def rls_enabled_no_policy(ctx: Context) -> None:
    """Row-level security is enabled and no policy exists: only roles that bypass RLS see any row. On
    purpose sometimes (a table only service_role reads), often a forgotten policy."""
    for name in ctx.linted():
        table = ctx.table(name)
        if table.rls_enabled and not table.policies:
            ctx.emit("PC503", f"{name} has row level security enabled and no policy: only roles that bypass RLS "
                     "see its rows", rls_where(ctx, name), name,
                     hint="add a policy; if only roles that bypass RLS should read it, turn the rule off in lints:")


ACTIONS = ("SELECT", "INSERT", "UPDATE", "DELETE")


@rule("PC504", "multiple_permissive_policies", "warn", "several permissive policies for one role and action",
      "merge them into one policy with OR", stage="both",
      link=splinter("0006_multiple_permissive_policies"))
def multiple_permissive_policies(ctx: Context) -> None:
    """Several permissive policies apply to one role and action (ALL counts for every action, public for
    every role): PostgreSQL runs each for every row, and the table is as open as the widest."""
    for name in ctx.linted():
        policies = [p for p in ctx.table(name).policies if p.permissive]
        overlaps: dict[tuple[str, ...], list[str]] = {}
        roles = sorted({r for p in policies for r in p.roles})
        for role in roles:
            for action in ACTIONS:
                applying = tuple(sorted(p.name for p in policies if _applies(p, role, action)))
                if len(applying) > 1:
                    overlaps.setdefault(applying, []).append(f"{role} {action}")
        for names, uses in overlaps.items():
            ctx.emit("PC504", f"{name} has {len(names)} permissive policies for {', '.join(uses)}: "
                     f"{', '.join(repr(n) for n in names)}", rls_where(ctx, name), name,
                     hint="each one runs for every row: merge them into one policy with OR",
                     subject=f"{name}:{','.join(names)}")


def _applies(policy: Policy, role: str, action: str) -> bool:
    return (role in policy.roles or "public" in policy.roles) and policy.command in (action, "ALL")


_PER_ROW_CALL = re.compile(r"\bauth\.(uid|jwt|role)\(\)|\bcurrent_setting\(")


def per_row_calls(expression: str) -> list[str]:
    """Calls in a policy expression (as pg_get_expr prints it) not wrapped as `( SELECT call AS x)`.

    A call counts as wrapped when the innermost parenthesis around it opens a SELECT that has no FROM:
    PostgreSQL then runs it once per statement (an initPlan) instead of once per row."""
    found = []
    for match in _PER_ROW_CALL.finditer(expression):
        if not _wrapped(expression, match.start()):
            found.append(match.group(0) + ("" if match.group(0).endswith("()") else "...)"))
    return found


def _wrapped(text: str, position: int) -> bool:
    opens: list[int] = []
    quoted = False
    for i, char in enumerate(text[:position]):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            opens.append(i)
        elif not quoted and char == ")" and opens:
            opens.pop()
    for start in reversed(opens):
        body = text[start + 1:].lstrip()
        if body.upper().startswith("SELECT"):
            return not re.search(r"\bFROM\b", _own_level(text, start))
    return False


def _own_level(text: str, start: int) -> str:
    """The text of the parenthesised group opening at `start`, without nested groups."""
    depth, kept = 0, []
    for char in text[start:]:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            kept.append(char)
    return "".join(kept)


@rule("PC505", "auth_rls_initplan", "warn", "an auth function or current_setting() called per row in a policy",
      "wrap the call: (select auth.uid())", stage="both", link=splinter("0003_auth_rls_initplan"))
def auth_rls_initplan(ctx: Context) -> None:
    """A policy calls auth.uid() / auth.jwt() / auth.role() / current_setting() directly: PostgreSQL
    evaluates it for every row. Wrapped in a scalar subquery it runs once per statement (an initPlan)."""
    for name in ctx.linted():
        for policy in ctx.table(name).policies:
            calls = sorted({c for expr in (policy.using, policy.with_check) if expr for c in per_row_calls(expr)})
            if calls:
                ctx.emit("PC505", f"policy {policy.name!r} on {name} calls {', '.join(calls)} for every row",
                         rls_where(ctx, name, policy.name), name,
                         hint=f"wrap it in a scalar subquery so it runs once: (select {calls[0]})",
                         subject=f"{name}.{policy.name}")



@rule("PC506", "policy_exists_rls_disabled", "error", "policies on a table whose row-level security is off",
      "ALTER TABLE ... ENABLE ROW LEVEL SECURITY (or drop the policies if they are obsolete)", stage="check",
      link=splinter("0007_policy_exists_rls_disabled"))
def policy_exists_rls_disabled(ctx: Context) -> None:
    """A table has policies but row-level security is disabled: the policies protect nothing, and whoever
    wrote them believes the table is protected."""
    for name in ctx.linted():
        table = ctx.table(name)
        if table.policies and not table.rls_enabled:
            names = ", ".join(repr(p.name) for p in sorted(table.policies, key=lambda p: p.name))
            ctx.emit("PC506", f"{name} has policies ({names}) but row level security is disabled",
                     rls_where(ctx, name), name, hint=f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")


_WRITES = ("INSERT", "UPDATE", "DELETE", "ALL")


@rule("PC507", "rls_policy_always_true", "warn", "a permissive write policy whose condition is true",
      "restrict the condition (the row's owner or tenant), or the policy's roles", stage="check",
      link=splinter("0024_permissive_rls_policy"))
def rls_policy_always_true(ctx: Context) -> None:
    """A permissive policy for INSERT, UPDATE, DELETE or ALL whose USING or WITH CHECK is `true`: every
    role it names may write every row."""
    for name in ctx.linted():
        for policy in ctx.table(name).policies:
            if not policy.permissive or policy.command not in _WRITES:
                continue
            clauses = [c for c, expr in (("USING", policy.using), ("WITH CHECK", policy.with_check))
                       if expr == "true"]
            if clauses:
                ctx.emit("PC507", f"policy {policy.name!r} on {name} allows {policy.command} for "
                         f"{', '.join(policy.roles)} with {' and '.join(clauses)} (true)",
                         rls_where(ctx, name, policy.name), name, hint="restrict the condition or the roles",
                         subject=f"{name}.{policy.name}")
