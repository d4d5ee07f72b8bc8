"""`build --select state:modified+` against a full `build` on a 2,000-table catalog.

Run: .venv/bin/python benchmarks/bench_select.py [--tables 2000] [--rows 100]
The catalog: clusters of 20 tables (each references its predecessor in the cluster and the table at half its
index there), every table with rows, indexes on its keys and a policy on every tenth. After a full build the
target/ is kept as the state; one table then gains a column on the source, and `build --select
state:modified+ --state DIR` compiles, loads and checks only it, what references it and what those need.
Both builds load into a fresh database of the same server (`--scratch url`), so the scratch server's start is
not measured. Prints the wall time of each build and their ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from pgconvoy import embedded

CLUSTER = 20


def schema_sql(tables: int, rows: int) -> list[str]:
    """One statement per table (with its rows), in an order that loads."""
    statements = []
    for i in range(tables):
        k = i % CLUSTER
        cols = ["id bigint primary key", "name text not null", "payload jsonb"]
        refs = []
        if k > 0:
            cols.append(f"prev_id bigint references t{i - 1:05d}")
            refs.append(("prev_id", f"t{i - 1:05d}"))
        if k > 1:
            half = i - k + k // 2
            cols.append(f"half_id bigint references t{half:05d}")
            refs.append(("half_id", f"t{half:05d}"))
        parts = [f"create table t{i:05d} ({', '.join(cols)});"]
        parts += [f"create index on t{i:05d} ({col});" for col, _ in refs]
        values = ", ".join(["g", "'n' || g", "jsonb_build_object('g', g)", *("g" for _ in refs)])
        parts.append(f"insert into t{i:05d} select {values} from generate_series(1, {rows}) g;")
        if i % 10 == 0:
            parts.append(f"alter table t{i:05d} enable row level security;")
            parts.append(f"create policy p{i} on t{i:05d} using (id > 0);")
        statements.append(" ".join(parts))
    return statements


def pgconvoy(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pgconvoy.cli", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pgconvoy {' '.join(args[:1])} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pgconvoy-bench-select-"))
    base = embedded.start(work / "pg", delete_on_exit=True, settings={"max_locks_per_transaction": "4096"})
    source = embedded.create_database(base, "source", replace=True)
    statements = schema_sql(args.tables, args.rows)
    with psycopg.connect(source, autocommit=True) as conn:
        for i in range(0, len(statements), 200):
            conn.execute("\n".join(statements[i:i + 200]).encode())
        conn.execute("analyze")
    project = work / "project"
    pgconvoy("init", "--source", source, "--dir", str(project))

    full = pgconvoy("build", "--project-dir", str(project), "--scratch", "url", "--scratch-url",
                    embedded.create_database(base, "scratch_full"))
    state = work / "state"
    shutil.copytree(project / "target", state)
    changed = f"t{args.tables // 2 + 3:05d}"  # the fourth table of a cluster in the middle
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute(f"alter table {changed} add column note text".encode())
    selected = pgconvoy("build", "--project-dir", str(project), "--scratch", "url", "--scratch-url",
                        embedded.create_database(base, "scratch_selected"), "--select", "state:modified+",
                        "--state", str(state))
    chosen = json.loads((project / "target" / "manifest.json").read_text())["selection"]
    print(f"{args.tables} tables ({args.rows} rows each, clusters of {CLUSTER}); {changed} gained a column")
    print(f"full build:                        {full:7.2f}s  ({args.tables} tables loaded and checked)")
    print(f"build --select state:modified+:    {selected:7.2f}s  ({len(chosen['requested'])} selected, "
          f"{len(chosen['tables'])} loaded)")
    print(f"ratio selected / full:             {selected / full:7.3f}")
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
