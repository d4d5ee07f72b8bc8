"""Loading project.yml, group files and checks; every malformed file names its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest import (
    GroupManifest,
    ManifestError,
    Project,
    dump_group,
    dump_project,
    json_schema,
    load_project,
    read_yaml,
)

PROJECT = "name: hotel\nschemas: [public]\n"
FOUNDATION = """\
description: Root tables every tenant depends on
tables:                      # load order inside the group
  - tenant_registry: {rows: 3}
  - code_embeddings: {rows: {expected: 4333, tolerance: 2%}}
  - staff_users: {two_pass: [created_by]}
  - plain_table
indexes: [idx_a, {table: hotels.units, columns: [tenant_id, hotel_id]}]
rls:
  hotels: {enabled: true, policies: [hotels_tenant_read]}
expect: {tables: 4, rows: 5201}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def load_error(root: Path, files: dict[str, str]) -> str:
    with pytest.raises(PgConvoyError) as raised:
        load_project(write(root, {"project.yml": PROJECT, **files}))
    return raised.value.message


def test_loads_project_groups_and_checks(tmp_path: Path) -> None:
    write(tmp_path, {
        "project.yml": PROJECT + "exclude: [public.schema_migrations]\ndata: {format: insert}\n"
                                 "lints: {unindexed_foreign_key: error, PC503: off}\n",
        "groups/01-foundation.yml": FOUNDATION,
        "groups/03-operations.yml": "tables: [hotels]\n",
        "checks/no_orphans.sql": "select 1 where false",
        "checks/more.yml": "checks:\n  - name: many_jobs\n    kind: row_count\n    params: {table: job_logs}\n"
                           "    warn_if: '>100'\n",
    })
    loaded = load_project(tmp_path)
    assert loaded.project.data.format == "insert"
    assert loaded.project.lints == {"unindexed_foreign_key": "error", "PC503": "off"}
    assert [(g.number, g.name, g.file) for g in loaded.groups] == [
        (1, "foundation", "groups/01-foundation.yml"), (3, "operations", "groups/03-operations.yml")]
    group = loaded.groups[0].manifest
    names = [name for name, _ in group.entries()]
    assert names == ["tenant_registry", "code_embeddings", "staff_users", "plain_table"]
    rows = group.entries()[1][1].rows
    assert rows is not None and (rows.expected, rows.allowed()) == (4333, 86)  # 2% of 4333, rounded down
    assert rows.accepts(4333 + 86) and not rows.accepts(4333 - 87)
    assert group.entries()[2][1].two_pass == ["created_by"]
    assert group.indexes[0].name == "idx_a" and group.indexes[1].columns == ["tenant_id", "hotel_id"]
    assert group.rls["hotels"].policies == ["hotels_tenant_read"]
    # Lines of entries, for findings: the third table is on line 5 of the file.
    assert loaded.groups[0].lines.line("tables", 2) == 5
    assert loaded.groups[0].lines.line("rls", "hotels", "policies", 0) == 9
    assert [(c.spec.name, c.file, c.line) for c in loaded.checks] == [
        ("many_jobs", "checks/more.yml", 2), ("no_orphans", "checks/no_orphans.sql", 1)]


def test_env_var_with_default_and_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_TEST_SOURCE", raising=False)
    files = {"project.yml": "name: x\nsource: \"{{ env_var('PGCONVOY_TEST_SOURCE', 'sample:hotel') }}\"\n",
             "groups/01-a.yml": "tables:\n  - t: {rows: \"{{ env_var('PGCONVOY_TEST_ROWS', '7') }}\"}\n"}
    loaded = load_project(write(tmp_path, files))
    assert loaded.project.source == "sample:hotel"
    assert loaded.groups[0].manifest.entries()[0][1].rows.expected == 7  # type: ignore[union-attr]
    monkeypatch.setenv("PGCONVOY_TEST_SOURCE", "postgresql://db/x")
    assert load_project(tmp_path).project.source == "postgresql://db/x"


def test_unset_env_var_names_file_line_and_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGCONVOY_NOT_SET", raising=False)
    message = load_error(tmp_path, {"project.yml": "name: x\n\nsource: \"{{ env_var('PGCONVOY_NOT_SET') }}\"\n",
                                    "groups/01-a.yml": "tables: [t]\n"})
    assert message == "project.yml:3: source: environment variable PGCONVOY_NOT_SET is not set"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"groups/01-a.yml": "tables:\n  - a\n  - b: {rows: 3\n  - c\n"})
    # libyaml (the C loader) words it "did not find expected ','"; the pure-Python one "expected ','"
    assert message.startswith("groups/01-a.yml:5: invalid YAML: ")
    assert "expected ',' or '}'" in message and message.endswith("(while parsing a flow mapping that starts on line 3)")
    message = load_error(tmp_path, {"groups/01-a.yml": "description: x\ntables:\n  - a\n bad: [b]\n"})
    assert message.startswith("groups/01-a.yml:4: invalid YAML:")


def test_wrong_type_names_file_line_and_key_path(tmp_path: Path) -> None:
    text = FOUNDATION.replace("  - plain_table\n", "  - tenant_registry: {rows: three}\n")
    message = load_error(tmp_path, {"groups/01-foundation.yml": text})
    assert message == ("groups/01-foundation.yml:6: tables[3].tenant_registry.rows: "
                       "expected an integer or {expected, tolerance}, got 'three'")


def test_unknown_key_lists_allowed_keys(tmp_path: Path) -> None:
    text = FOUNDATION.replace("{enabled: true,", "{enabeld: true,")
    message = load_error(tmp_path, {"groups/01-foundation.yml": text})
    assert message == ("groups/01-foundation.yml:9: rls.hotels.enabeld: unknown key 'enabeld'; "
                       "allowed keys: enabled, forced, policies")


def test_unknown_key_in_project_and_table_spec(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"project.yml": PROJECT + "exlude: [x]\n", "groups/01-a.yml": "tables: [t]\n"})
    assert message.startswith("project.yml:3: exlude: unknown key 'exlude'; allowed keys: name, source, schemas,")
    message = load_error(tmp_path, {"project.yml": PROJECT, "groups/01-a.yml": "tables:\n  - t: {two_pas: [a]}\n"})
    assert message == ("groups/01-a.yml:2: tables[0].t.two_pas: unknown key 'two_pas'; "
                       "allowed keys: rows, two_pass, deferred")


def test_bad_tolerance(tmp_path: Path) -> None:
    text = "tables:\n  - a\n  - b:\n      rows: {expected: 10, tolerance: lots}\n"
    message = load_error(tmp_path, {"groups/02-b.yml": text})
    assert message == ("groups/02-b.yml:4: tables[1].b.rows.tolerance: "
                       "expected a row count or a percentage like '2%', got 'lots'")


def test_bad_literal_and_missing_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"project.yml": PROJECT + "data:\n  format: csv\n",
                                    "groups/01-a.yml": "tables: [t]\n"})
    assert message == "project.yml:4: data.format: expected one of 'copy' or 'insert', got 'csv'"
    message = load_error(tmp_path, {"project.yml": PROJECT, "groups/01-a.yml": "description: no tables\n"})
    assert message == "groups/01-a.yml:1: tables: required key is missing"


def test_table_item_with_two_keys(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"groups/01-a.yml": "tables:\n  - a\n  - {b: {rows: 1}, c: {rows: 2}}\n"})
    assert message.startswith("groups/01-a.yml:3: tables[1]: expected a table name or a one-key map")


def test_group_file_name_needs_number(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"groups/foundation.yml": "tables: [t]\n"})
    assert message.startswith("groups/foundation.yml: a group file is named NN-name.yml")


def test_group_00_would_overwrite_the_shared_schema_file(tmp_path: Path) -> None:
    """Before, groups/00-shared.yml rendered 00-schema-shared.sql over the file of what no group owns."""
    message = load_error(tmp_path, {"groups/00-shared.yml": "tables: [t]\n"})
    assert message.startswith("groups/00-shared.yml: group numbers start at 01")


def test_duplicate_group_number_and_all_problems_listed(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as raised:
        load_project(write(tmp_path, {"project.yml": PROJECT, "groups/01-a.yml": "tables: [a]\n",
                                      "groups/01-b.yml": "tables: [b]\n", "groups/02-c.yml": "tables: 3\n"}))
    assert raised.value.problems == [
        "groups/01-b.yml: group number 01 is also used by groups/01-a.yml",
        "groups/02-c.yml:1: tables: expected a list, got 3",
    ]
    assert raised.value.hint == "1 more problem: groups/02-c.yml:1: tables: expected a list, got 3"


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(ManifestError, match=r"^g.yml:3: tables: duplicate key$"):
        read_yaml("tables: [a]\nexpect: {rows: 1}\ntables: [b]\n", "g.yml")


def test_check_thresholds(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"groups/01-a.yml": "tables: [t]\n",
                                    "checks/c.yml": "checks:\n  - name: x\n    sql: select 1\n    error_if: lots\n"})
    assert message == "checks/c.yml:4: checks[0].error_if: expected a comparison with a number like '>0' or " \
                      "'>=10', got 'lots'"


def test_dump_writes_the_shape_users_write_and_loads_back(tmp_path: Path) -> None:
    group = GroupManifest.model_validate(read_yaml(FOUNDATION, "f.yml")[0])
    expected = """\
description: Root tables every tenant depends on
tables:
- tenant_registry: {rows: 3}
- code_embeddings: {rows: {expected: 4333, tolerance: 2%}}
- staff_users: {two_pass: [created_by]}
- plain_table
indexes:
- idx_a
- {table: hotels.units, columns: [tenant_id, hotel_id]}
rls:
  hotels: {policies: [hotels_tenant_read]}
expect: {tables: 4, rows: 5201}
"""
    assert dump_group(group) == expected
    assert GroupManifest.model_validate(read_yaml(dump_group(group), "f.yml")[0]) == group

    project = Project(name="hotel", source="{{ env_var('SRC', 'sample:hotel') }}", schemas=["public", "hotels"],
                      exclude=["public.schema_migrations"], lints={"unindexed_foreign_key": "error"})
    text = dump_project(project)
    assert text.splitlines()[:3] == ["name: hotel", "source: '{{ env_var(''SRC'', ''sample:hotel'') }}'",
                                     "schemas: [public, hotels]"]
    # Jinja renders on load, so compare with the rendered source.
    assert load_project(write(tmp_path, {"project.yml": text, "groups/01-a.yml": dump_group(group)})).project \
        == project.model_copy(update={"source": "sample:hotel"})


def test_json_schema_describes_the_files() -> None:
    assert {"name", "source", "schemas", "exclude", "data", "lints"} <= set(json_schema("project")["properties"])
    group = json_schema("group")
    assert group["additionalProperties"] is False
    assert {"tables", "indexes", "rls", "expect"} <= set(group["properties"])
    assert "checks" in json_schema("checks")["properties"]
