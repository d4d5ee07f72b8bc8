"""Jinja in manifest strings, sandboxed and bounded.

A pull request's YAML is rendered where CI has its secrets, so templates get jinja2's immutable
sandbox (no `__globals__`, no mutating methods) and a budget per file: every call, filter, operator,
loop step and compile costs steps, and walking a list costs its length. No value and no output grows
past MAX_VALUE characters or items; the operations that multiply sizes (`*`, `**`, `%`, `center`,
`replace`, `join`, `format`, ...) are checked before they run, so they are refused before they allocate.
"""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pgconvoy.manifest.budget import (
    MACRO_STEPS,
    MAX_TEMPLATE,
    Budget,
    Refused,
    check_binop,
    check_filter,
    check_str_method,
    checked,
    compile_steps,
    concat,
    iterate,
    safe_range,
    spend,
    spending,
)

__all__ = ["Budget", "Refused", "UnsetVariable", "env_var", "iterate", "render"]
_MISSING = object()


class UnsetVariable(Exception):
    """`env_var(name)` without a default, and `name` is not set."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def render(text: str, budget: Budget) -> str:
    """`text` rendered within `budget`. Raises UnsetVariable, jinja2's TemplateError (Refused and
    SecurityError among them), or what an operation raised (ZeroDivisionError, RecursionError, ...)."""
    if len(text) > MAX_TEMPLATE:
        raise Refused(f"template longer than {MAX_TEMPLATE:,} characters")
    with spending(budget):
        template = _TEMPLATES.get(text)
        if template is None:
            budget.spend(compile_steps(text))
            template = _ENV.from_string(text)
            if len(text) <= 1000:  # the small ones, which repeat
                if len(_TEMPLATES) >= 4096:
                    _TEMPLATES.clear()
                _TEMPLATES[text] = template
        return budget.write(template.render())


def env_var(name: str, default: Any = _MISSING) -> Any:
    """dbt's `env_var('X')` and `env_var('X', 'default')`."""
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise UnsetVariable(name)
    return default


# --- the environment ---------------------------------------------------------------------------------

_CONTEXTS = (Context, nodes.EvalContext, jinja2.Environment)


def _guard(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that costs a step, checks its arguments and result, and refuses to multiply sizes."""

    @functools.wraps(func)  # keeps jinja's pass_context & co.
    def guarded(*args: Any, **kwargs: Any) -> Any:
        spend()
        lead = 0  # jinja's context, eval context or environment come first
        while lead < len(args) and isinstance(args[lead], _CONTEXTS):
            lead += 1
        values = list(args[lead:])
        if name == "join" and values and not isinstance(values[0], list | tuple | str | dict):
            values[0] = list(iterate(values[0]))  # a generator's length is known once it has run
        for value in (*values, *kwargs.values()):
            checked(value)
        check_filter(name, values, kwargs)
        return checked(func(*args[:lead], *values, **kwargs))

    return guarded


class _CodeGenerator(CodeGenerator):
    """jinja's Python code, with every loop, `~` and list, tuple and dict literal going through the budget."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in node.find_all(nodes.For):
            call = nodes.Call(nodes.ImportedName("pgconvoy.manifest.budget.iterate"), [loop.iter], [], None, None,
                              lineno=loop.lineno)
            loop.iter = call.set_environment(self.environment)
        super().visit_Template(node, frame)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_checked((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._checked(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._checked(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "load":
            self._checked(super().visit_Tuple, node, frame)
        else:
            super().visit_Tuple(node, frame)

    def _checked(self, visit: Callable[[Any, Frame], None], node: nodes.Expr, frame: Frame) -> None:
        self.write("environment.checked(")
        visit(node, frame)
        self.write(")")


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset(ImmutableSandboxedEnvironment.default_binop_table)

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, finalize=checked)
        self.concat = concat  # type: ignore[method-assign]
        self.filters = {name: _guard(name, func) for name, func in self.filters.items()}
        self.globals.pop("lipsum", None)  # lipsum(n=10**6) writes a million paragraphs
        self.globals.update(range=safe_range, env_var=env_var)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        spend()
        for value in (*args, *kwargs.values()):
            checked(value)
        method = getattr(obj, "__wrapped__", obj)  # str.format comes wrapped by the sandbox
        if isinstance(method, types.BuiltinMethodType) and isinstance(method.__self__, str):
            args = check_str_method(method.__name__, method.__self__, args, kwargs)
        if isinstance(obj, LoopContext) and args:  # loop(children) in a recursive loop
            args = (iterate(args[0]), *args[1:])
        if isinstance(obj, Macro):
            spend(MACRO_STEPS)
        return checked(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        spend()
        check_binop(operator, left, right)
        return checked(super().call_binop(context, operator, left, right))

    def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
        # Refuse at once: the sandbox's own undefined would fail later with a vaguer message.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def join_checked(self, parts: Iterable[Any]) -> str:
        """`a ~ b`."""
        spend()
        return concat(str(checked(part)) for part in parts)

    @staticmethod
    def checked(value: Any) -> Any:
        """A list, tuple or dict literal."""
        return checked(value)


_ENV = _Sandbox()
_TEMPLATES: dict[str, jinja2.Template] = {}  # compiled, by source
