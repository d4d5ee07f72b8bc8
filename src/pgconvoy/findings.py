"""How findings are shown: a table for people, JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from pgconvoy.reconcile import Finding

_STYLE = {"error": "bold red", "warn": "yellow", "info": "cyan"}


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    if not findings:
        console.print("No findings.")
        return
    table = Table(box=box.SIMPLE_HEAD)
    for column in ("severity", "code", "where", "message"):
        table.add_column(column, overflow="fold")
    for f in findings:
        where = f"{f.file}:{f.line}" if f.line else f.file
        message = f.message + (f"\n[dim]hint: {f.hint}[/]" if f.hint else "")
        table.add_row(f"[{_STYLE.get(f.severity, '')}]{f.severity}[/]", f.code, where, message)
    console.print(table)
    errors = sum(1 for f in findings if f.severity == "error")
    console.print(f"{errors} errors, {sum(1 for f in findings if f.severity == 'warn')} warnings")


def to_json(findings: Sequence[Finding], files: Sequence[str], target: Path) -> str:
    return json.dumps({
        "ok": not any(f.severity == "error" for f in findings),
        "findings": [
            {"code": f.code, "rule": f.rule, "severity": f.severity, "message": f.message, "file": f.file,
             "line": f.line or 0, "table": f.table or "", "hint": f.hint}
            for f in findings
        ],
        "target": str(target),
        "files": list(files),
    }, indent=2, ensure_ascii=False)
