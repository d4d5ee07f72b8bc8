"""The schema side with layouts users write: one group, or the load order cut into three groups (so
foreign keys, views and inheritance cross groups), in both `foreign_keys` modes. pg_dump's archive is
placed into files, applied by the runner with the rows, and judged against pg_dump | pg_restore.

Also: every placed entry comes after the entries it depends on (the rule that makes each file valid
on its own), checked on the archive itself.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from fidelity import (
    NOT_MIGRATED,
    assert_same_lines,
    data_lines,
    prepared_target,
    restored_copy,
    schema_lines,
    schema_side,
)
from targets import write_manifest

from conftest import DatabaseFactory
from pgconvoy import catalog, compiler, data, graph, placement, runner
from pgconvoy.catalog.model import Catalog
from pgconvoy.layout import ForeignKeys, Group, Layout, load_rules, single_group

FIXTURES = {
    "every_kind": ["sample:supabase_platform", "every_kind.sql", "every_kind_pg18.sql"],
    "every_object": ["sample:supabase_platform", "every_object.sql"],
    "render_edges": ["sample:supabase_platform", "render_edges.sql"],
    "hotel": ["sample:supabase_platform", "sample:hotel"],
}


def introspect(uri: str) -> Catalog:
    with psycopg.connect(uri) as conn:
        return catalog.introspect(conn, catalog.Options(rows="none"))


def split_layout(cat: Catalog, parts: int, foreign_keys: ForeignKeys = "during") -> Layout:
    """The graph order cut into `parts` consecutive groups (so some foreign keys cross groups)."""
    order = graph.build(cat).order
    size = -(-len(order) // parts)
    parts_ = [order[start:start + size] for start in range(0, len(order), size)]
    rules = load_rules(cat, parts_)
    groups = []
    for number, tables in enumerate(parts_, start=1):
        two_pass = tuple(sorted((t, rules.two_pass[t]) for t in tables if t in rules.two_pass))
        groups.append(Group(number, f"part{number}", tables, two_pass, tuple(t for t in tables if t in rules.deferred)))
    return Layout(tuple(groups), foreign_keys=foreign_keys)


LAYOUTS = {
    "single": lambda cat: single_group(cat, graph.build(cat)),
    "three_groups": lambda cat: split_layout(cat, 3),
    "three_groups_fk_after": lambda cat: split_layout(cat, 3, "after"),
}


def render(source: str, layout: Layout, target_dir: Path) -> compiler.SchemaSide:
    """target/ for `layout`: the schema side and the rows, as compile writes them."""
    with psycopg.connect(source) as conn:
        cat = catalog.introspect(conn, catalog.Options(rows="none"))
        side = schema_side(conn, source, cat, layout, catalog.Options(rows="none"))
        target_dir.mkdir()
        for name, text in side.files.items():
            (target_dir / name).write_text(text)
        files = data.write_data(conn, cat, layout, target_dir, large_objects=side.large_objects)
    write_manifest(target_dir, data_files=files)
    return side


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_round_trip(new_db: DatabaseFactory, tmp_path: Path, layout: str, fixture: str) -> None:
    source = new_db(files=FIXTURES[fixture])
    side = render(source, LAYOUTS[layout](introspect(source)), tmp_path / "target")
    assert not side.findings, side.findings
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    runner.run(target, tmp_path / "target")
    restored_copy(source, copy, NOT_MIGRATED)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    assert_same_lines(data_lines(source, NOT_MIGRATED), data_lines(target, NOT_MIGRATED), "the data")


def test_three_groups_really_split_foreign_keys(new_db: DatabaseFactory) -> None:
    """The multi-group case only proves something if some foreign keys cross groups."""
    cat = introspect(new_db(files=FIXTURES["every_kind"]))
    layout = split_layout(cat, 3)
    group_of = {t: g.number for g in layout.groups for t in g.tables}
    unit = graph.load_unit(cat)
    crossing = [fk for fk in cat.foreign_keys
                if unit(fk.ref_table) in group_of and group_of[unit(fk.ref_table)] != group_of[unit(fk.table)]]
    assert len(layout.groups) == 3
    assert crossing


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_every_entry_comes_after_what_it_depends_on(new_db: DatabaseFactory, tmp_path: Path, fixture: str) -> None:
    source = new_db(files=FIXTURES[fixture])
    side = render(source, split_layout(introspect(source), 3), tmp_path / "target")
    order = {name: i for i, name in enumerate(sorted(side.placement.files, key=_number))}
    position = {p.entry.dump_id: (order[file], i) for file, placed in side.placement.files.items()
                for i, p in enumerate(placed)}
    late = [(p.entry.label, dep) for p in side.placement.placed() for dep in p.entry.dependencies
            if dep in position and position[dep] > position[p.entry.dump_id]]
    assert not late
    assert len(position) > 30


def test_triggers_rules_and_policies_wait_for_the_data(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """Nothing that fires, rewrites or filters rows exists while they load."""
    source = new_db(files=FIXTURES["every_kind"])
    layout = split_layout(introspect(source), 3)
    side = render(source, layout, tmp_path / "target")
    first_post = placement.post_data_file(layout, "large-objects")
    for placed in side.placement.placed():
        if placed.entry.desc in ("TRIGGER", "RULE", "POLICY", "ROW SECURITY", "EVENT TRIGGER"):
            assert _number(side.placement.file_of[placed.entry.dump_id]) > _number(first_post), placed.entry.label


def _number(name: str) -> int:
    return int(name.split("-", 1)[0])


def test_an_inherits_parent_in_a_later_group_is_created_first(new_db: DatabaseFactory, tmp_path: Path) -> None:
    """The child's group loads first; its CREATE TABLE ... INHERITS needs the parent, so the child's entry
    moves to the parent's file: every schema file runs before every data file, so each table's rows
    still load with its own group."""
    source = new_db(sql="""
        create table base_events (id int not null, at timestamptz default now(), note text);
        create table child_events (extra text) inherits (base_events);
        insert into base_events (id, note) values (1, 'base');
        insert into child_events (id, note, extra) values (2, 'child', 'x');
    """)
    cat = introspect(source)
    child, parent = (next(t.qualified for t in cat.tables if t.name == n) for n in ("child_events", "base_events"))
    layout = Layout((Group(1, "children", (child,)), Group(2, "parents", (parent,))))
    side = render(source, layout, tmp_path / "target")
    table_files = {p.entry.tag: side.placement.file_of[p.entry.dump_id] for p in side.placement.placed()
                   if p.entry.desc == "TABLE"}
    assert table_files == {"base_events": "02-schema-parents.sql", "child_events": "02-schema-parents.sql"}
    assert "child_events" in (tmp_path / "target" / "10-data-children.sql").read_text()
    target = new_db()
    runner.run(target, tmp_path / "target")
    assert schema_lines(target) == schema_lines(source)
    assert data_lines(target, ()) == data_lines(source, ())
