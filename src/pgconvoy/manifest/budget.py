"""The budget of a file's templates: steps of work, sizes of values, and the checks made before the
operations that multiply sizes (`*`, `**`, `%`, `center`, `replace`, `join`, `format`, ...), so that
they are refused before they allocate."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError

MAX_STEPS = 1_000_000  # per file; a loop step takes about 0.2 µs
MAX_VALUE = 1_000_000  # characters or items in any value, and in a rendered string
MAX_WRITTEN = 10_000_000  # characters rendered for one file, as much as the largest file holds
MAX_RANGE = 10_000
MAX_TEMPLATE = 100_000  # characters of one template
MAX_BITS = 100_000  # of an integer made by * or **
MACRO_STEPS = 25  # a macro call takes about 25 loop steps' time
# A compile takes about 2500 steps' time, and 20 for each character inside {{ }} and {% %}: charged
# less, so that a file may hold 2000 small templates of its own (identical ones compile once).
COMPILE_STEPS = 200
COMPILE_STEPS_PER_CHARACTER = 5
_CODE = re.compile(r"\{[{%].*?(?:[}%]\}|$)", re.DOTALL)


def compile_steps(text: str) -> int:
    """What compiling the template `text` costs."""
    return COMPILE_STEPS + COMPILE_STEPS_PER_CHARACTER * sum(len(code) for code in _CODE.findall(text))


class Refused(SecurityError):
    """A template asked for more than its budget."""


@dataclass
class Budget:
    """The steps, and the characters of output, left for the templates of one file."""

    steps: int = MAX_STEPS
    characters: int = MAX_WRITTEN

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise Refused(f"too much work (more than {MAX_STEPS:,} steps in one file)")

    def write(self, text: str) -> str:
        self.characters -= len(text)
        if self.characters < 0:
            raise Refused(f"more than {MAX_WRITTEN:,} characters rendered in one file")
        return text


_BUDGET: ContextVar[Budget] = ContextVar("pgconvoy_template_budget")


@contextmanager
def spending(budget: Budget) -> Iterator[None]:
    """Templates rendered inside take their steps from `budget`."""
    token = _BUDGET.set(budget)
    try:
        yield
    finally:
        _BUDGET.reset(token)


def spend(steps: int = 1) -> None:
    """Take `steps` from the budget of the file being read."""
    _BUDGET.get().spend(steps)


def iterate(values: Iterable[Any]) -> Iterator[Any]:
    """A loop's values, one step each (every `{% for %}` goes through here)."""
    for value in values:
        spend()
        yield value


def checked(value: Any) -> Any:
    """`value`, unless it holds more than MAX_VALUE characters and items (shared parts counted each time
    they appear, as `str()` or `==` would walk them); walking a list costs a step per item."""
    _size(value)
    return value


def _size(value: Any) -> int:
    total, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            spend(len(item) + 1)
            total += len(item)
            pending.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
        if total > MAX_VALUE:
            raise Refused(f"a value of more than {MAX_VALUE:,} characters or items")
    return total


def safe_range(*args: int) -> range:
    """The template's `range()`: at most MAX_RANGE numbers."""
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:  # more than sys.maxsize
        size = -1
    if not 0 <= size <= MAX_RANGE:
        raise Refused(f"range() of {f'{size:,}' if size >= 0 else 'too many'} numbers (at most {MAX_RANGE:,})")
    return numbers


def concat(parts: Iterable[str]) -> str:
    """`"".join(parts)`, up to MAX_VALUE characters: the output of a template, a macro or a block."""
    out, size = [], 0
    for part in parts:
        size += len(part)
        if size > MAX_VALUE:
            raise Refused(f"output longer than {MAX_VALUE:,} characters")
        out.append(part)
    return "".join(out)


# --- what the operations that multiply sizes would make --------------------------------------------


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _too_big(what: str, size: int) -> None:
    if size > MAX_VALUE:
        raise Refused(f"{what} would make more than {MAX_VALUE:,} characters or items")


def _digits(text: str) -> int:
    """The sum of the numbers written in a format spec (widths and precisions)."""
    return sum(int(n) if len(n) < 10 else MAX_VALUE + 1 for n in re.findall(r"\d+", text))


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?")


def _printf_size(fmt: Any, args: Any) -> int:
    if not isinstance(fmt, str):
        return 0
    specs = _PRINTF.findall(fmt)
    stars = sum(_int(a) for a in (args if isinstance(args, tuple) else (args,))) if "*" in "".join(specs) else 0
    return len(fmt) + sum(_digits(spec) for spec in specs) + stars


def _format_size(fmt: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    try:
        specs = [spec for _, _, spec, _ in string.Formatter().parse(fmt) if spec]
    except ValueError:
        return 0  # str.format raises the same
    nested = sum(_int(a) for a in (*args, *kwargs.values())) if any("{" in s for s in specs) else 0
    return len(fmt) + sum(_digits(spec) for spec in specs) + nested


def _replace_size(text: Any, old: Any, new: Any) -> int:
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    return len(text) + (text.count(old) if old else len(text) + 1) * len(new)


def check_str_method(name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """`args`, or Refused when str.<name>(*args) would be too long; a generator joined is run first."""
    if name == "join" and len(args) == 1 and not isinstance(args[0], list | tuple | str | dict):
        args = (list(iterate(args[0])),)
    first = args[0] if args else next(iter(kwargs.values()), None)
    if name in ("center", "ljust", "rjust", "zfill"):
        size = _int(first)
    elif name == "expandtabs":
        size = len(text) + text.count("\t") * _int(8 if first is None else first)
    elif name == "replace":
        size = _replace_size(text, *args[:2]) if len(args) >= 2 else 0
    elif name == "join":
        size = len(text) * len(first) if isinstance(first, list | tuple | str | dict) else 0
    elif name in ("format", "format_map"):
        size = _format_size(text, args, kwargs)
    else:
        return args
    _too_big(f"str.{name}()", size)
    return args


def check_filter(name: str, values: list[Any], kwargs: dict[str, Any]) -> None:
    """Refused when the filter `name` on `values` (its subject, then its arguments) would be too long."""
    subject, args = (values[0] if values else None), values[1:]

    def arg(i: int, key: str, default: Any = None) -> Any:
        return args[i] if len(args) > i else kwargs.get(key, default)

    if name == "center":
        size = _int(arg(0, "width", 80))
    elif name == "indent":
        width, text = arg(0, "width", 4), str(subject)
        size = len(text) + (text.count("\n") + 1) * (len(width) if isinstance(width, str) else _int(width))
    elif name in ("batch", "slice"):
        size = _int(arg(0, "linecount" if name == "batch" else "slices"))
    elif name == "format":
        size = _printf_size(subject, tuple(args) or kwargs)
    elif name == "join":
        size = len(str(arg(0, "d", ""))) * (len(subject) if isinstance(subject, list | tuple | str | dict) else 0)
    elif name == "replace":
        size = _replace_size(subject, arg(0, "old"), arg(1, "new"))
    elif name == "wordwrap":
        size = len(str(subject)) * max(1, len(str(arg(2, "wrapstring", ""))))
    else:
        return
    _too_big(f"|{name}", size)


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refused when `left operator right` would be too long or too large a number."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and _int(times) > 0:
                _too_big("*", _size(seq) * times)
        if _int(left) and _int(right) and left.bit_length() + right.bit_length() > MAX_BITS:
            raise Refused(f"a number of more than {MAX_BITS:,} bits")
    elif operator == "**" and abs(_int(left)) > 1 and _int(right) > 0 and left.bit_length() * right > MAX_BITS:
        raise Refused(f"a number of more than {MAX_BITS:,} bits")
    elif operator == "%" and isinstance(left, str):
        _too_big("%", _printf_size(left, right))
