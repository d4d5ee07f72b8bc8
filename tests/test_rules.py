"""The rule registry: every rule documented, configurable by code or name, and proven by its own pass /
fail cases in tests/rules/CODE.yml, run through the real commands on a real database.

A case is `sql` (the source's schema and rows), optional `groups` (file name -> YAML; default: one group
listing every table of the schema in creation order) and `project` (lines added to project.yml). It runs
at every stage its rule runs at: compile (the whole compile, accounting included) and check (the checks
of `pgconvoy check` on the same database). A fail case must report the rule, a pass case must not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DatabaseFactory, invoke, query
from pgconvoy import compiler, gate
from pgconvoy.manifest import load_project
from pgconvoy.rules import all_rules, by_key
from pgconvoy.rules.run import at_stage

CASES = Path(__file__).parent / "rules"
README = Path(__file__).parent.parent / "README.md"


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("PC*.yml")):
        data = yaml.safe_load(path.read_text())
        for verdict in ("fail", "pass"):
            for i, case in enumerate(data.get(verdict) or []):
                for stage in _stages(path.stem):
                    params.append(pytest.param(path.stem, verdict, case, stage, id=f"{path.stem}-{verdict}{i}-{stage}"))
    return params


def _stages(code: str) -> list[str]:
    rule = by_key(code)
    assert rule is not None, f"tests/rules/{code}.yml: no such rule"
    return [s for s in ("compile", "check") if rule.stage in (s, "both")]


def test_codes_and_names_are_unique_and_keyed_both_ways() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len({r.name for r in rules}) == len(rules) > 25
    for rule in rules:
        assert by_key(rule.code) is by_key(rule.name) is rule
        assert re.fullmatch(r"PC\d{3}", rule.code) and re.fullmatch(r"[a-z_]+", rule.name)


def test_every_rule_has_a_description_a_fix_and_pass_fail_cases() -> None:
    for rule in all_rules():
        assert rule.summary and rule.fix and len(rule.description) > 40, rule.code
        assert rule.function is not None or rule.reported_by, rule.code
        path = CASES / f"{rule.code}.yml"
        assert path.is_file(), f"{rule.code} {rule.name} has no cases in tests/rules/"
        data = yaml.safe_load(path.read_text())
        assert data.get("fail") and data.get("pass"), f"{path.name}: needs fail and pass cases"
        assert path.read_text().startswith(f"# {rule.code} {rule.name}"), f"{path.name}: header names the rule"


def test_the_readme_rule_table_is_the_registry() -> None:
    result = invoke("rules", "--format", "markdown")
    assert result.exit_code == 0
    text = README.read_text()
    start, end = text.index("<!-- rules:start -->"), text.index("<!-- rules:end -->")
    assert text[start + len("<!-- rules:start -->"):end].strip() == result.stdout.strip(), \
        "README's rule table is stale: pgconvoy rules --format markdown"


def test_pgconvoy_rules_lists_every_rule_as_json_and_text() -> None:
    listed = json.loads(invoke("rules", "--format", "json").stdout)
    assert [r["code"] for r in listed["rules"]] == [r.code for r in all_rules()]
    assert set(listed["rules"][0]) >= {"code", "name", "level", "stage", "summary", "fix", "description"}
    text = invoke("rules").stdout
    assert all(r.code in text and r.name in text for r in all_rules())


# The rules Supabase's linter (splinter) has too, and the lint whose remediation page each links to.
SPLINTER = {
    "PC402": "0001_unindexed_foreign_keys", "PC403": "0009_duplicate_index", "PC404": "0004_no_primary_key",
    "PC503": "0008_rls_enabled_no_policy", "PC504": "0006_multiple_permissive_policies",
    "PC505": "0003_auth_rls_initplan", "PC506": "0007_policy_exists_rls_disabled",
    "PC507": "0024_permissive_rls_policy", "PC508": "0013_rls_disabled_in_public",
    "PC509": "0010_security_definer_view", "PC510": "0011_function_search_path_mutable",
    "PC511": "0014_extension_in_public",
}


def test_the_lints_splinter_has_too_link_to_its_remediation_page() -> None:
    listed = {r["code"]: r for r in json.loads(invoke("rules", "--format", "json").stdout)["rules"]}
    base = "https://supabase.com/docs/guides/database/database-linter?lint="
    assert {code: r["link"] for code, r in listed.items() if r["link"]} == {
        code: base + lint for code, lint in SPLINTER.items()}
    assert listed["PC301"]["link"] is None
    text = invoke("rules").stdout
    assert all(f"{code} {listed[code]['name']}: {base}{lint}\n" in text for code, lint in SPLINTER.items())
    markdown = invoke("rules", "--format", "markdown").stdout
    assert f"| PC503 | [`rls_enabled_no_policy`]({base}0008_rls_enabled_no_policy) |" in markdown


def test_a_finding_of_such_a_lint_shows_the_page(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table t (id int primary key); create extension pg_trgm with schema public;")
    assert invoke("init", "--source", uri, "--dir", str(tmp_path)).exit_code == 0
    result = invoke("compile", "--project-dir", str(tmp_path), "--source", uri)
    assert "PC511" in result.output and "ALTER EXTENSION pg_trgm SET SCHEMA extensions" in result.output
    assert "see: https://supabase.com/docs/guides/database/database-linter?lint=0014_extension_in_public" \
        in result.output.replace("\n", "")


def test_every_rule_of_the_check_stage_is_a_check() -> None:
    codes = {r.code for r in at_stage("check")}
    assert {"PC301", "PC401", "PC402", "PC404", "PC501", "PC506", "PC508", "PC509", "PC510", "PC511"} <= codes
    assert "PC101" not in codes


@pytest.mark.parametrize(("code", "verdict", "case", "stage"), _cases())
def test_rule_case(code: str, verdict: str, case: dict[str, Any], stage: str, new_db: DatabaseFactory,
                   tmp_path: Path) -> None:
    uri = new_db(sql=case["sql"])
    _project(tmp_path, uri, case)
    if stage == "compile":
        result = compiler.compile_project(tmp_path, source=uri)
        reported = [f for f in result.findings if f.code == code]
        seen = [f"{f.code} {f.message}" for f in result.findings]
    else:
        rule = by_key(code)
        assert rule is not None
        results = gate.check_database(uri, load_project(tmp_path))
        reported = [r for r in results if r.name == f"rule:{rule.name}" and r.failures]
        seen = [f"{r.name} {r.message}" for r in results if r.failures]
    if verdict == "fail":
        assert reported, f"{code} not reported at {stage}; reported: {seen}"
    else:
        assert not reported, f"{code} reported at {stage} on a pass case: {reported}"


def _project(root: Path, uri: str, case: dict[str, Any]) -> None:
    (root / "project.yml").write_text("name: case\n" + (case.get("project", "") + "\n"))
    groups = case.get("groups") or {"01-all.yml": "tables: [" + ", ".join(_tables(uri, case)) + "]"}
    (root / "groups").mkdir()
    for name, text in groups.items():
        (root / "groups" / name).write_text(text + "\n")


def _tables(uri: str, case: dict[str, Any]) -> list[str]:
    schemas = re.search(r"schemas: \[([^\]]*)\]", case.get("project", ""))
    wanted = [s.strip() for s in schemas.group(1).split(",")] if schemas else ["public"]
    rows = query(uri, "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                      "where n.nspname = any(%s) and c.relkind in ('r', 'p') and not c.relispartition "
                      "order by c.oid", (wanted,))
    return [f"{schema}.{name}" for schema, name in rows]
