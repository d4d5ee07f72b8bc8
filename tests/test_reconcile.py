"""Reconciliation rules against real databases: each rule fires on its problem, and is quiet once it is fixed."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import psycopg
import pytest
import yaml

from conftest import DatabaseFactory, query, repository_project, run_sql
from pgconvoy import catalog
from pgconvoy.catalog.model import Name
from pgconvoy.manifest import load_project
from pgconvoy.reconcile import Finding, Result, reconcile
from pgconvoy.rules.security import per_row_calls

REPO = Path(__file__).parent.parent
PROJECTS = Path(__file__).parent / "projects"
_dirs = itertools.count()

# Tables of reconcile_base.sql in an order that loads: tenants, hotels, units.
GOOD = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels\n  - units\n"}


def check(uri: str, root: Path, groups: dict[str, str], project: str = "name: t\nschemas: [public]\n",
          **options: bool) -> Result:
    """Write a project into a fresh directory under `root`, then reconcile it with the database at `uri`."""
    path = root / f"p{next(_dirs)}"
    for name, text in {"project.yml": project, **groups}.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    loaded = load_project(path)
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas)))
    return reconcile(cat, loaded, **options)


def found(result: Result, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def one(result: Result, code: str) -> Finding:
    matches = found(result, code)
    assert len(matches) == 1, result.findings
    return matches[0]


@pytest.fixture
def base(new_db: DatabaseFactory) -> str:
    return new_db(files=["reconcile_base.sql"])


def test_good_project_has_no_findings_and_a_layout(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-roots.yml": "description: roots\ntables: [tenants]\n",
              "groups/02-rest.yml": "tables:\n  - hotels: {rows: 3}\n  - units: {rows: {expected: 4}}\n"}
    result = check(base, tmp_path, groups)
    assert result.findings == ()
    assert result.layout is not None
    assert [(g.number, g.name, g.tables) for g in result.layout.groups] == [
        (1, "roots", (Name("public", "tenants"),)),
        (2, "rest", (Name("public", "hotels"), Name("public", "units")))]
    assert result.layout.groups[0].schema_file == "01-schema-roots.sql"


# --- coverage -------------------------------------------------------------------------------------


def test_pc101_table_in_no_group(base: str, tmp_path: Path) -> None:
    result = check(base, tmp_path, {"groups/01-a.yml": "tables: [tenants, hotels]\n"})
    finding = one(result, "PC101")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("error", "project.yml", 2, "public.units")
    assert result.layout is None
    excluded = check(base, tmp_path, {"groups/01-a.yml": "tables: [tenants, hotels]\n"},
                     project="name: t\nschemas: [public]\nexclude: [unit*]\n")
    assert found(excluded, "PC101") == [] and excluded.layout is not None


def test_pc102_unknown_table(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels\n  - units\n  - public.nope\n"}
    finding = one(check(base, tmp_path, groups), "PC102")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 5)
    assert "public.nope" in finding.message
    assert found(check(base, tmp_path, GOOD), "PC102") == []


def test_pc103_unknown_two_pass_column(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels\n  - units: {two_pass: [hotel]}\n"}
    finding = one(check(base, tmp_path, groups), "PC103")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("error", "groups/01-a.yml", 4,
                                                                             "public.units")
    assert found(check(base, tmp_path, GOOD), "PC103") == []


def test_pc104_table_in_two_groups(base: str, tmp_path: Path) -> None:
    groups = {**GOOD, "groups/02-b.yml": "description: again\ntables: [hotels]\n"}
    finding = one(check(base, tmp_path, groups), "PC104")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/02-b.yml", 2)
    assert "groups/01-a.yml:3" in finding.message
    assert found(check(base, tmp_path, GOOD), "PC104") == []


def test_pc105_ambiguous_name(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(files=["reconcile_base.sql"], sql="create schema other; create table other.units (id int);")
    project = "name: t\nschemas: [public, other]\n"
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels\n  - units\n  - other.units\n"}
    finding = one(check(uri, tmp_path, groups, project), "PC105")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 4)
    assert "public.units, other.units" in finding.message
    fixed = {"groups/01-a.yml": groups["groups/01-a.yml"].replace("  - units\n", "  - public.units\n")}
    assert check(uri, tmp_path, fixed, project).findings == ()


def test_pc106_excluded_and_listed(base: str, tmp_path: Path) -> None:
    project = "name: t\nschemas: [public]\nexclude: [public.units]\n"
    finding = one(check(base, tmp_path, GOOD, project), "PC106")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 4)
    assert found(check(base, tmp_path, {"groups/01-a.yml": "tables: [tenants, hotels]\n"}, project), "PC106") == []


def test_pc107_partition_listed(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.ev (id int, at date) partition by range (at);"
                     "create table public.ev_2025 partition of public.ev for values from ('2025-01-01') to "
                     "('2026-01-01');")
    finding = one(check(uri, tmp_path, {"groups/01-a.yml": "tables: [ev, ev_2025]\n"}), "PC107")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 1)
    assert "list public.ev instead" in (finding.hint or "")
    assert check(uri, tmp_path, {"groups/01-a.yml": "tables: [ev]\n"}).findings == ()


def test_pc108_references_excluded_table(base: str, tmp_path: Path) -> None:
    project = "name: t\nschemas: [public]\nexclude: [tenants]\n"
    finding = one(check(base, tmp_path, {"groups/01-a.yml": "tables: [hotels, units]\n"}, project), "PC108")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("warn", "groups/01-a.yml", 1,
                                                                             "public.hotels")
    assert check(base, tmp_path, GOOD).findings == ()


# --- order ----------------------------------------------------------------------------------------


def test_pc201_loads_before_reference_across_groups(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - units\n", "groups/02-b.yml": "tables: [hotels]\n"}
    result = check(base, tmp_path, groups)
    finding = one(result, "PC201")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 3)
    assert finding.message == ("public.units (01-a) references public.hotels (02-b) via units_hotel_id_fkey "
                               "(hotel_id), which loads later")
    assert result.layout is None
    assert check(base, tmp_path, GOOD).findings == ()


def test_pc201_inside_one_group_and_its_fixes(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - units\n  - hotels\n"}
    finding = one(check(base, tmp_path, groups), "PC201")
    assert (finding.file, finding.line) == ("groups/01-a.yml", 3)
    assert finding.message.endswith("which loads later in the same group")
    two_pass = {"groups/01-a.yml": "tables:\n  - tenants\n  - units: {two_pass: [hotel_id]}\n  - hotels\n"}
    during = "name: t\nschemas: [public]\ndata: {foreign_keys: during}\n"
    result = check(base, tmp_path, two_pass, during)
    assert result.findings == ()
    assert result.layout is not None
    assert result.layout.groups[0].two_pass == ((Name("public", "units"), ("hotel_id",)),)
    # with the keys added after the data (the default), the rows load whole: the rule stands, no second pass
    after = check(base, tmp_path, two_pass)
    assert after.findings == () and after.layout is not None and after.layout.groups[0].two_pass == ()
    deferred = {"groups/01-a.yml": "tables:\n  - tenants\n  - units: {deferred: true}\n  - hotels\n"}
    assert check(base, tmp_path, deferred).findings == ()
    run_sql(base, "alter table public.units drop constraint units_hotel_id_fkey;"
                  "alter table public.units add foreign key (hotel_id) references public.hotels deferrable;")
    assert check(base, tmp_path, groups).findings == ()


def test_pc202_self_reference(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.staff (id int primary key, created_by int references public.staff);"
                     "create index on public.staff (created_by);")
    finding = one(check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - staff\n"}), "PC202")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("error", "groups/01-a.yml", 2,
                                                                             "public.staff")
    assert "two_pass: [created_by]" in (finding.hint or "")
    assert check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - staff: {two_pass: [created_by]}\n"}).findings == ()


def test_pc203_cycle(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.a (id int primary key, b_id int);"
                     "create table public.b (id int primary key, a_id int references public.a);"
                     "alter table public.a add foreign key (b_id) references public.b;"
                     "create index on public.a (b_id); create index on public.b (a_id);")
    finding = one(check(uri, tmp_path, {"groups/01-a.yml": "tables: [a, b]\n"}), "PC203")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("error", "groups/01-a.yml", 1,
                                                                             "public.a")
    assert "cycle: public.a -> public.b" in finding.message
    assert check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - a: {two_pass: [b_id]}\n  - b\n"}).findings == ()


def test_pc204_two_pass_not_needed(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels: {two_pass: [tenant_id]}\n"
                                 "  - units: {two_pass: [code]}\n"}
    result = check(base, tmp_path, groups)
    findings = found(result, "PC204")
    assert [(f.severity, f.file, f.line) for f in findings] == [("warn", "groups/01-a.yml", 3),
                                                               ("warn", "groups/01-a.yml", 4)]
    assert "references public.tenants, which loads earlier" in findings[0].message
    assert "part of no foreign key" in findings[1].message
    assert check(base, tmp_path, GOOD).findings == ()


def test_pc205_two_pass_not_null(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.node (id int primary key, parent int not null references public.node);"
                     "create index on public.node (parent);")
    finding = one(check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - node: {two_pass: [parent]}\n"}), "PC205")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 2)
    assert finding.hint == ("mark the table deferred: true (its keys are added after the data), "
                            "or make the constraint DEFERRABLE")
    assert check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - node: {deferred: true}\n"}).findings == ()
    # Both: the table loads in one pass, keys after the data; two_pass is named as not needed, not exported.
    both = check(uri, tmp_path, {"groups/01-a.yml": "tables:\n  - node: {deferred: true, two_pass: [parent]}\n"})
    assert [f.code for f in both.findings] == ["PC204"] and "is deferred" in both.findings[0].message
    assert both.layout is not None and both.layout.groups[0].two_pass == ()


# --- counts ---------------------------------------------------------------------------------------


def test_pc301_rows_outside_tolerance(base: str, tmp_path: Path) -> None:
    groups = {"groups/01-a.yml": "tables:\n  - tenants\n  - hotels\n  - units: {rows: 5}\n"}
    finding = one(check(base, tmp_path, groups), "PC301")  # units holds 4 rows
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 4)
    assert finding.message == "public.units has 4 rows in the source, expected 5"
    for rows in ("4", "{expected: 5, tolerance: 1}", "{expected: 5, tolerance: 20%}"):
        text = f"tables:\n  - tenants\n  - hotels\n  - units: {{rows: {rows}}}\n"
        assert check(base, tmp_path, {"groups/01-a.yml": text}).findings == ()
    text = "tables:\n  - tenants\n  - hotels\n  - units: {rows: {expected: 5, tolerance: 19%}}\n"
    assert found(check(base, tmp_path, {"groups/01-a.yml": text}), "PC301")  # 19% of 5 is 0 rows


def test_pc302_pc303_expect_totals(base: str, tmp_path: Path) -> None:
    text = "tables:\n  - tenants: {rows: 2}\n  - hotels\n  - units\nexpect:\n  tables: 2\n  rows: 8\n"
    result = check(base, tmp_path, {"groups/01-a.yml": text})
    tables, rows = one(result, "PC302"), one(result, "PC303")
    assert (tables.severity, tables.file, tables.line) == ("error", "groups/01-a.yml", 6)
    assert (rows.severity, rows.file, rows.line) == ("error", "groups/01-a.yml", 7)
    assert rows.message == "expect.rows is 8 but the tables of 01-a add up to 9"  # 2 + 3 + 4
    fixed = text.replace("tables: 2", "tables: 3").replace("rows: 8", "rows: 9")
    assert check(base, tmp_path, {"groups/01-a.yml": fixed}).findings == ()


# --- indexes --------------------------------------------------------------------------------------


def test_pc401_required_index(base: str, tmp_path: Path) -> None:
    text = GOOD["groups/01-a.yml"] + "indexes:\n  - units_code_idx\n  - {table: units, columns: [code, hotel_id]}\n"
    result = check(base, tmp_path, {"groups/01-a.yml": text})
    assert [(f.severity, f.file, f.line) for f in found(result, "PC401")] == [("error", "groups/01-a.yml", 6),
                                                                             ("error", "groups/01-a.yml", 7)]
    run_sql(base, "create index units_code_idx on public.units (hotel_id, code)")  # wrong column order
    assert [f.line for f in found(check(base, tmp_path, {"groups/01-a.yml": text}), "PC401")] == [7]
    run_sql(base, "create index on public.units (code, hotel_id, id)")
    assert check(base, tmp_path, {"groups/01-a.yml": text}).findings == ()


def test_pc402_unindexed_foreign_key(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(sql="create table public.p (a int, b int, primary key (a, b));"
                     "create table public.c (id int primary key, a int, b int, foreign key (a, b) references public.p);"
                     "create index c_b_a on public.c (b) where b > 0;")  # partial: not every lookup
    groups = {"groups/01-a.yml": "tables:\n  - p\n  - c\n"}
    finding = one(check(uri, tmp_path, groups), "PC402")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("warn", "groups/01-a.yml", 3,
                                                                             "public.c")
    strict = check(uri, tmp_path, groups, project="name: t\nlints: {unindexed_foreign_key: error}\n")
    assert one(strict, "PC402").severity == "error" and strict.layout is None
    assert check(uri, tmp_path, groups, project="name: t\nlints: {PC402: off}\n").findings == ()
    assert one(check(uri, tmp_path, groups, warn_error=True), "PC402").severity == "error"
    run_sql(uri, "create index on public.c (b, a, id)")  # the key's columns lead it, in another order
    assert check(uri, tmp_path, groups).findings == ()


def test_pc403_duplicate_index(base: str, tmp_path: Path) -> None:
    run_sql(base, "create index units_hotel_again on public.units (hotel_id)")
    finding = one(check(base, tmp_path, GOOD), "PC403")
    assert (finding.severity, finding.file, finding.line) == ("warn", "groups/01-a.yml", 4)
    assert "units_hotel_again, units_hotel_idx" in finding.message
    run_sql(base, "drop index public.units_hotel_again; create index units_hotel_partial on public.units (hotel_id) "
                  "where code is not null")
    assert check(base, tmp_path, GOOD).findings == ()


def test_pc001_unknown_lint(base: str, tmp_path: Path) -> None:
    finding = one(check(base, tmp_path, GOOD, project="name: t\nlints:\n  unindexed_fk: error\n"), "PC001")
    assert (finding.severity, finding.file, finding.line) == ("error", "project.yml", 3)
    assert check(base, tmp_path, GOOD, project="name: t\nlints:\n  PC402: error\n").findings == ()


# --- row-level security ---------------------------------------------------------------------------


@pytest.fixture
def rls(new_db: DatabaseFactory) -> str:
    return new_db(files=["sample:supabase_platform", "reconcile_rls.sql"])


RLS_TABLES = "tables: [notes, drafts]\n"


def test_pc501_rls_disabled(rls: str, tmp_path: Path) -> None:
    run_sql(rls, "alter table public.notes disable row level security")
    text = RLS_TABLES + "rls:\n  notes: {enabled: true}\n  drafts: {forced: true}\n"
    result = check(rls, tmp_path, {"groups/01-a.yml": text}, project="name: t\nlints: {PC503: off}\n")
    assert [(f.severity, f.file, f.line, f.table) for f in found(result, "PC501")] == [
        ("error", "groups/01-a.yml", 3, "public.notes"), ("error", "groups/01-a.yml", 4, "public.drafts")]
    run_sql(rls, "alter table public.notes enable row level security;"
                 "alter table public.drafts force row level security")
    assert check(rls, tmp_path, {"groups/01-a.yml": text}, project="name: t\nlints: {PC503: off}\n").findings == ()


def test_pc502_policy_missing(rls: str, tmp_path: Path) -> None:
    text = RLS_TABLES + "rls:\n  notes:\n    policies:\n      - notes_owner_read\n      - notes_owner_write\n"
    finding = one(check(rls, tmp_path, {"groups/01-a.yml": text}), "PC502")
    assert (finding.severity, finding.file, finding.line) == ("error", "groups/01-a.yml", 6)
    run_sql(rls, "create policy notes_owner_write on public.notes for insert to authenticated "
                 "with check (owner = (select auth.uid()))")
    assert found(check(rls, tmp_path, {"groups/01-a.yml": text}), "PC502") == []


def test_pc503_rls_enabled_no_policy(rls: str, tmp_path: Path) -> None:
    finding = one(check(rls, tmp_path, {"groups/01-a.yml": RLS_TABLES}), "PC503")
    assert (finding.severity, finding.file, finding.line, finding.table) == ("warn", "groups/01-a.yml", 1,
                                                                             "public.drafts")
    text = RLS_TABLES + "rls:\n  drafts: {enabled: true}\n"
    assert one(check(rls, tmp_path, {"groups/01-a.yml": text}), "PC503").line == 3  # the rls entry
    run_sql(rls, "create policy drafts_read on public.drafts for select to authenticated using (true)")
    assert check(rls, tmp_path, {"groups/01-a.yml": RLS_TABLES}).findings == ()


def test_pc504_multiple_permissive_policies(rls: str, tmp_path: Path) -> None:
    run_sql(rls, "create policy notes_admin on public.notes for all to authenticated using (true)")
    finding = one(check(rls, tmp_path, {"groups/01-a.yml": RLS_TABLES}, project="name: t\nlints: {PC503: off}\n"),
                  "PC504")
    assert (finding.severity, finding.file, finding.line) == ("warn", "groups/01-a.yml", 1)
    # ALL overlaps only with SELECT here: one finding naming that role and action.
    assert finding.message == ("public.notes has 2 permissive policies for authenticated SELECT: "
                               "'notes_admin', 'notes_owner_read'")
    run_sql(rls, "drop policy notes_admin on public.notes;"
                 "create policy notes_admin on public.notes as restrictive for all to authenticated using (true)")
    assert found(check(rls, tmp_path, {"groups/01-a.yml": RLS_TABLES}), "PC504") == []


def test_pc505_auth_call_per_row(rls: str, tmp_path: Path) -> None:
    run_sql(rls, "create policy notes_write on public.notes for update to authenticated "
                 "using (owner = auth.uid()) with check (current_setting('app.tenant') = 'x')")
    text = RLS_TABLES + "rls:\n  notes:\n    policies: [notes_owner_read, notes_write]\n"
    finding = one(check(rls, tmp_path, {"groups/01-a.yml": text}, project="name: t\nlints: {PC503: off}\n"),
                  "PC505")
    assert (finding.severity, finding.file, finding.line) == ("warn", "groups/01-a.yml", 4)
    assert finding.message == ("policy 'notes_write' on public.notes calls auth.uid(), current_setting(...) "
                               "for every row")
    run_sql(rls, "alter policy notes_write on public.notes using (owner = (select auth.uid())) "
                 "with check ((select current_setting('app.tenant')) = 'x')")
    assert found(check(rls, tmp_path, {"groups/01-a.yml": text}), "PC505") == []


def test_per_row_calls_reads_pg_get_expr_text(rls: str) -> None:
    run_sql(rls, "create policy p1 on public.drafts for select using ("
                 "owner in (select d.owner from public.drafts d where d.owner = auth.uid())"
                 " or ((select auth.jwt()) ->> 'email') = 'x' or (select auth.jwt() ->> 'role') = 'y')")
    (expr,) = query(rls, "select pg_get_expr(polqual, polrelid) from pg_policy where polname = 'p1'")[0]
    assert isinstance(expr, str) and "( SELECT auth.jwt() AS jwt)" in expr
    # Only the call inside the subquery with a FROM runs per row.
    assert per_row_calls(expr) == ["auth.uid()"]


# --- the seed report and the demo project ---------------------------------------------------------


def _groups(root: Path) -> dict[str, tuple[int, int]]:
    """Table -> (group number, entry index), read with plain YAML, apart from the code under test."""
    placed = {}
    for file in sorted((root / "groups").glob("*.yml")):
        for i, item in enumerate(yaml.safe_load(file.read_text())["tables"]):
            name = item if isinstance(item, str) else next(iter(item))
            placed[name if "." in name else f"public.{name}"] = (int(file.name[:2]), i)
    return placed


def _forward_references(uri: str, placed: dict[str, tuple[int, int]]) -> set[tuple[str, str]]:
    fks = query(uri, "select conrelid::regclass::text, confrelid::regclass::text, condeferrable "
                     "from pg_constraint where contype = 'f' and conrelid <> confrelid")
    found = set()
    # regclass prints public tables unqualified (public is on the default search_path).
    for child, parent, deferrable in fks:
        child, parent = (n if "." in str(n) else f"public.{n}" for n in (child, parent))
        if child in placed and parent in placed and placed[parent] > placed[child] and not deferrable:
            found.add((child, parent))
    return found


def _has_sample() -> bool:
    return (REPO / "src/pgconvoy/samples/hotel.sql").is_file()


@pytest.mark.skipif(not _has_sample(), reason="the sample database src/pgconvoy/samples/hotel.sql is not there yet")
def test_seed_report_grouping_reports_its_order_errors(new_db: DatabaseFactory) -> None:
    uri = new_db(files=["sample:supabase_platform", "sample:hotel"])
    root = PROJECTS / "seed"
    result = _check_project(uri, root)
    order = {(f.table, re.sub(r" .*", "", f.message.split(" references ")[1])) for f in found(result, "PC201")}
    assert ("public.accommodation_units", "public.hotels") in order
    assert ("public.sire_export_logs", "public.staff_users") in order
    assert order == _forward_references(uri, _groups(root))
    accommodation = next(f for f in found(result, "PC201") if f.table == "public.accommodation_units")
    assert accommodation.message.startswith(
        "public.accommodation_units (02-catalog) references public.hotels (03-operations)")
    assert (accommodation.file, accommodation.line) == ("groups/02-catalog.yml", 4)

    # expect.rows against the sum of the report's per-table counts (tables it gives no count count as they are).
    wrong_totals = {}
    for file in sorted((root / "groups").glob("*.yml")):
        data = yaml.safe_load(file.read_text())
        total = 0
        for item in data["tables"]:
            name, spec = (item, {}) if isinstance(item, str) else next(iter(item.items()))
            total += spec["rows"] if "rows" in spec else query(uri, f"select count(*) from public.{name}")[0][0]
        if total != data["expect"]["rows"]:
            wrong_totals[f"groups/{file.name}"] = total
    assert wrong_totals == {"groups/02-catalog.yml": 151 + 2 + 8 + 219, "groups/04-reservations.yml": 1171}
    assert {f.file: f.message.split()[-1] for f in found(result, "PC303")} == {
        k: str(v) for k, v in wrong_totals.items()}

    # Nothing else at error: no unknown table, no miscount, no missing index, self-references covered.
    assert {f.code for f in result.errors} == {"PC201", "PC303"}
    assert {f.table for f in found(result, "PC402")} == _unindexed_fks(uri)
    # The sample's own RLS shortcuts (its comments name them), and nothing else at warning.
    assert {(f.code, f.table) for f in result.warnings if f.code != "PC402"} == {
        ("PC503", "public.job_logs"),  # RLS on, no policy: only service_role reads it
        ("PC504", "public.guest_reservations"),  # staff and guests each have a SELECT policy
        ("PC505", "public.staff_conversations"),  # auth.uid() inside a subquery with FROM
        ("PC505", "public.user_tenant_permissions"),  # user_id = auth.uid()
    }


def _unindexed_fks(uri: str) -> set[str]:
    rows = query(uri, """
        select c.conrelid::regclass::text from pg_constraint c
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
          and not exists (select 1 from pg_index i where i.indrelid = c.conrelid
                          and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)""")
    return {n if "." in str(n) else f"public.{n}" for (n,) in rows}


def _check_project(uri: str, root: Path) -> Result:
    loaded = load_project(root)
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=tuple(loaded.project.schemas)))
    return reconcile(cat, loaded)


@pytest.mark.skipif(not _has_sample(), reason="the sample database src/pgconvoy/samples/hotel.sql is not there yet")
def test_demo_project_reconciles_without_errors(new_db: DatabaseFactory, tmp_path: Path) -> None:
    uri = new_db(files=["sample:supabase_platform", "sample:hotel"])
    assert _check_project(uri, REPO).errors == ()
    project = repository_project(tmp_path / "during")  # the two-pass rules apply with keys in place
    (project / "project.yml").write_text((project / "project.yml").read_text().replace(
        "data: {format: copy}", "data: {format: copy, foreign_keys: during}"))
    result = _check_project(uri, project)
    assert result.errors == ()
    assert result.layout is not None
    assert _forward_references(uri, _groups(REPO)) == set()
    tables = set(result.layout.tables)
    assert len(tables) == 42 and Name("hotels", "policies") in tables
    assert {g.number: g.name for g in result.layout.groups} == {
        1: "foundation", 2: "catalog", 3: "operations", 4: "reservations", 5: "hotels", 6: "integrations"}
    rules = {t: cols for g in result.layout.groups for t, cols in g.two_pass}
    assert rules == {Name("public", "staff_users"): ("created_by",),
                     Name("public", "calendar_events"): ("parent_event_id", "merged_into_id")}
