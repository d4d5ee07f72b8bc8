"""The one reading of a row-count tolerance, for the manifests' `rows:` and the checks' `kind: rows`:
a number of rows (`5`) or a percentage of the expected count (`"2%"`, rounded down)."""

from __future__ import annotations

import math
import re
from typing import Any

_FORM = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def parse(value: Any) -> int | str:
    """`value` as an int of rows or a normalized `"N%"`; ValueError with the accepted forms otherwise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _FORM.match(value) if isinstance(value, str) else None
    if match and math.isfinite(float(match.group(1))):  # 400 digits read as a float are infinite
        number, percent = match.groups()
        return f"{number}%" if percent else int(float(number))
    raise ValueError("a row count or a percentage like '2%'")


def allowed(expected: int, tolerance: int | str) -> int:
    """How many rows a count may differ from `expected` by."""
    if isinstance(tolerance, str):
        return int(expected * float(tolerance.rstrip("%")) / 100)
    return tolerance
