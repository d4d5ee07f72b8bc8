"""Check results for people and for machines: dbt-style console lines, JSON, JUnit XML, GitHub annotations
and step summary (Markdown), GitLab Code Quality, SARIF 2.1.0.

Every machine format reports the same *issues* (`issues`): one per failing row of a check whose rows say
where they come from (the findings of a `rule:` check: object, detail, manifest file and line), else one per
failing, erroring or warning check (its own file and line when it is written in the project, checks/x.sql).

Exit codes (`exit_code`): 0 when every check passed or only warned; 1 when any check FAILed or hit an
ERROR (its own query could not run: a missing table, an SQL error in a custom check — in CI both must
block the merge). 2 is not decided here: when the engine itself cannot run (no connection, the
connection lost mid-run) it raises ConnectionFailed and the CLI exits 2 with no results at all.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# --- issues: what the machine formats report ------------------------------------------------------

PROJECT_FILE = "project.yml"  # where an issue with no file of its own points: the project


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing a reviewer should look at: a failing row of a check, or the check itself."""

    result: CheckResult
    object: str  # the table (or other object) it is about
    detail: str
    file: str | None  # relative to the project directory
    line: int | None
    hint: str | None = None

    @property
    def level(self) -> str:
        """error (FAIL, ERROR: blocks the merge) or warning (WARN)."""
        return "warning" if self.result.status == Status.WARN else "error"


def issues(results: Sequence[CheckResult]) -> list[Issue]:
    """The issues of every FAIL, ERROR and WARN result, in the results' order."""
    found: list[Issue] = []
    for r in results:
        if r.status not in (Status.FAIL, Status.ERROR, Status.WARN):
            continue
        located = [row for row in r.rows if row.get("file")]
        if r.status != Status.ERROR and located:
            found += [Issue(r, str(row.get("object") or r.table or r.target), str(row.get("detail") or r.message),
                            str(row["file"]), _line(row.get("line")), _text(row.get("hint"))) for row in located]
        else:
            detail = r.message or f"{r.failures} failing rows"
            found.append(Issue(r, r.table or r.target, detail, r.file, r.line))
    return found


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _text(value: object) -> str | None:
    return str(value) if value else None


def repository_path(file: str | None, base: str = "") -> str:
    """An issue's file as a path from the repository's root: `base` is the project directory there
    ("" when the project is the root); an issue without a file points at project.yml."""
    path = posixpath.join(base, file or PROJECT_FILE) if base else (file or PROJECT_FILE)
    return posixpath.normpath(path)


def fingerprints(found: Sequence[Issue], base: str = "") -> list[str]:
    """A stable id per issue: sha256 of the check's name, the object and the file, never of a message (it
    holds counts) or a line (it moves when the manifest is edited). Issues that would share one (two
    findings of one rule on one table in one file) are told apart by their rank among them."""
    out: list[str] = []
    seen: Counter[str] = Counter()
    for issue in found:
        key = "\0".join((issue.result.name, issue.object, repository_path(issue.file, base)))
        rank = seen[key]
        seen[key] += 1
        out.append(hashlib.sha256((key + (f"\0{rank}" if rank else "")).encode()).hexdigest())
    return out


def compile_results(findings: Sequence[Any]) -> list[CheckResult]:
    """The findings of a compile that stopped a build, as results to report like the checks' (no check
    ran): one `compile:RULE` per rule, FAIL when one of its findings is an error, else WARN, each finding a
    row with its manifest file and line. Info findings are left out."""
    by_rule: dict[str, list[Any]] = {}
    for f in findings:
        if f.severity in ("error", "warn"):
            by_rule.setdefault(f.rule, []).append(f)
    return [
        CheckResult(f"compile:{rule}", Status.FAIL if any(f.severity == "error" for f in found) else Status.WARN,
                    len(found), "; ".join(f.message for f in found), 0.0, None, "rule",
                    rows=tuple({"object": f.subject or f.table or "", "detail": f.message, "file": f.file,
                                "line": f.line, "hint": f.hint} for f in found))
        for rule, found in by_rule.items()
    ]


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


def to_github(results: Sequence[CheckResult], base: str = "") -> str:
    """`::error title=...::message` for FAIL and ERROR, `::warning title=...::message` for WARN: one per
    issue, with `file` and `line` where the issue has them (GitHub shows it on that line of the diff)."""
    lines = []
    for issue in issues(results):
        r = issue.result
        props = [f"title={escape_property(f'{r.status.value} {r.kind} {r.target}')}"]
        if issue.file:
            props.append(f"file={escape_property(repository_path(issue.file, base))}")
            if issue.line:
                props.append(f"line={issue.line}")
        message = issue.detail + (f"\nfix: {issue.hint}" if issue.hint else "")
        lines.append(f"::{issue.level} {','.join(props)}::{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


Link = Callable[[str, int | None], str | None]


def github_link(environ: Mapping[str, str]) -> Link:
    """Links to a file (and line) of the commit the workflow runs on, from the variables GitHub sets;
    none outside a workflow."""
    server, repo, sha = (environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))

    def link(path: str, line: int | None) -> str | None:
        if not (server and repo and sha):
            return None
        return f"{server}/{repo}/blob/{sha}/{path}" + (f"#L{line}" if line else "")

    return link


@dataclass(frozen=True, slots=True)
class GroupRows:
    number: int
    name: str
    tables: int
    rows: int


def groups_of(manifest_path: Path) -> list[GroupRows]:
    """The groups of target/manifest.json with their tables and rows (read through its contract); none when
    there is no manifest (`check --target` of a project never compiled here)."""
    from pgconvoy import contracts

    if not manifest_path.is_file():
        return []
    doc = contracts.load(contracts.ManifestDoc, manifest_path)
    return [GroupRows(g.number, g.name, len(g.tables), g.rows) for g in doc.groups]


def _cell(text: str) -> str:
    """Text in a Markdown table cell: no pipe, no line break, no HTML."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def to_markdown(results: Sequence[CheckResult], groups: Sequence[GroupRows] = (), *, base: str = "",
                link: Link | None = None) -> str:
    """The step summary of a workflow run (`$GITHUB_STEP_SUMMARY`): counts, a table of the failing and
    warning checks (object, detail, file:line, linked to the commit when `link` makes links) and the groups
    with their rows."""
    c = counts(results)
    verdict = "failed" if exit_code(results) else "passed"
    out = [f"## pgconvoy: checks {verdict}", "",
           "| passed | warned | failed | errored | skipped | total |", "|---:|---:|---:|---:|---:|---:|",
           f"| {c['PASS']} | {c['WARN']} | {c['FAIL']} | {c['ERROR']} | {c['SKIP']} | {c['TOTAL']} |", ""]
    found = issues(results)
    if found:
        out += ["### Failing and warning checks", "", "| status | check | object | detail | where |",
                "|---|---|---|---|---|"]
        for issue in found:
            where = ""
            if issue.file:
                path = repository_path(issue.file, base)
                shown = f"{path}:{issue.line}" if issue.line else path
                url = link(path, issue.line) if link else None
                where = f"[{_cell(shown)}]({url})" if url else f"`{shown}`"
            detail = issue.detail + (f" (fix: {issue.hint})" if issue.hint else "")
            out.append(f"| {issue.result.status.value} | `{issue.result.name}` | {_cell(issue.object)} | "
                       f"{_cell(detail)} | {where} |")
        out.append("")
    if groups:
        out += ["### Groups", "", "| # | group | tables | rows |", "|---:|---|---:|---:|"]
        out += [f"| {g.number:02d} | {_cell(g.name)} | {g.tables} | {g.rows:,} |" for g in groups]
        out += [f"| | **total** | {sum(g.tables for g in groups)} | {sum(g.rows for g in groups):,} |", ""]
    return "\n".join(out) + "\n"


# --- GitLab Code Quality -----------------------------------------------------------------------------

_GITLAB_SEVERITY = {Status.ERROR: "critical", Status.FAIL: "major", Status.WARN: "minor"}


def to_gitlab(results: Sequence[CheckResult], base: str = "") -> str:
    """GitLab's Code Quality report (`artifacts: reports: codequality:`): an array of issues with
    description, check_name, fingerprint, severity and location (path, lines.begin). GitLab needs a path
    and a line: an issue without a file points at project.yml, line 1."""
    found = issues(results)
    doc = [
        {"description": f"{issue.result.name}: {issue.detail}" + (f" (fix: {issue.hint})" if issue.hint else ""),
         "check_name": issue.result.name, "fingerprint": fingerprint,
         "severity": _GITLAB_SEVERITY[issue.result.status],
         "location": {"path": repository_path(issue.file, base), "lines": {"begin": issue.line or 1}}}
        for issue, fingerprint in zip(found, fingerprints(found, base), strict=True)
    ]
    return json.dumps(doc, indent=2)


# --- SARIF ---------------------------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warn": "warning", "info": "note"}


def _rule_id(result: CheckResult) -> str:
    """A `rule:` check's rule code (PC301); a built-in check's kind (foreign_key); a custom check's name."""
    from pgconvoy.rules import by_key

    if result.kind == "rule" and (found := by_key(result.target)) is not None:
        return found.code
    return result.name if result.kind == "custom" else result.kind


def to_sarif(results: Sequence[CheckResult], base: str = "") -> str:
    """SARIF 2.1.0: one run of the tool `pgconvoy`, whose rules are the registry's (code, name, what it
    finds, the fix, its remediation page as helpUri where it has one) and the kinds of the other checks;
    one result per issue (ruleId, level, message, the file and line where known, a fingerprint as GitLab's)."""
    from pgconvoy import __version__
    from pgconvoy.rules import all_rules

    descriptors: list[dict[str, Any]] = [
        {"id": r.code, "name": r.name, "shortDescription": {"text": r.summary},
         "fullDescription": {"text": r.description or r.summary}, "help": {"text": r.fix},
         "defaultConfiguration": {"level": _SARIF_LEVEL[r.level]}, "properties": {"stage": r.stage},
         **({"helpUri": r.link} if r.link else {})}
        for r in all_rules()
    ]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    found = issues(results)
    out: list[dict[str, Any]] = []
    for issue, fingerprint in zip(found, fingerprints(found, base), strict=True):
        rule_id = _rule_id(issue.result)
        if rule_id not in index:
            index[rule_id] = len(descriptors)
            descriptors.append({"id": rule_id, "shortDescription": {"text": f"pgconvoy check {rule_id}"}})
        text = issue.detail + (f" (fix: {issue.hint})" if issue.hint else "")
        location: dict[str, Any] = {"artifactLocation": {"uri": repository_path(issue.file, base)}}
        if issue.file and issue.line:
            location["region"] = {"startLine": issue.line}
        out.append({
            "ruleId": rule_id, "ruleIndex": index[rule_id], "level": issue.level,
            "message": {"text": f"{issue.result.status.value} {issue.result.name}: {text}"},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"pgconvoy/v1": fingerprint},
            "properties": {"check": issue.result.name, "object": issue.object, "status": issue.result.status.value},
        })
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "pgconvoy", "version": __version__, "rules": descriptors}},
        "results": out,
    }]}
    return json.dumps(doc, indent=2)
