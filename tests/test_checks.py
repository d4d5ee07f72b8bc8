"""Checks against real databases: every built-in lint and data check fails where it should and
passes where the problem is fixed (tests/sql/checks_bad.sql and checks_clean.sql)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import DatabaseFactory, load_sql, query
from pgconvoy import catalog, checks, embedded, gate
from pgconvoy.checks import Check, Status
from pgconvoy.errors import ConnectionFailed, PgConvoyError
from pgconvoy.manifest import LoadedProject, load_project


def _database(pg_server: str, name: str, fixture: str) -> Iterator[str]:
    name = f"{name}_{os.getpid()}"
    uri = embedded.create_database(pg_server, name, replace=True)
    with psycopg.connect(uri) as conn:
        conn.execute(load_sql("checks_common.sql").encode())
        conn.execute(load_sql(fixture).encode())
    yield uri
    embedded.drop_database(pg_server, name)


# The lints only read the catalog, so one database of each kind serves the whole module.
@pytest.fixture(scope="module")
def bad(pg_server: str) -> Iterator[str]:
    yield from _database(pg_server, "checks_bad", "checks_bad.sql")


@pytest.fixture(scope="module")
def clean(pg_server: str) -> Iterator[str]:
    yield from _database(pg_server, "checks_clean", "checks_clean.sql")


def run(uri: str, check_list: list[Check], **kwargs: Any) -> dict[str, checks.CheckResult]:
    with psycopg.connect(uri) as conn:
        return {r.name: r for r in checks.run_checks(conn, check_list, **kwargs)}


def project(tmp: Path, lints: dict[str, str] | None = None, schemas: tuple[str, ...] = ("public",)) -> LoadedProject:
    """A project with no group: the lints of the check stage look at the whole catalog."""
    tmp.mkdir(parents=True, exist_ok=True)
    text = f"name: t\nschemas: [{', '.join(schemas)}]\n"
    if lints:
        text += "lints:\n" + "".join(f"  {k}: {v}\n" for k, v in lints.items())
    (tmp / "project.yml").write_text(text)
    (tmp / "groups").mkdir(exist_ok=True)
    (tmp / "groups" / "01-none.yml").write_text("tables: []\n")
    return load_project(tmp)


def rule_results(uri: str, loaded: LoadedProject) -> dict[str, checks.CheckResult]:
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas), rows="exact"))
    return run(uri, gate.rule_checks(loaded, cat))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> LoadedProject:
    return project(tmp_path_factory.mktemp("plain"))


# Each lint, and the tables checks_bad.sql breaks on purpose for it (one entry per finding).
EXPECTED = {
    "unindexed_foreign_key": ["public.hotels"],
    "duplicate_index": ["public.hotels"],
    "no_primary_key": ["public.audit_log"],
    "rls_enabled_no_policy": ["public.secrets"],
    "policy_exists_rls_disabled": ["public.notes"],
    "multiple_permissive_policies": ["public.hotels"],
    "auth_rls_initplan": ["public.hotels", "public.rooms", "public.rooms"],
    "rls_policy_always_true": ["public.hotels"],
    "rls_disabled_in_public": ["public.notes"],
    "security_definer_view": ["public.hotel_names"],
    "function_search_path_mutable": ["public.hotel_count()"],
    "extension_in_public": ["pg_trgm"],
}


def test_every_catalog_lint_of_the_check_stage_is_covered_here() -> None:
    from pgconvoy.rules.run import at_stage

    lints = {r.name for r in at_stage("check") if r.function is not None and r.code[2] in "45"
             and r.name not in ("required_index_missing", "rls_mismatch", "policy_missing")}
    assert lints == set(EXPECTED)


@pytest.mark.parametrize("lint", sorted(EXPECTED))
def test_lint_fails_on_the_broken_database(bad: str, plain: LoadedProject, lint: str) -> None:
    result = rule_results(bad, plain)[f"rule:{lint}"]
    assert sorted(r["object"] for r in result.rows) == EXPECTED[lint]
    assert result.failures == len(EXPECTED[lint])
    assert result.status in (Status.WARN, Status.FAIL)


@pytest.mark.parametrize("lint", sorted(EXPECTED))
def test_lint_passes_on_the_fixed_database(clean: str, plain: LoadedProject, lint: str) -> None:
    result = rule_results(clean, plain)[f"rule:{lint}"]
    assert (result.status, result.failures, result.message) == (Status.PASS, 0, "")


def test_lint_messages_name_the_objects(bad: str, plain: LoadedProject) -> None:
    results = rule_results(bad, plain)
    assert "hotels_name_a, hotels_name_b" in results["rule:duplicate_index"].message
    assert results["rule:multiple_permissive_policies"].message == (
        "public.hotels has 2 permissive policies for authenticated SELECT: 'hotels_owner_read', 'hotels_tenant_read'")


def test_lints_are_scoped_to_the_project_schemas(bad: str, tmp_path: Path) -> None:
    results = rule_results(bad, project(tmp_path, schemas=("auth",)))
    assert all(r.status == Status.PASS for r in results.values()), [r for r in results.values() if r.failures]
    # By default managed schemas such as auth are left out and public is read.
    with psycopg.connect(bad) as conn:
        assert checks.default_schemas(conn) == ["public"]


def test_lint_level_by_code_or_name_can_be_raised_or_turned_off(bad: str, tmp_path: Path) -> None:
    results = rule_results(bad, project(tmp_path, {"unindexed_foreign_key": "error", "PC403": "off"}))
    assert "rule:duplicate_index" not in results
    assert results["rule:unindexed_foreign_key"].status == Status.FAIL
    results = rule_results(bad, project(tmp_path / "2", {"PC402": "error", "no_primary_key": "off"}))
    assert results["rule:unindexed_foreign_key"].status == Status.FAIL and "rule:no_primary_key" not in results


def test_an_unknown_lints_key_fails_the_check_as_it_fails_compile(bad: str, tmp_path: Path) -> None:
    result = rule_results(bad, project(tmp_path, {"no_such_lint": "warn"}))["rule:unknown_lint"]
    assert result.status == Status.FAIL and "'no_such_lint' is no rule code or name" in result.message


def _catalog(uri: str) -> catalog.Catalog:
    with psycopg.connect(uri) as conn:
        return catalog.introspect(conn)


def test_foreign_key_checks_find_orphans_behind_not_valid_constraints(bad: str) -> None:
    # Independent count of the orphans: the rows checks_bad.sql inserted with no parent.
    assert query(bad, "select count(*) from public.bookings b where b.hotel_id is not null and "
                      "not exists (select 1 from public.hotels h where h.id = b.hotel_id)") == [(1,)]
    results = run(bad, checks.foreign_key_checks(_catalog(bad)))
    fk = results["foreign_key:public.bookings.bookings_hotel_id_fkey"]
    assert (fk.status, fk.failures, fk.table) == (Status.FAIL, 1, "public.bookings")
    assert "(hotel_id) = (99) has no row in public.hotels" in fk.message
    self_ref = results["self_reference:public.bookings.bookings_parent_id_fkey"]
    assert (self_ref.status, self_ref.failures) == (Status.FAIL, 1)
    assert "(parent_id) = (77)" in self_ref.message
    assert results["foreign_key:public.hotels.hotels_tenant_id_fkey"].status == Status.PASS


def test_foreign_key_checks_pass_with_nulls_and_composite_keys(clean: str) -> None:
    results = run(clean, checks.foreign_key_checks(_catalog(clean)))
    assert len(results) == 4
    assert {r.status for r in results.values()} == {Status.PASS}


def test_composite_foreign_key_orphan_and_match_full(new_db: DatabaseFactory) -> None:
    uri = new_db(sql="""
        create table public.p (a int, b int, primary key (a, b));
        create table public.c (id int primary key, a int, b int);
        insert into public.p values (1, 1);
        -- (1, 2) is an orphan; (1, null) is fine under MATCH SIMPLE but not under MATCH FULL.
        insert into public.c values (1, 1, 1), (2, 1, 2), (3, 1, null), (4, null, null);
        alter table public.c add constraint c_simple foreign key (a, b) references public.p not valid;
        alter table public.c add constraint c_full foreign key (a, b) references public.p match full not valid;
    """)
    results = run(uri, checks.foreign_key_checks(_catalog(uri)))
    assert results["foreign_key:public.c.c_simple"].failures == 1
    assert results["foreign_key:public.c.c_full"].failures == 2


def test_rows_check_with_tolerance(clean: str) -> None:
    results = run(clean, [
        checks.rows_check("public.hotels", 2),
        checks.rows_check("public.bookings", 4),
        checks.rows_check("public.bookings", 4, 1),
        checks.rows_check("public.bookings", 100, "2%"),
        checks.rows_check("public.missing_table", 1),
    ])
    assert results["rows:public.hotels"].status == Status.PASS
    assert results["rows:public.hotels"].message == "2 rows"
    # The same name twice: the dict keeps the last, so read the list in order instead.
    with psycopg.connect(clean) as conn:
        ordered = checks.run_checks(conn, [checks.rows_check("public.bookings", 4),
                                           checks.rows_check("public.bookings", 4, 1),
                                           checks.rows_check("public.bookings", 100, "2%")])
    assert [r.status for r in ordered] == [Status.FAIL, Status.PASS, Status.FAIL]
    assert ordered[0].message == "3 rows, expected 4"
    assert ordered[2].message == "3 rows, expected 100 ± 2"
    missing = results["rows:public.missing_table"]
    assert missing.status == Status.ERROR and "missing_table" in missing.message


def test_tolerance_forms_are_the_manifests() -> None:
    from pgconvoy import tolerance
    from pgconvoy.manifest import Rows

    assert tolerance.allowed(4333, tolerance.parse("2%")) == 86 == Rows(expected=4333, tolerance="2%").allowed()
    assert tolerance.allowed(1000, tolerance.parse(7)) == 7 == Rows(expected=1000, tolerance=7).allowed()
    for bad in ("a lot", 0.05, -1, "1e400"):
        with pytest.raises(PgConvoyError, match="tolerance"):
            checks.rows_check("public.t", 10, bad)  # type: ignore[arg-type]


def test_index_check_by_name_and_by_columns(clean: str) -> None:
    results = run(clean, [
        checks.index_check("public.hotels", index="hotels_tenant_name"),
        checks.index_check("public.hotels", columns=["tenant_id"]),
        checks.index_check("public.hotels", columns=["tenant_id", "name"]),
        checks.index_check("public.hotels", index="idx_nowhere"),
        checks.index_check("public.hotels", columns=["owner"]),
        checks.index_check("public.hotels", columns=["name", "tenant_id"]),
    ])
    statuses = {name: r.status for name, r in results.items()}
    assert statuses == {
        "index:public.hotels.hotels_tenant_name": Status.PASS,
        "index:public.hotels.(tenant_id)": Status.PASS,
        "index:public.hotels.(tenant_id, name)": Status.PASS,
        "index:public.hotels.idx_nowhere": Status.FAIL,
        "index:public.hotels.(owner)": Status.FAIL,
        "index:public.hotels.(name, tenant_id)": Status.FAIL,
    }
    assert results["index:public.hotels.idx_nowhere"].message == "1 failing row: no index idx_nowhere on public.hotels"


def test_rls_check(clean: str, bad: str) -> None:
    wanted = [checks.rls_check("public.hotels", policies=["hotels_read", "hotels_insert"]),
              checks.rls_check("public.notes", policies=["notes_read"])]
    assert {r.status for r in run(clean, wanted).values()} == {Status.PASS}
    broken = run(bad, [checks.rls_check("public.hotels", policies=["hotels_read"]),
                       checks.rls_check("public.notes", policies=["notes_read"]),
                       checks.rls_check("public.gone")])
    assert broken["rls:public.hotels"].message == "1 failing row: policy hotels_read is missing on public.hotels"
    assert broken["rls:public.notes"].message == "1 failing row: row level security is disabled on public.notes"
    assert broken["rls:public.gone"].message == "1 failing row: table public.gone does not exist"


def test_thresholds_decide_the_status(bad: str) -> None:
    three = "select * from (values (1), (2), (3)) v(x)"
    results = run(bad, [
        Check("custom:default", "custom", sql=three),
        Check("custom:warn_only", "custom", severity="warn", sql=three),
        Check("custom:error_over_ten", "custom", sql=three, warn_if=">0", error_if=">10"),
        Check("custom:error_at_three", "custom", sql=three, warn_if=">0", error_if=">=3"),
        Check("custom:never", "custom", sql=three, warn_if="<0", error_if="=0"),
    ])
    assert {n: (r.status, r.failures) for n, r in results.items()} == {
        "custom:default": (Status.FAIL, 3),
        "custom:warn_only": (Status.WARN, 3),
        "custom:error_over_ten": (Status.WARN, 3),
        "custom:error_at_three": (Status.FAIL, 3),
        "custom:never": (Status.PASS, 3),
    }


def test_invalid_threshold_is_refused() -> None:
    for text in ("0", "> ten", ">=-1", "~1"):
        with pytest.raises(PgConvoyError, match="invalid threshold"):
            checks.parse_threshold(text)


def test_failure_count_covers_more_rows_than_the_sample(bad: str) -> None:
    result = run(bad, [Check("custom:many", "custom", sql="select g as n from generate_series(1, 250) g")])
    many = result["custom:many"]
    assert many.failures == 250 and len(many.rows) == checks.engine.SAMPLE_ROWS
    assert many.message.endswith("(and 245 more)")


def test_a_broken_check_is_an_error_and_the_next_one_still_runs(bad: str) -> None:
    results = run(bad, [
        Check("custom:typo", "custom", sql="selec 1"),
        Check("custom:writes", "custom", sql="insert into public.tenants values (5, 'x') returning id",
              plain_search_path=True),
        Check("custom:fine", "custom", sql="select 1 where false"),
    ])
    assert results["custom:typo"].status == Status.ERROR and "syntax error" in results["custom:typo"].message
    # Checks run read-only: the insert is refused, not committed.
    assert results["custom:writes"].status == Status.ERROR
    assert query(bad, "select count(*) from public.tenants where id = 5") == [(0,)]
    assert results["custom:fine"].status == Status.PASS


def test_function_checks_and_disabled_checks(bad: str) -> None:
    results = run(bad, [
        Check("custom:fn", "custom", function=lambda conn: checks.Outcome(2, "two bad things")),
        Check("custom:off", "custom", sql="select 1", enabled=False),
    ])
    assert (results["custom:fn"].status, results["custom:fn"].message) == (Status.FAIL, "two bad things")
    assert results["custom:off"].status == Status.SKIP
    with pytest.raises(ValueError, match="exactly one"):
        Check("custom:neither", "custom")


def test_select_by_glob_kind_and_tag(tmp_path: Path) -> None:
    all_checks = [*gate.rule_checks(project(tmp_path), catalog.Catalog(180000, "t", (), ())),
                  checks.rows_check("public.hotels", 1), Check("custom:x", "custom", sql="select 1", tags=("nightly",))]
    names = lambda sel: [c.name for c in checks.select_checks(all_checks, sel)]  # noqa: E731
    assert names(["rows"]) == ["rows:public.hotels"]
    assert names(["rule:*permissive*"]) == ["rule:multiple_permissive_policies"]
    assert names(["tag:PC504"]) == ["rule:multiple_permissive_policies"]
    assert names(["tag:nightly", "public.hotels"]) == ["rows:public.hotels", "custom:x"]
    assert len(names(None)) == len(all_checks)


def test_a_lost_connection_stops_the_run(bad: str) -> None:
    def kill_myself(conn: psycopg.Connection[Any]) -> checks.Outcome:
        conn.execute("select pg_terminate_backend(pg_backend_pid())")
        return checks.Outcome(0)

    with psycopg.connect(bad) as conn, pytest.raises(ConnectionFailed) as err:
        checks.run_checks(conn, [Check("custom:kill", "custom", function=kill_myself)], schemas=["public"])
    assert err.value.exit_code == 2


def test_custom_checks_from_a_directory(bad: str, tmp_path: Path) -> None:
    (tmp_path / "orphan_bookings.sql").write_text(
        "-- severity: warn\n-- tags: nightly, billing\n"
        "select id from bookings where hotel_id not in (select id from hotels);\n")
    (tmp_path / "many_hotels.sql").write_text('-- error_if: ">10"\n-- warn_if: ">1"\nselect id from hotels\n')
    (tmp_path / "percent.sql").write_text("select name from tenants where name like 'ac%'\n")
    (tmp_path / "notes.txt").write_text("not a check")
    loaded = checks.load_custom_checks(tmp_path)
    assert [c.name for c in loaded] == ["custom:many_hotels", "custom:orphan_bookings", "custom:percent"]
    assert loaded[1].tags == ("custom", "nightly", "billing")
    results = run(bad, loaded)
    assert (results["custom:orphan_bookings"].status, results["custom:orphan_bookings"].failures) == (Status.WARN, 1)
    assert (results["custom:many_hotels"].status, results["custom:many_hotels"].failures) == (Status.WARN, 2)
    assert (results["custom:percent"].status, results["custom:percent"].failures) == (Status.FAIL, 1)
    assert checks.load_custom_checks(tmp_path / "absent") == []


def test_custom_check_header_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_text("-- severity: fatal\nselect 1\n")
    with pytest.raises(PgConvoyError, match=r"bad\.sql: severity must be warn or error"):
        checks.load_custom_checks(tmp_path)
    (tmp_path / "bad.sql").write_text('-- error_if: "lots"\nselect 1\n')
    with pytest.raises(PgConvoyError, match=r"bad\.sql: invalid threshold"):
        checks.load_custom_checks(tmp_path)
    (tmp_path / "bad.sql").write_text("-- severity: warn\n")
    with pytest.raises(PgConvoyError, match="no query"):
        checks.load_custom_checks(tmp_path)
