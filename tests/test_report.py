"""Report formats: console lines, JSON, JUnit XML (parsed back) and GitHub workflow commands."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
from rich.console import Console

from conftest import DatabaseFactory
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
    assert "::warning title=WARN rule no_primary_key::public.t has no primary key" in report.to_github(results)
    total = len(found)
    assert report.summary_line(results) == f"Done. PASS={total - 2} WARN=1 FAIL=1 ERROR=0 SKIP=0 TOTAL={total}"
