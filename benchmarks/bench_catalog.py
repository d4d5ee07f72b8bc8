"""Catalog introspection, FK graph and compile on a wide catalog (2,000 tables, 3,000 FKs), beside
pg_dump --schema-only.

Run: .venv/bin/python benchmarks/bench_catalog.py [--tables 2000]
Prints wall times (median of 5), the number of queries pgconvoy sent (the same for 20 tables as for 2,000),
and the ratio to `pg_dump --schema-only` of the same database, measured in this same run. Then the steps of
`compile` on a project written by `init`: reconcile and render (pure functions) and the whole command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from pgconvoy import catalog, compiler, embedded, graph, initproject, manifest, reconcile


def schema_sql(tables: int) -> str:
    """`tables` tables and 1.5 FKs per table (3,000 for 2,000): every table references its predecessor,
    every other one also the table at half its index (a deep and wide graph), with indexes and policies."""
    parts = []
    for i in range(tables):
        cols = ["id bigint primary key", "name text not null", "payload jsonb"]
        if i > 0:
            cols.append(f"prev_id bigint references t{i - 1:05d}")
        if i % 2 == 0 or i == 1:  # t00000.half_id references itself: one self-reference
            cols.append(f"half_id bigint references t{i // 2:05d}")
        parts.append(f"create table t{i:05d} ({', '.join(cols)});")
        if i > 0:
            parts.append(f"create index on t{i:05d} (prev_id);")
        if i % 10 == 0:
            parts.append(f"alter table t{i:05d} enable row level security;")
            parts.append(f"create policy p{i} on t{i:05d} using (id > 0);")
    return "\n".join(parts)


def timed(fn: object, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def measure(base: str, tables: int) -> dict[str, float | int]:
    uri = embedded.create_database(base, f"bench_{tables}", replace=True)
    statements = schema_sql(tables).splitlines()
    with psycopg.connect(uri, autocommit=True) as conn:
        # in slices: one transaction creating 2,000 tables runs out of lock slots
        for i in range(0, len(statements), 500):
            conn.execute("\n".join(statements[i : i + 500]).encode())
        conn.execute("analyze")
    trace: list[str] = []

    def introspect() -> catalog.Catalog:
        trace.clear()
        with psycopg.connect(uri) as conn:
            return catalog.introspect(conn, catalog.Options(rows="estimate"), trace=trace)

    t_cat, cat = timed(introspect)
    assert isinstance(cat, catalog.Catalog)
    t_exact, _ = timed(lambda: catalog.introspect(psycopg.connect(uri), catalog.Options(rows="exact")))
    t_graph, g = timed(lambda: graph.build(cat))
    pg_dump = embedded.bin_dir() / "pg_dump"
    t_dump, _ = timed(lambda: subprocess.run([str(pg_dump), "--schema-only", "-d", uri], check=True,
                                             capture_output=True))
    assert isinstance(g, graph.FkGraph)
    return {"tables": len(cat.tables), "fks": len(cat.foreign_keys), "queries": len(trace),
            "introspect_s": t_cat, "introspect_exact_s": t_exact, "graph_s": t_graph, "pg_dump_s": t_dump,
            "max_depth": g.max_depth}


def measure_compile(base: str, tables: int) -> None:
    uri = embedded.with_database(base, f"bench_{tables}")
    with psycopg.connect(uri) as conn:
        cat = catalog.introspect(conn)
    project = Path(tempfile.mkdtemp(prefix="pgconvoy-bench-project-"))
    initproject.write(project, cat, graph.build(cat), uri, force=False)
    loaded = manifest.load_project(project)
    t_reconcile, result = timed(lambda: reconcile.reconcile(cat, loaded))
    assert isinstance(result, reconcile.Result) and result.layout is not None, result
    layout = result.layout

    def schema_side() -> compiler.SchemaSide:
        with psycopg.connect(uri) as conn:
            return compiler.schema_side(conn, compiler.take_archive(uri, catalog.scope(conn)), cat, layout)

    t_schema, side = timed(schema_side)
    assert isinstance(side, compiler.SchemaSide) and not side.findings, side
    t_compile, compiled = timed(lambda: compiler.compile_project(project, source=uri), repeat=3)
    assert isinstance(compiled, compiler.CompileResult) and compiled.ok
    print(f"\ncompile of {len(cat.tables)} tables in {len(layout.groups)} groups: reconcile {t_reconcile:.3f}s, "
          f"schema side {t_schema:.3f}s (pg_dump archive, placement, accounting, {len(side.files)} files), "
          f"whole command {t_compile:.3f}s (locked snapshot + introspect + reconcile + schema side + data of "
          "empty tables + artifacts; median of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=2000)
    args = parser.parse_args()
    base = embedded.start(Path(tempfile.mkdtemp(prefix="pgconvoy-bench-")) / "pg", delete_on_exit=True)
    print(f"{'tables':>7} {'FKs':>6} {'queries':>7} {'introspect':>11} {'+exact rows':>12} {'graph':>8} "
          f"{'pg_dump -s':>11} {'ratio':>6}")
    for n in (20, args.tables):
        r = measure(base, n)
        total = float(r["introspect_s"]) + float(r["graph_s"])
        print(f"{r['tables']:>7} {r['fks']:>6} {r['queries']:>7} {r['introspect_s']:>10.3f}s "
              f"{r['introspect_exact_s']:>11.3f}s {r['graph_s']:>7.3f}s {r['pg_dump_s']:>10.3f}s "
              f"{total / float(r['pg_dump_s']):>6.2f}")
    print("ratio = (introspect + graph) / pg_dump --schema-only, same database, same run; medians of 5")
    measure_compile(base, args.tables)


if __name__ == "__main__":
    main()
