"""What `run` shows while it works: a bar per file (bytes, rows, speed), then a dbt-style line each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pgconvoy.runner.apply import FileResult, Report


class Bars:
    def __init__(self, progress: Progress | None, console: Console | None, total: int) -> None:
        self.progress = progress
        self.console = console
        self.total = total
        self.task: Any = None
        self.rows = 0

    def start(self, name: str, size: int | None) -> Report:
        if self.progress is None:
            return lambda size, rows: None
        self.rows = 0
        self.task = self.progress.add_task(escape(name), total=size, rows=0)
        progress, task = self.progress, self.task

        def report(read: int, rows: int) -> None:
            self.rows += rows
            progress.update(task, advance=read, rows=self.rows)

        return report

    def finish(self, number: int, result: FileResult) -> None:
        if self.progress is None or self.console is None:
            return
        self.progress.remove_task(self.task)
        status = "[green]OK[/]" if result.status == "done" else "[red]ERROR[/]"
        self.console.print(f"{number} of {self.total} {status} {escape(result.file)}  "
                           f"{result.rows:,} rows in {result.seconds:.1f}s", highlight=False)

    def skip(self, number: int, name: str) -> None:
        if self.console is not None:
            self.console.print(f"{number} of {self.total} [dim]SKIP[/] {escape(name)} (applied by an earlier run)",
                               highlight=False)

    def note(self, text: str) -> None:
        if self.console is not None:
            self.console.print(text, highlight=False)


@contextmanager
def bars(console: Console | None, total: int) -> Iterator[Bars]:
    if console is None:
        yield Bars(None, None, total)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TextColumn("{task.fields[rows]:,} rows"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bars(progress, console, total)
