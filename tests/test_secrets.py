"""No secret of a connection string ever reaches an output or a file: every command of the CLI, given
connection strings that carry a secret (unreachable, typo'd, unterminated, in the query), exits 2 with
one clear error and no traceback, and the secret is in none of stdout, stderr or the project's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import DatabaseFactory
from pgconvoy.cli import main

SECRET = "S3cr3t-Value"

BROKEN = {
    "wrong-password": f"postgresql://app:{SECRET}@127.0.0.1:1/db",  # (a) unreachable, with a password
    "typo-key": f"host=127.0.0.1 port=1 pasword={SECRET} dbname=x",  # (b) unparsable: pasword
    "unterminated": f"password='{SECRET}",  # (c) unparsable: the quote never closes
    "sslpassword-query": f"postgresql://app@127.0.0.1:1/db?sslpassword={SECRET}",  # (d)
    # what libpq itself echoes: the token, the key, the whole string
    "percent-token": f"postgresql://app:{SECRET}%zz@127.0.0.1:1/db",
    "typo-query": f"postgresql://app@127.0.0.1:1/db?passwd={SECRET}",
    "no-scheme": f"app:{SECRET}@127.0.0.1/db",
    "space-in-password": f"host=127.0.0.1 port=1 password=x {SECRET}",
    "no-host": f"postgresql://app:{SECRET}/db",
}

PROJECT_YML = "name: t\nsource: \"{{ env_var('PGCONVOY_SOURCE') }}\"\n"


def minimal_project(directory: Path) -> Path:
    """project.yml reading its source from PGCONVOY_SOURCE, one group, an empty target/ for run."""
    (directory / "groups").mkdir(parents=True)
    (directory / "project.yml").write_text(PROJECT_YML)
    (directory / "groups" / "01-a.yml").write_text("tables: [t]\n")
    (directory / "target").mkdir()
    return directory


def commands(url: str, project: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Every command, given `url` the ways a user gives one: an option, the environment, an argument."""
    p = str(project)
    return {
        "plan": (["plan", "--source", url], {}),
        "plan-env": (["plan"], {"PGCONVOY_SOURCE": url}),
        "init": (["init", "--source", url, "--dir", str(project / "new")], {}),
        "compile": (["compile", "--project-dir", p, "--source", url], {"PGCONVOY_SOURCE": "sample:none"}),
        "compile-env": (["compile", "--project-dir", p], {"PGCONVOY_SOURCE": url}),
        "compile-json": (["compile", "--project-dir", p, "--format", "json"], {"PGCONVOY_SOURCE": url}),
        "run": (["run", "--project-dir", p, "--target", url], {"PGCONVOY_SOURCE": url}),
        "run-env": (["run", "--project-dir", p], {"PGCONVOY_SOURCE": url, "PGCONVOY_TARGET": url}),
        "check": (["check", "--project-dir", p, "--target", url], {"PGCONVOY_SOURCE": url}),
        "check-junit": (["check", "--project-dir", p, "--target", url, "--format", "junit"],
                        {"PGCONVOY_SOURCE": url}),
        "build": (["build", "--project-dir", p], {"PGCONVOY_SOURCE": url}),
        "build-json": (["build", "--project-dir", p, "--format", "json"], {"PGCONVOY_SOURCE": url}),
        "compare": (["compare", url, url], {}),
        "compare-json": (["compare", "sample:none", url, "--format", "json"], {}),
        # schema takes no connection string: one pasted after it is a usage error that echoes it
        "schema": (["schema", "--dir", str(project / ".schemas"), url], {"PGCONVOY_SOURCE": url}),
        # so is one pasted after any command's options
        "plan-extra-argument": (["plan", "--source", "sample:none", url], {}),
    }


COMMAND_NAMES = list(commands("x", Path("x")))


def run_cli(args: list[str], env: dict[str, str]) -> Result:
    result = CliRunner().invoke(main, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def files_holding(directory: Path, secret: str) -> list[str]:
    """Every file under `directory` whose bytes hold `secret` (any file: yml, sql, json, xml, ...)."""
    found = []
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = Path(root) / name
            if secret.encode() in path.read_bytes():
                found.append(str(path.relative_to(directory)))
    return found


def assert_no_leak(result: Result, project: Path) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert SECRET not in output, output.replace(SECRET, "<SECRET>")
    assert files_holding(project, SECRET) == []


@pytest.mark.parametrize("url", BROKEN.values(), ids=BROKEN.keys())
@pytest.mark.parametrize("command", COMMAND_NAMES)
def test_broken_connection_strings_leak_nothing(command: str, url: str, tmp_path: Path) -> None:
    project = minimal_project(tmp_path / "project")
    args, env = commands(url, project)[command]
    result = run_cli(args, env)
    assert result.exit_code == 2, result.output.replace(SECRET, "<SECRET>")
    assert_no_leak(result, project)
    assert result.stderr.strip(), "an error must say what went wrong"
    if not command.startswith(("schema", "plan-extra")):
        assert result.stderr.startswith("error:"), result.stderr.replace(SECRET, "<SECRET>")


# One spelling runs in the suite; the others (~10 s each: a process per command) with the slow ones.
@pytest.mark.parametrize("url", [pytest.param(BROKEN[k], id=k, marks=() if k == "typo-key" else pytest.mark.slow)
                                 for k in ("wrong-password", "typo-key", "unterminated", "sslpassword-query")])
def test_installed_command_leaks_nothing(url: str, tmp_path: Path) -> None:
    """The same through the real entry point (a process: the real stderr, the real console)."""
    project = minimal_project(tmp_path / "project")
    for name, (args, env) in commands(url, project).items():
        proc = subprocess.run([sys.executable, "-m", "pgconvoy.cli", *args], capture_output=True, text=True,
                              env=os.environ | env, check=False, cwd=tmp_path)
        shown = (proc.stdout + proc.stderr).replace(SECRET, "<SECRET>")
        assert proc.returncode == 2, (name, shown)
        assert "Traceback" not in shown and "<SECRET>" not in shown, (name, shown)
    assert files_holding(tmp_path, SECRET) == []


def with_secrets(uri: str) -> str:
    """The database's connection string with a password and an SSL key password it does not need (the
    test server trusts local connections, and no SSL key is given): a source carrying secrets that works."""
    return make_conninfo(uri, password=SECRET, sslpassword=SECRET)


def as_url(uri: str) -> str:
    """The same as a URL with the secrets in its query."""
    params = conninfo_to_dict(uri)
    return (f"postgresql://{params['user']}@/{params['dbname']}?host={params['host']}"
            f"&password={SECRET}&sslpassword={SECRET}")


@pytest.mark.parametrize("spelling", [with_secrets, as_url], ids=["key-value", "url-query"])
def test_a_working_source_with_secrets_leaks_nothing(spelling: object, new_db: DatabaseFactory,
                                                     tmp_path: Path) -> None:
    """init, compile, run, check, compare and build succeed with a source and a target that carry
    secrets: none is written (project.yml reads PGCONVOY_SOURCE) or printed; then the URLs break."""
    assert callable(spelling)
    source = spelling(new_db(sql="CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'a');"))
    target = spelling(new_db())
    project = tmp_path / "project"
    result = run_cli(["init", "--source", source, "--dir", str(project)], {})
    assert result.exit_code == 0, result.output.replace(SECRET, "<SECRET>")
    assert_no_leak(result, project)
    assert "PGCONVOY_SOURCE" in (project / "project.yml").read_text()
    env = {"PGCONVOY_SOURCE": source}
    for args, writes in [
        (["compile", "--project-dir", str(project)], "manifest.json"),
        (["run", "--project-dir", str(project), "--target", target], "manifest.json"),
        (["check", "--project-dir", str(project), "--target", target, "--format", "junit"], "junit.xml"),
        (["compare", source, target], "manifest.json"),
        (["build", "--project-dir", str(project), "--format", "json"], "manifest.json"),  # compiles anew
    ]:
        result = run_cli(args, env)
        assert result.exit_code == 0, (args[0], result.output.replace(SECRET, "<SECRET>"))
        assert_no_leak(result, project)
        assert (project / "target" / writes).is_file()
    # the project as it is, and the connection strings broken: the source, or (the source working) the target
    for url in BROKEN.values():
        for args, args_env in [
            (["compile", "--project-dir", str(project)], {"PGCONVOY_SOURCE": url}),
            (["run", "--project-dir", str(project), "--target", url, "--resume"], env),
            (["check", "--project-dir", str(project), "--target", url], env),
            (["check", "--project-dir", str(project), "--scratch", "url", "--scratch-url", url], env),
        ]:
            result = run_cli(args, args_env)
            assert result.exit_code == 2, (args, result.output.replace(SECRET, "<SECRET>"))
            assert_no_leak(result, project)
