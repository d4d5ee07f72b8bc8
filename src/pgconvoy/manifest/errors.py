"""ManifestError, and pydantic's validation errors as `file:line: key.path: message` lines."""

from __future__ import annotations

import reprlib
import types
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from pgconvoy.errors import PgConvoyError

if TYPE_CHECKING:
    from pgconvoy.manifest.loading import Lines

Path_ = tuple[str | int, ...]
HINT_PROBLEMS = 20  # problems listed in the hint after the first; a file with thousands of errors stays readable


class ManifestError(PgConvoyError):
    """One or more problems in the project's YAML; `problems` lists them all, the message shows the first."""

    def __init__(self, problems: list[str]) -> None:
        more = len(problems) - 1
        shown = problems[1:HINT_PROBLEMS + 1]
        rest = f"; and {more - len(shown)} more" if more > len(shown) else ""
        hint = f"{more} more problem{'s' if more > 1 else ''}: " + "; ".join(shown) + rest if more else None
        super().__init__(problems[0], hint=hint)
        self.problems = problems


def fail(message: str) -> PydanticCustomError:
    """A validator's error; the message goes through the context so that braces in it are not placeholders."""
    return PydanticCustomError("pgconvoy", "{msg}", {"msg": message})


def shown(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut at 60 characters (of a huge value, a
    shortened repr: aliases can make a list of a million references to a 5 MB string)."""
    text = repr(value) if _small(value) else _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _small(value: Any, limit: int = 10_000) -> bool:
    pending = [value]
    while pending and limit >= 0:
        item = pending.pop()
        if isinstance(item, str | bytes | list | tuple | dict | set | frozenset):
            limit -= len(item) + 1
            if limit >= 0 and not isinstance(item, str | bytes):
                pending.extend(item.items() if isinstance(item, dict) else item)
        else:
            limit -= 1
    return limit >= 0


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 80


def quoted(key: Any) -> str:
    """A key in a message, as repr shows it; a very long one shortened."""
    return repr(key) if not isinstance(key, str) or len(key) <= 200 else shown(key)


def dotted(path: Path_) -> str:
    """`tables[2].tenant_registry.rows`; a key with a line break or control character, or a very long one,
    is quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = part if len(part) <= 200 and part.isprintable() else quoted(part)
            text += f".{name}" if text else name
    return text


_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping", "float_type": "a number", "float_parsing": "a number",
}


def describe_errors(error: ValidationError, model: type[BaseModel], lines: Lines) -> list[str]:
    """Pydantic's errors as `file:line: key.path: expected ..., got ...`, in file order."""
    found = []
    for err in error.errors():
        loc = tuple(err["loc"])
        line = lines.line(*loc)
        found.append((line, f"{lines.file}:{line}: {dotted(loc) or 'top level'}: {_message(err, model, loc)}"))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _message(err: Any, model: type[BaseModel], loc: Path_) -> str:
    kind, ctx, got = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "pgconvoy":
        return str(ctx["msg"])
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        return f"unknown key {quoted(loc[-1])}" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected')}, got {shown(got)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"expected a number {'>=' if kind == 'greater_than_equal' else '>'} " \
               f"{ctx.get('ge', ctx.get('gt'))}, got {shown(got)}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {shown(got)}"
    return f"{str(err['msg']).replace(chr(10), ' ')}, got {shown(got)}"


def _allowed_keys(model: type[BaseModel], loc: Path_) -> list[str]:
    current: Any = model
    for part in loc:
        current = _step(current, part)
    return list(current.model_fields) if _is_model(current) else []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _step(tp: Any, part: str | int) -> Any:
    """The type found at `part` inside type `tp` (models, lists, dicts, unions and Annotated)."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if _is_model(tp):
        info = tp.model_fields.get(part) if isinstance(part, str) else None
        return None if info is None else info.annotation
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        for arg in args:
            if (found := _step(arg, part)) is not None:
                return found
        return None
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict:
        return args[1]
    return None
