"""Nothing lost, on a database holding one object of every kind pg_dump's archive knows (PostgreSQL 18,
and PostgreSQL 15 to 18): init -> compile -> run into an empty target gives what pg_dump | pg_restore
gives, line for line, with the same data; and the comparison is not blind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fidelity import assert_same_lines, data_lines, migrate, prepared_target, restored_copy, schema_lines

from conftest import DatabaseFactory, invoke, load_sql, pg15_database, query, run_sql
from pgconvoy import compare

SCHEMAS = ("kinds", "kinds_pub")
NOT_MIGRATED = ("auth", "extensions")  # the Supabase stand-in's: on the target already
EVERY_KIND = ["sample:supabase_stub", "every_kind.sql", "every_kind_pg18.sql"]


def assert_migrated(source: str, target: str, copy: str, *, owners: bool = False) -> None:
    restored_copy(source, copy, NOT_MIGRATED, owners=owners)
    assert_same_lines(schema_lines(copy), schema_lines(target), "pg_dump --schema-only")
    assert_same_lines(data_lines(source, NOT_MIGRATED), data_lines(target, NOT_MIGRATED), "the data")
    result = compare.compare_urls(source, target, schemas=list(SCHEMAS))
    assert result.equal, result.differences


def test_every_kind_round_trip(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    project = migrate(source, target, tmp_path / "project", SCHEMAS)
    assert_migrated(source, target, copy)
    # What makes this fixture hard is really there, and really moved.
    assert query(target, "select count(*) from kinds.markers") == [(3,)]  # rows of a table without columns
    assert query(target, "select count(*) from pg_largeobject_metadata where oid >= 4242001") == [(2,)]
    assert query(target, "select has_function_privilege('anon', 'kinds.secret_count()', 'execute')") == [(False,)]
    manifest = (project / "target" / "manifest.json").read_text()
    assert '"type": "TRANSFORM"' in manifest and '"type": "EVENT TRIGGER"' in manifest


def test_owners_keep_sets_the_sources_owners(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = new_db(files=EVERY_KIND)
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", SCHEMAS, project_yml="owners: keep\n")
    assert_migrated(source, target, copy, owners=True)
    assert query(target, "select tableowner from pg_tables where tablename = 'audit'") == [("kinds_owner",)]


def test_every_kind_round_trip_from_postgres_15(pg15: str, new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = pg15_database(pg15, "every_kind")
    for name in EVERY_KIND[:2]:  # PostgreSQL 15 has no pgvector and none of the 16-18 additions
        run_sql(source, load_sql(name))
    assert query(source, "select current_setting('server_version_num')::int / 10000") == [(15,)]
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    migrate(source, target, tmp_path / "project", SCHEMAS)
    assert_migrated(source, target, copy)


# Each a block of a rendered file; taking it out must make the round trip fail and compare name it.
DELETIONS = [
    ("INDEX kinds.things_rev_idx", "index", "kinds.things_rev_idx"),
    ("ACL FUNCTION secret_count() in schema kinds", "acl", "FUNCTION secret_count() in schema kinds"),
    ("RULE kinds.things things_notify", "rule", "kinds.things things_notify"),
    ("COMMENT STATISTICS things_stats in schema kinds", "comment", "STATISTICS things_stats in schema kinds"),
]


@pytest.mark.parametrize(("block", "kind", "name"), DELETIONS, ids=[d[1] for d in DELETIONS])
def test_a_missing_entry_fails_the_round_trip_and_compare_names_it(
        new_db: DatabaseFactory, tmp_path: Path, block: str, kind: str, name: str) -> None:
    source = new_db(files=EVERY_KIND)
    project = tmp_path / "project"
    assert invoke("init", "--source", source, "--schemas", ",".join(SCHEMAS), "--dir", str(project)).exit_code == 0
    assert invoke("compile", "--project-dir", str(project), "--source", source).exit_code == 0
    removed = [path for path in (project / "target").glob("*.sql") if _remove_block(path, block)]
    assert len(removed) == 1, f"no file holds {block!r}"
    target, copy = prepared_target(new_db, source), prepared_target(new_db, source)
    assert invoke("run", "--project-dir", str(project), "--target", target).exit_code == 0
    restored_copy(source, copy, NOT_MIGRATED)
    assert schema_lines(copy) != schema_lines(target)
    differences = compare.compare_urls(source, target, schemas=list(SCHEMAS)).differences
    assert (kind, name, "missing in B") in [(d.kind, d.object, d.detail) for d in differences], differences


def _remove_block(path: Path, label: str) -> bool:
    """Drop the block `-- LABEL` ... up to the next block of a rendered file."""
    text = path.read_text()
    pattern = re.compile(rf"^-- {re.escape(label)}\n.*?(?=^-- |\Z)", re.M | re.S)
    changed = pattern.sub("", text, count=1)
    if changed == text:
        return False
    path.write_text(changed)
    return True
