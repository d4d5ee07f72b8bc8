"""What CI runs of pgconvoy: the repository's composite GitHub Action (`action.yml`), its steps run as GitHub
would run them, and the pre-commit hook (`.pre-commit-hooks.yaml`)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import yaml

from conftest import REPO, repository_project
from pgconvoy.rules.run import at_stage

_EXPRESSION = re.compile(r"\$\{\{\s*([a-z_.-]+)\s*\}\}")


def _substitute(text: str, context: dict[str, str]) -> str:
    """GitHub's `${{ inputs.x }}` / `${{ github.action_path }}`, for the ones an action of ours uses."""
    return _EXPRESSION.sub(lambda m: context[m.group(1)], text)


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text())
    return loaded


def _venv_with_our_dependencies(directory: Path) -> Path:
    """A fresh virtual environment that sees this one's packages (a .pth file), so the action's
    `pip install` of the repository builds and installs pgconvoy without fetching its dependencies."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    site = Path(subprocess.run([str(directory / "bin" / "python"), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return directory / "bin"


def test_action_declares_its_inputs_and_builds_with_github_format() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"project-dir", "args", "python-version"}
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    runs = [s for s in steps if "run" in s]
    assert all(s["shell"] == "bash" for s in runs)
    assert "--format github" in runs[-1]["run"]
    for step in runs:  # inputs reach the scripts through env:, never spliced into the script's text
        assert "${{" not in step["run"]


def test_action_steps_build_the_sample_project(tmp_path: Path) -> None:
    """Every `run:` step of action.yml, inputs substituted, in a workspace holding the repository's sample
    project: pgconvoy installs from the repository, the build passes, warnings are annotations and the job
    summary has the counts and the groups."""
    workspace = tmp_path / "workspace"
    repository_project(workspace / "db")
    (workspace / "rule:globbed").touch()  # what `rule:*` would expand to, were the arguments globbed
    bin_dir = _venv_with_our_dependencies(tmp_path / "venv")
    summary = tmp_path / "summary.md"
    action = _action()
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs |= {"project-dir": "db", "args": "--select rule:*"}
    context = {f"inputs.{k}": v for k, v in inputs.items()} | {"github.action_path": str(REPO)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGCONVOY_SOURCE", "GITHUB_", "PYTHON"))}
    env |= {"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "GITHUB_STEP_SUMMARY": str(summary),
            "VIRTUAL_ENV": str(bin_dir.parent), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    outputs = []
    for step in action["runs"]["steps"]:
        if "run" not in step:
            continue  # actions/setup-python: the Python of this test stands in for it
        step_env = env | {k: _substitute(str(v), context) for k, v in step.get("env", {}).items()}
        done = subprocess.run(["bash", "-e", "-c", _substitute(step["run"], context)], cwd=workspace,
                              env=step_env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{step['name']}: {done.stdout}\n{done.stderr}"
        outputs.append(done)
    assert (bin_dir / "pgconvoy").exists()  # the install step put pgconvoy in that environment
    annotations = [ln for ln in outputs[-1].stdout.splitlines() if ln]
    assert annotations and all(ln.startswith("::warning title=WARN rule ") for ln in annotations)
    assert any(",file=db/groups/" in ln for ln in annotations)  # paths from the workspace's root
    text = summary.read_text()
    assert text.startswith("## pgconvoy: checks passed")
    groups = len(list((REPO / "groups").glob("*.yml")))
    assert "### Groups" in text and len(re.findall(r"^\| 0\d \| ", text, re.M)) == groups
    done = re.search(r"Done\. PASS=\d+ WARN=[1-9]\d* FAIL=0 ERROR=0 SKIP=0 TOTAL=(\d+)", outputs[-1].stderr)
    assert done is not None
    assert int(done.group(1)) == len(at_stage("check"))  # --select rule:* reached pgconvoy: only the rules ran


def test_pre_commit_hook_writes_the_schemas_offline_and_passes_when_they_are_current(tmp_path: Path) -> None:
    """pre-commit runs `entry` + `args` in the repository and fails a hook that changes files: the first run
    writes .schemas/, the second changes nothing."""
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    command = [*shlex.split(hook["entry"]), *hook["args"]]
    assert command[0] == "pgconvoy"
    env = {k: v for k, v in os.environ.items() if k != "PGCONVOY_SOURCE"}
    env |= {"PGHOST": "/nonexistent", "PGCONVOY_HOME": str(tmp_path / "home")}  # nothing to connect to
    executable = str(Path(sys.executable).parent / "pgconvoy")
    first = subprocess.run([executable, *command[1:]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    written = {p.name: p.read_bytes() for p in (tmp_path / ".schemas").iterdir()}
    assert {"project.schema.json", "group.schema.json", "checks.schema.json"} <= set(written)
    second = subprocess.run([executable, *command[1:]], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert second.returncode == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / ".schemas").iterdir()} == written
