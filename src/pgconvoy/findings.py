"""How findings are shown: a table for people, JSON for tools (one shape, `contracts.FindingDoc`, in
compile's output and in manifest.json)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pgconvoy.reconcile import Finding
from pgconvoy.rules import by_key

_STYLE = {"error": "bold red", "warn": "yellow", "info": "cyan"}


def as_doc(f: Finding) -> dict[str, Any]:
    """A finding as every JSON output writes it: `line` a number or null, `table` a name or null."""
    return {"code": f.code, "rule": f.rule, "severity": f.severity, "message": f.message, "file": f.file,
            "line": f.line or None, "table": f.table or None, "hint": f.hint, "key": f.key}


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    """The findings as a table. Their text is data, never markup: `two_pass: [created_by]` prints as is."""
    if not findings:
        console.print("No findings.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("severity", "code", "where", "message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        where = f"{f.file}:{f.line}" if f.line else f.file
        message = Text(f.message)
        if f.hint:
            message.append(f"\nhint: {f.hint}", style="dim")
        if (rule := by_key(f.code)) is not None and rule.link:
            message.append(f"\nsee: {rule.link}", style="dim")
        table.add_row(Text(f.severity, style=_STYLE.get(f.severity, "")), Text(f.code), Text(where), message)
    console.print(table)
    errors = sum(1 for f in findings if f.severity == "error")
    console.print(f"{errors} errors, {sum(1 for f in findings if f.severity == 'warn')} warnings")


def to_json(findings: Sequence[Finding], files: Sequence[str], target: Path) -> str:
    return json.dumps({
        "ok": not any(f.severity == "error" for f in findings),
        "findings": [as_doc(f) for f in findings],
        "target": str(target),
        "files": list(files),
    }, indent=2, ensure_ascii=False)
