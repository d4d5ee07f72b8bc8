"""The schema round trip: introspect a source, render, apply to an empty Supabase-like target, and
compare `pg_dump --schema-only` of both. There must be no difference.

Normalization of the dumps, and why each step is safe:
- comment lines (`--`) carry pg_dump's object headers (name, type, owner), and `\\restrict` lines carry a
  random key per dump: neither is schema;
- `SET` and `set_config` lines are pg_dump's session settings, identical for both sides;
- blank lines only separate statements.
Everything else is compared line by line, in pg_dump's own order (it sorts objects by kind and name,
so the two dumps line up whatever order the objects were created in).
"""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import psycopg
import pytest

from pgconvoy import catalog, embedded, graph, samples
from pgconvoy.catalog.model import Catalog
from pgconvoy.layout import Group, Layout, single_group, two_pass_rules
from pgconvoy.render import render_schema

HOTEL = Path(samples.__file__).parent / "hotel.sql"


def dump_schema(uri: str) -> list[str]:
    out = subprocess.run(
        [str(embedded.bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "--dbname", uri],
        check=True, capture_output=True, text=True,
    ).stdout
    return normalize(out)


def normalize(dump: str) -> list[str]:
    skipped = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict", "\\unrestrict")
    return [line for line in dump.splitlines() if line.strip() and not line.startswith(skipped)]


def introspect(uri: str) -> Catalog:
    with psycopg.connect(uri) as conn:
        return catalog.introspect(conn, catalog.Options(rows="none"))


def split_layout(cat: Catalog, parts: int) -> Layout:
    """The graph order cut into `parts` consecutive groups (so some foreign keys cross groups)."""
    order = graph.build(cat).order
    rules = two_pass_rules(cat, order)
    size = -(-len(order) // parts)
    groups = []
    for number, start in enumerate(range(0, len(order), size), start=1):
        tables = order[start:start + size]
        two_pass = tuple(sorted((t, rules[t]) for t in tables if t in rules))
        groups.append(Group(number, f"part{number}", tables, two_pass))
    return Layout(tuple(groups))


def apply_files(uri: str, files: dict[str, str]) -> None:
    """Each file in its own transaction, in file-name order, as the runner does."""
    for name in sorted(files):
        with psycopg.connect(uri) as conn:
            try:
                conn.execute(files[name].encode())
            except psycopg.Error as exc:
                raise AssertionError(f"{name} failed: {exc}\n{files[name]}") from exc


def round_trip(new_db, source: str, layout_for) -> None:  # type: ignore[no-untyped-def]
    cat = introspect(source)
    files = render_schema(cat, layout_for(cat))
    target = new_db(files=["sample:supabase_stub"])
    apply_files(target, files)
    expected, actual = dump_schema(source), dump_schema(target)
    diff = list(difflib.unified_diff(expected, actual, "source", "target", lineterm="", n=2))
    assert not diff, "\n".join(diff[:200])


LAYOUTS = {
    "single": lambda cat: single_group(cat, graph.build(cat)),
    "three_groups": lambda cat: split_layout(cat, 3),
}


@pytest.mark.parametrize("fixture", ["every_object.sql", "render_edges.sql"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_fixture_round_trip(new_db, layout: str, fixture: str) -> None:  # type: ignore[no-untyped-def]
    source = new_db(files=["sample:supabase_stub", fixture])
    round_trip(new_db, source, LAYOUTS[layout])


@pytest.mark.skipif(not HOTEL.exists(), reason="the bundled sample hotel.sql is not written yet")
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_hotel_round_trip(new_db, layout: str) -> None:  # type: ignore[no-untyped-def]
    source = new_db(files=["sample:supabase_stub", "sample:hotel"])
    round_trip(new_db, source, LAYOUTS[layout])


def test_three_groups_really_split_foreign_keys(new_db) -> None:  # type: ignore[no-untyped-def]
    """The multi-group case only proves something if some foreign keys cross groups."""
    cat = introspect(new_db(files=["sample:supabase_stub", "every_object.sql"]))
    layout = split_layout(cat, 3)
    group_of = {t: g.number for g in layout.groups for t in g.tables}
    unit = graph.load_unit(cat)
    crossing = [fk for fk in cat.foreign_keys
                if unit(fk.ref_table) in group_of and group_of[unit(fk.ref_table)] != group_of[unit(fk.table)]]
    assert len(layout.groups) == 3
    assert crossing


def test_round_trip_sees_a_missing_object(new_db) -> None:  # type: ignore[no-untyped-def]
    """The comparison is not blind: leave out the triggers file and the dumps differ by those triggers."""
    source = new_db(files=["sample:supabase_stub", "every_object.sql"])
    cat = introspect(source)
    files = render_schema(cat, single_group(cat, graph.build(cat)))
    triggers = next(name for name in files if name.endswith("-post-triggers.sql"))
    del files[triggers]
    target = new_db(files=["sample:supabase_stub"])
    apply_files(target, files)
    missing = set(dump_schema(source)) - set(dump_schema(target))
    assert {line.split(" ")[2] for line in missing if line.startswith("CREATE TRIGGER")} == {
        "tenants_no_delete", "tenants_touch"
    }
