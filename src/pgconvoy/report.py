"""Check results for people and for machines: dbt-style console lines, JSON, JUnit XML, GitHub annotations.

Exit codes (`exit_code`): 0 when every check passed or only warned; 1 when any check FAILed or hit an
ERROR (its own query could not run: a missing table, an SQL error in a custom check — in CI both must
block the merge). 2 is not decided here: when the engine itself cannot run (no connection, the
connection lost mid-run) it raises ConnectionFailed and the CLI exits 2 with no results at all.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pgconvoy.checks.engine import CheckResult, Status

_STYLE = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.ERROR: "red", Status.SKIP: "dim"}
_ORDER = (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIP)


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    """PASS, WARN, FAIL, ERROR, SKIP and TOTAL counts."""
    by_status = Counter(r.status for r in results)
    return {**{s.value: by_status.get(s, 0) for s in _ORDER}, "TOTAL": len(results)}


def exit_code(results: Sequence[CheckResult]) -> int:
    return 1 if any(r.status in (Status.FAIL, Status.ERROR) for r in results) else 0


# --- console ----------------------------------------------------------------------------------------


def result_line(index: int, total: int, result: CheckResult) -> str:
    """`12 of 40 PASS rows public.hotels [3 rows in 0.02s]`, as plain text."""
    what = f"{result.status.value} {result.kind} {result.target}"
    return f"{index} of {total} {what} [{_brief(result)} in {result.seconds:.2f}s]"


def _brief(result: CheckResult) -> str:
    if result.status == Status.ERROR:
        return "error"
    if result.status == Status.SKIP:
        return "skipped"
    if result.status == Status.PASS and result.message:
        return result.message  # e.g. a rows check: "3 rows"
    noun = "row" if result.failures == 1 else "rows"
    return f"{result.failures} failing {noun}"


def print_result(console: Console, index: int, total: int, result: CheckResult) -> None:
    """One dbt-style line, the status coloured; for anything but PASS, the message indented below."""
    style = _STYLE[result.status]
    line = escape(result_line(index, total, result))
    status = result.status.value
    console.print(line.replace(f" {status} ", f" [{style}]{status}[/] ", 1), highlight=False)
    if result.status not in (Status.PASS, Status.SKIP) and result.message:
        console.print(f"    {escape(result.message)}", style=style, highlight=False)


def summary_line(results: Sequence[CheckResult]) -> str:
    """`Done. PASS=38 WARN=1 FAIL=0 ERROR=1 SKIP=0 TOTAL=40`."""
    return "Done. " + " ".join(f"{k}={v}" for k, v in counts(results).items())


def print_results(console: Console, results: Sequence[CheckResult]) -> None:
    for index, result in enumerate(results, start=1):
        print_result(console, index, len(results), result)
    console.print()
    style = "red" if exit_code(results) else "green"
    console.print(summary_line(results), style=style, highlight=False)


# --- JSON -------------------------------------------------------------------------------------------


def to_json(results: Sequence[CheckResult]) -> str:
    return json.dumps({
        "results": [
            {"name": r.name, "kind": r.kind, "status": r.status.value, "severity": r.severity,
             "failures": r.failures, "message": r.message, "seconds": round(r.seconds, 4), "table": r.table}
            for r in results
        ],
        "summary": counts(results),
    }, indent=2)


# --- JUnit ------------------------------------------------------------------------------------------


def to_junit(results: Sequence[CheckResult], path: Path | str | None = None) -> str:
    """One testsuite `pgconvoy`, one testcase per check. FAIL -> <failure>, ERROR -> <error>,
    SKIP -> <skipped>, WARN -> passes with a `warning` property and the message in <system-out>.
    Written to `path` when given; the XML text is returned either way."""
    c = counts(results)
    suite = ET.Element("testsuite", {
        "name": "pgconvoy", "tests": str(c["TOTAL"]), "failures": str(c["FAIL"]), "errors": str(c["ERROR"]),
        "skipped": str(c["SKIP"]), "time": f"{sum(r.seconds for r in results):.3f}",
    })
    for r in results:
        case = ET.SubElement(suite, "testcase", {"classname": f"pgconvoy.{r.kind}", "name": r.name,
                                                 "time": f"{r.seconds:.3f}"})
        if r.status == Status.FAIL:
            ET.SubElement(case, "failure", {"message": r.message, "type": r.kind}).text = r.message
        elif r.status == Status.ERROR:
            ET.SubElement(case, "error", {"message": r.message, "type": "error"}).text = r.message
        elif r.status == Status.SKIP:
            ET.SubElement(case, "skipped", {"message": r.message})
        elif r.status == Status.WARN:
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", {"name": "warning", "value": r.message})
            ET.SubElement(case, "system-out").text = f"WARN: {r.message}"
    text: str = ET.tostring(suite, encoding="unicode", xml_declaration=True)
    if path is not None:
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


# --- GitHub workflow commands ----------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF encoded (as GitHub's toolkit does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(results: Sequence[CheckResult]) -> str:
    """`::error title=...::message` for FAIL and ERROR, `::warning title=...::message` for WARN."""
    lines = []
    for r in results:
        if r.status in (Status.FAIL, Status.ERROR):
            command = "error"
        elif r.status == Status.WARN:
            command = "warning"
        else:
            continue
        title = f"{r.status.value} {r.kind} {r.target}"
        message = r.message or f"{r.failures} failing rows"
        lines.append(f"::{command} title={escape_property(title)}::{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
