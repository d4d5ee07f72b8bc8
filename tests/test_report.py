"""Report formats: console lines, JSON, JUnit XML (parsed back), GitHub workflow commands and step summary,
GitLab Code Quality and SARIF (validated against the published schemas in tests/schemas/)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import Result
from rich.console import Console

from conftest import DatabaseFactory, invoke, run_sql
from pgconvoy import catalog, checks, gate, report
from pgconvoy.checks import CheckResult, Status
from pgconvoy.manifest import load_project

RESULTS = [
    CheckResult("rows:public.hotels", Status.PASS, 0, "3 rows", 0.021, "public.hotels", "rows"),
    CheckResult("lint:duplicate_index", Status.WARN, 1, "1 failing row: indexes a, b on public.t are identical",
                0.004, None, "lint", "warn"),
    CheckResult("foreign_key:public.b.b_fk", Status.FAIL, 2, "2 failing rows: 100% orphans,\nsee: b", 0.5,
                "public.b", "foreign_key"),
    CheckResult("custom:typo", Status.ERROR, 0, 'syntax error at or near "selec"', 0.001, None, "custom"),
    CheckResult("custom:off", Status.SKIP, 0, "disabled", 0.0, None, "custom"),
]


def test_console_lines_and_summary() -> None:
    console = Console(record=True, width=200)
    report.print_results(console, RESULTS)
    lines = console.export_text().splitlines()
    assert lines[0] == "1 of 5 PASS rows public.hotels [3 rows in 0.02s]"
    assert lines[1] == "2 of 5 WARN lint duplicate_index [1 failing row in 0.00s]"
    assert lines[2] == "    1 failing row: indexes a, b on public.t are identical"
    assert lines[3] == "3 of 5 FAIL foreign_key public.b.b_fk [2 failing rows in 0.50s]"
    assert "4 of 5 ERROR custom typo [error in 0.00s]" in lines
    assert lines[-1] == "Done. PASS=1 WARN=1 FAIL=1 ERROR=1 SKIP=1 TOTAL=5"


def test_exit_code() -> None:
    assert report.exit_code(RESULTS[:2]) == 0  # warnings do not fail a build
    assert report.exit_code(RESULTS[:3]) == 1
    assert report.exit_code([RESULTS[0], RESULTS[3]]) == 1
    assert report.exit_code([]) == 0


def test_json() -> None:
    doc = json.loads(report.to_json(RESULTS))
    assert doc["summary"] == {"PASS": 1, "WARN": 1, "FAIL": 1, "ERROR": 1, "SKIP": 1, "TOTAL": 5}
    assert [r["status"] for r in doc["results"]] == ["PASS", "WARN", "FAIL", "ERROR", "SKIP"]
    assert doc["results"][2]["failures"] == 2 and doc["results"][2]["table"] == "public.b"


def test_junit_parses_and_counts_match(tmp_path: Path) -> None:
    path = tmp_path / "checks.xml"
    report.to_junit(RESULTS, path)
    suite = ET.parse(path).getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert len(cases) == int(suite.attrib["tests"]) == len(RESULTS)
    assert len(suite.findall("testcase/failure")) == int(suite.attrib["failures"]) == 1
    assert len(suite.findall("testcase/error")) == int(suite.attrib["errors"]) == 1
    assert len(suite.findall("testcase/skipped")) == int(suite.attrib["skipped"]) == 1
    failure = cases[2].find("failure")
    assert failure is not None and failure.attrib["message"] == RESULTS[2].message  # newline survives
    warning = cases[1].find("properties/property")
    assert warning is not None and warning.attrib == {"name": "warning", "value": RESULTS[1].message}
    assert [c.attrib["name"] for c in cases] == [r.name for r in RESULTS]


def test_github_annotations_escape_data_and_properties() -> None:
    lines = report.to_github(RESULTS).splitlines()
    assert lines == [
        "::warning title=WARN lint duplicate_index::1 failing row: indexes a, b on public.t are identical",
        "::error title=FAIL foreign_key public.b.b_fk::2 failing rows: 100%25 orphans,%0Asee: b",
        '::error title=ERROR custom typo::syntax error at or near "selec"',
    ]
    assert report.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert report.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    # % is escaped first, so an existing escape sequence is not decoded by the runner.
    assert report.escape_property("%0A") == "%250A"
    assert report.to_github(RESULTS[:1]) == ""


def test_reports_from_a_real_run(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.t (id int); create table public.u (id int primary key);"
                     "insert into public.u values (1), (2);")
    (tmp_path / "project.yml").write_text("name: t\n")
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "01-none.yml").write_text("tables: []\n")
    loaded = load_project(tmp_path)
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn, catalog.Options(rows="exact"))
        found = [*gate.rule_checks(loaded, cat), checks.rows_check("public.u", 2), checks.rows_check("public.u", 5)]
        results = checks.run_checks(conn, found)
    suite = ET.fromstring(report.to_junit(results))
    assert int(suite.attrib["tests"]) == len(results) == len(found)
    assert int(suite.attrib["failures"]) == sum(r.status == Status.FAIL for r in results) == 1
    annotations = report.to_github(results)
    where = "file=project.yml,line=1"  # a finding on no listed table: the project's file
    assert f"::warning title=WARN rule no_primary_key,{where}::public.t has no primary key" in annotations
    total = len(found)
    assert report.summary_line(results) == f"Done. PASS={total - 2} WARN=1 FAIL=1 ERROR=0 SKIP=0 TOTAL={total}"


# --- issues, GitHub summary, GitLab, SARIF ---------------------------------------------------------------

SCHEMAS = Path(__file__).parent / "schemas"

ROW_COUNT = CheckResult(
    "rule:row_count_out_of_tolerance", Status.FAIL, 3, "3 findings", 0.01, None, "rule", "error",
    rows=(
        {"object": "public.hotels", "detail": "public.hotels has 4 rows, expected 3", "file": "groups/01-a.yml",
         "line": 7, "hint": "update rows:, or widen the tolerance"},
        {"object": "public.rooms", "detail": "public.rooms has 9 rows | expected 8", "file": "groups/02-b.yml",
         "line": 3, "hint": None},
        {"object": "public.rooms", "detail": "public.rooms: a second finding", "file": "groups/02-b.yml", "line": 4},
    ))
CUSTOM = CheckResult("custom:three_hotels", Status.FAIL, 3, "3 failing rows: id=1; id=2; id=3", 0.01, None, "custom",
                     rows=({"id": 1}, {"id": 2}, {"id": 3}), file="checks/three_hotels.sql", line=1)
LOCATED = [*RESULTS, ROW_COUNT, CUSTOM]


def _validate(document: object, schema_file: str) -> None:
    import jsonschema

    schema = json.loads((SCHEMAS / schema_file).read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    validator(schema).validate(document)


def test_issues_are_one_per_located_row_else_one_per_check() -> None:
    found = report.issues(LOCATED)
    assert [(i.result.name, i.object, i.file, i.line) for i in found] == [
        ("lint:duplicate_index", "duplicate_index", None, None),
        ("foreign_key:public.b.b_fk", "public.b", None, None),
        ("custom:typo", "typo", None, None),
        ("rule:row_count_out_of_tolerance", "public.hotels", "groups/01-a.yml", 7),
        ("rule:row_count_out_of_tolerance", "public.rooms", "groups/02-b.yml", 3),
        ("rule:row_count_out_of_tolerance", "public.rooms", "groups/02-b.yml", 4),
        ("custom:three_hotels", "three_hotels", "checks/three_hotels.sql", 1),  # rows without a file: the check's
    ]
    assert [i.level for i in found] == ["warning"] + ["error"] * 6
    assert report.repository_path("groups/01-a.yml", "db/migration") == "db/migration/groups/01-a.yml"
    assert report.repository_path(None, "") == "project.yml" and report.repository_path("x.yml", "./p/") == "p/x.yml"


def test_github_annotations_carry_file_line_and_fix() -> None:
    lines = report.to_github([ROW_COUNT, CUSTOM], base="db").splitlines()
    assert lines[0] == ("::error title=FAIL rule row_count_out_of_tolerance,file=db/groups/01-a.yml,line=7::"
                        "public.hotels has 4 rows, expected 3%0Afix: update rows:, or widen the tolerance")
    custom = "::error title=FAIL custom three_hotels,file=db/checks/three_hotels.sql,line=1::"
    assert lines[3] == custom + CUSTOM.message
    assert len(lines) == 4


def test_markdown_summary_counts_issues_links_and_groups() -> None:
    groups = [report.GroupRows(1, "foundation", 3, 1200), report.GroupRows(2, "hotels", 2, 34)]
    link = report.github_link({"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
                               "GITHUB_SHA": "abc123"})
    text = report.to_markdown(LOCATED, groups, base="db", link=link)
    lines = text.splitlines()
    assert lines[0] == "## pgconvoy: checks failed"
    assert "| 1 | 1 | 3 | 1 | 1 | 7 |" in lines  # passed warned failed errored skipped total
    assert ("| FAIL | `rule:row_count_out_of_tolerance` | public.hotels | public.hotels has 4 rows, expected 3 "
            "(fix: update rows:, or widen the tolerance) | "
            "[db/groups/01-a.yml:7](https://github.com/o/r/blob/abc123/db/groups/01-a.yml#L7) |") in lines
    assert any("public.rooms has 9 rows \\| expected 8" in ln for ln in lines)  # a pipe does not split the cell
    assert any("<br>see: b" in ln for ln in lines)  # nor a newline
    assert "| 01 | foundation | 3 | 1,200 |" in lines and "| | **total** | 5 | 1,234 |" in lines
    # No workflow (no GITHUB_* variables): the place is shown, not linked.
    plain = report.to_markdown([CUSTOM], link=report.github_link({}))
    assert "| `checks/three_hotels.sql:1` |" in plain and "### Groups" not in plain
    assert "### Failing" not in report.to_markdown(RESULTS[:1])


def test_gitlab_code_quality_is_valid_and_fingerprints_are_stable() -> None:
    doc = json.loads(report.to_gitlab(LOCATED, base="db"))
    _validate(doc, "gitlab-code-quality.json")
    assert len(doc) == len(report.issues(LOCATED))
    prints = [i["fingerprint"] for i in doc]
    assert len(set(prints)) == len(prints)  # two findings on public.rooms in one file stay two issues
    first = doc[3]
    assert first["check_name"] == "rule:row_count_out_of_tolerance" and first["severity"] == "major"
    assert first["location"] == {"path": "db/groups/01-a.yml", "lines": {"begin": 7}}
    assert doc[0]["severity"] == "minor" and doc[2]["severity"] == "critical"  # WARN, ERROR
    assert doc[1]["location"] == {"path": "db/project.yml", "lines": {"begin": 1}}  # no file of its own
    # Another run: other counts in the messages, lines moved: the same fingerprints.
    moved = CheckResult(ROW_COUNT.name, Status.FAIL, 3, "other", 0.2, None, "rule", rows=tuple(
        {**row, "detail": str(row["detail"]).replace("4 rows", "5 rows"), "line": 20 + n}
        for n, row in enumerate(ROW_COUNT.rows)))
    again = json.loads(report.to_gitlab([*RESULTS, moved, CUSTOM], base="db"))
    assert [i["fingerprint"] for i in again] == prints
    assert json.loads(report.to_gitlab(RESULTS[:1])) == []


def test_sarif_is_valid_with_the_registry_as_rules() -> None:
    from pgconvoy.rules import all_rules

    doc = json.loads(report.to_sarif(LOCATED, base="db"))
    _validate(doc, "sarif-2.1.0.json")
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "pgconvoy"
    rules = driver["rules"]
    registry = all_rules()
    assert [r["id"] for r in rules[:len(registry)]] == [r.code for r in registry]
    pc301 = next(r for r in rules if r["id"] == "PC301")
    assert pc301["name"] == "row_count_out_of_tolerance"
    assert pc301["help"]["text"] == "update rows:, or widen the tolerance"
    assert "helpUri" not in pc301  # no remediation page of its own
    pc503 = next(r for r in rules if r["id"] == "PC503")
    assert pc503["helpUri"] == "https://supabase.com/docs/guides/database/database-linter?lint=0008_rls_enabled_no_policy"
    results = doc["runs"][0]["results"]
    assert len(results) == len(report.issues(LOCATED))
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["PC301"]["level"] == "error" and by_rule["lint"]["level"] == "warning"
    located = [r for r in results if r["ruleId"] == "PC301"]
    assert located[0]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "db/groups/01-a.yml"}, "region": {"startLine": 7}}
    assert results[0]["level"] == "warning" and results[1]["ruleId"] == "foreign_key"
    assert "region" not in results[1]["locations"][0]["physicalLocation"]  # no line known: the file only
    assert by_rule["custom:three_hotels"]["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert json.loads(report.to_sarif([]))["runs"][0]["results"] == []


@pytest.fixture(scope="module")
def failing(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A project compiled from a database (target/manifest.json exists), and that database changed since:
    one more row in public.u than groups/ expects, a table without a primary key, a failing checks/*.sql."""
    from pgconvoy import embedded

    name = f"report_{os.getpid()}"
    uri = embedded.create_database(pg_server, name)
    try:
        run_sql(uri, "create table public.t (id int); create table public.u (id int primary key);"
                     "insert into public.u values (1), (2);")
        directory = tmp_path_factory.mktemp("failing") / "project"
        assert invoke("init", "--source", uri, "--dir", str(directory)).exit_code == 0
        assert invoke("compile", "--project-dir", str(directory), "--source", uri).exit_code == 0
        (directory / "checks").mkdir(exist_ok=True)
        (directory / "checks" / "two_us.sql").write_text("-- description: every u fails\nselect id from public.u\n")
        run_sql(uri, "insert into public.u values (3)")
        yield directory, uri
    finally:
        embedded.drop_database(pg_server, name)


def _check(project: Path, uri: str, *args: str) -> Result:
    return invoke("check", "--project-dir", str(project), "--target", uri, *args)


def test_machine_formats_of_a_failing_check(failing: tuple[Path, str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project, uri = failing
    monkeypatch.chdir(project.parent)  # as a workflow runs: at the repository's root, the project below it
    group_file = next((project / "groups").glob("*.yml")).name

    result = _check(project, uri, "--format", "sarif")
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    _validate(sarif, "sarif-2.1.0.json")
    results = sarif["runs"][0]["results"]
    rows = next(r for r in results if r["ruleId"] == "PC301")
    assert rows["level"] == "error" and "public.u" in rows["message"]["text"]
    place = rows["locations"][0]["physicalLocation"]
    assert place["artifactLocation"]["uri"] == f"project/groups/{group_file}" and place["region"]["startLine"] > 1
    assert any(r["ruleId"] == "PC404" and r["level"] == "warning" for r in results)  # public.t: no primary key
    custom = [r for r in results if r["ruleId"] == "custom:two_us"]
    assert len(custom) == 1  # run once
    assert custom[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "project/checks/two_us.sql"

    out = tmp_path / "reports" / "gl-code-quality-report.json"
    result = _check(project, uri, "--format", "gitlab", "--output", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    gitlab = json.loads(out.read_text())
    _validate(gitlab, "gitlab-code-quality.json")
    assert len(gitlab) == len(results)
    assert {i["fingerprint"] for i in gitlab} == {r["partialFingerprints"]["pgconvoy/v1"] for r in results}
    again = _check(project, uri, "--format", "gitlab")
    assert [i["fingerprint"] for i in json.loads(again.stdout)] == [i["fingerprint"] for i in gitlab]

    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    for key, value in {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
                       "GITHUB_SHA": "f00"}.items():
        monkeypatch.setenv(key, value)
    result = _check(project, uri, "--format", "github")
    assert result.exit_code == 1
    assert re.search(rf"^::error title=FAIL rule row_count_out_of_tolerance,file=project/groups/{group_file},"
                     r"line=\d+::public\.u ", result.stdout, re.M)
    text = summary.read_text()
    assert text.startswith("earlier step\n## pgconvoy: checks failed")  # appended, as GitHub expects
    assert f"(https://github.com/o/r/blob/f00/project/groups/{group_file}#L" in text
    assert "| `custom:two_us` | two_us |" in text and "project/checks/two_us.sql:1" in text
    assert re.search(r"^\| 01 \| \S+ \| 2 \| 2 \|$", text, re.M)  # the group, as manifest.json has it

    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    own = tmp_path / "summary.md"
    assert _check(project, uri, "--format", "github", "--output", str(own)).exit_code == 1
    assert own.read_text().startswith("## pgconvoy: checks failed")

    out = tmp_path / "checks.json"
    assert _check(project, uri, "--format", "json", "--output", str(out)).exit_code == 1
    assert json.loads(out.read_text())["summary"]["FAIL"] >= 2


def test_make_console_follows_no_color_force_color_and_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from pgconvoy.cli import make_console

    def printed(env: dict[str, str], *, tty: bool) -> tuple[str, int]:
        for key in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        if tty:
            main, other = os.openpty()
            stream = open(other, "w", encoding="utf-8")  # noqa: SIM115
        else:
            stream = io.StringIO()
        monkeypatch.setattr(sys, "stdout", stream)
        console = make_console()
        console.print("[red]FAIL[/]")
        stream.flush()
        if tty:
            text = os.read(main, 1000).decode()
            stream.close()
            os.close(main)
        else:
            text = stream.getvalue()  # type: ignore[attr-defined]
        return text, console.width

    text, width = printed({}, tty=False)
    assert text == "FAIL\n" and width == 200  # a pipe or a CI log: no colour, long lines
    text, width = printed({"FORCE_COLOR": "1"}, tty=False)
    assert "\x1b[31m" in text and width == 200  # CI that shows colour asks for it
    text, _ = printed({"FORCE_COLOR": "1", "NO_COLOR": "1"}, tty=False)
    assert "\x1b[" not in text  # NO_COLOR wins
    text, _ = printed({}, tty=True)
    assert "\x1b[31m" in text
    text, _ = printed({"NO_COLOR": "1"}, tty=True)
    assert "\x1b[" not in text
