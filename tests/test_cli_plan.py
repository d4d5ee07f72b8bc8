"""`pgconvoy plan` end to end: output formats and the errors a user can cause."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import DatabaseFactory, run_sql
from pgconvoy.cli import main


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def graph_db(new_db: DatabaseFactory) -> str:
    return new_db(files=["graph_fixture.sql"])


def test_json_contract(graph_db: str) -> None:
    code, out, _ = invoke("plan", "--source", graph_db, "--format", "json")
    assert code == 0
    data = json.loads(out)
    tables = {t["name"]: t for t in data["tables"]}
    assert set(data) >= {"tables", "cycles", "order"}
    assert tables["public.accounts"] | {} == tables["public.accounts"]
    acc = tables["public.accounts"]
    assert (acc["depth"], acc["references"], acc["self_references"], acc["rows"]) == (
        1, ["public.tenants"], ["parent_id"], 3)
    assert acc["blocks"] == 2 and acc["external_references"] == ["auth.users"]
    assert data["cycles"] == [["public.cyc_a", "public.cyc_b", "public.cyc_c"]]
    assert data["order"].index("public.tenants") < data["order"].index("public.accounts")
    assert tables["public.events"]["partitions"] == ["public.events_2025", "public.events_2026"]


def test_text_mermaid_and_dot(graph_db: str) -> None:
    code, text, _ = invoke("plan", "--source", graph_db)
    assert code == 0 and "public.accounts" in text and "two-pass: parent_id" in text and "cycle 0" in text
    _, mermaid, _ = invoke("plan", "--source", graph_db, "--format", "mermaid")
    assert mermaid.startswith("flowchart LR") and "-. parent_id .->" in mermaid
    _, dot, _ = invoke("plan", "--source", graph_db, "--format", "dot")
    assert dot.startswith("digraph") and '"public.tenants" -> "public.accounts";' in dot


def test_schemas_option(graph_db: str) -> None:
    _, out, _ = invoke("plan", "--source", graph_db, "--schemas", "billing", "--format", "json")
    assert [t["name"] for t in json.loads(out)["tables"]] == ["billing.accounts"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres:s3cret@127.0.0.1:1/app", "cannot connect to postgres@127.0.0.1:1/app"),
        ("host=127.0.0.1 port=1 user=postgres password=s3cret dbname=app", "Connection refused"),
        ("not a url", "invalid connection string"),
        ("postgresql://u:s3cret@host:notaport/db", "cannot connect to u@host:notaport/db"),
        ("sample:nope", "unknown sample 'nope'"),
    ],
)
def test_connection_errors_are_one_clear_line_without_the_password(url: str, expected: str) -> None:
    code, out, err = invoke("plan", "--source", url)
    assert code == 2
    assert expected in err
    assert "s3cret" not in out + err
    assert err.startswith("error:")


def test_missing_database_schema_and_privilege(graph_db: str, pg_server: str) -> None:
    from pgconvoy import embedded

    code, _, err = invoke("plan", "--source", embedded.with_database(pg_server, "no_such_db"))
    assert code == 2 and 'database "no_such_db" does not exist' in err

    code, _, err = invoke("plan", "--source", graph_db, "--schemas", "public,nope")
    assert code == 2 and "schema 'nope' does not exist" in err

    run_sql(graph_db, "create role pc_nobody login; grant usage on schema billing to pc_nobody;")
    try:
        code, _, err = invoke("plan", "--source", graph_db + " user=pc_nobody", "--schemas", "billing")
        assert code == 2 and "missing privilege" in err and "permission denied for table accounts" in err
    finally:
        run_sql(graph_db, "drop owned by pc_nobody; drop role pc_nobody")


def test_installed_command_prints_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pgconvoy.cli", "plan", "--source", "postgresql://x:pw@127.0.0.1:1/db"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "pw@" not in proc.stderr
    assert proc.stderr.count("\n") <= 2
