"""Hostile but fair manifests: each gives one ManifestError line naming its file (and line), quickly,
in bounded memory; never a traceback, a hang, or a shell command run from a template.

Where the code before these bounds would have eaten gigabytes or looped for minutes, the load runs in
a child process limited to 1 GB of address space and a timeout, so that the test fails instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgconvoy import manifest
from pgconvoy.errors import PgConvoyError
from pgconvoy.manifest import ManifestError, load_project, read_yaml

PROJECT = "name: hotel\nschemas: [public]\n"
GROUP = "tables: [t]\n"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def project(root: Path, files: dict[str, str | bytes]) -> Path:
    return write(root, {"project.yml": PROJECT, "groups/01-a.yml": GROUP, **files})


def load_error(root: Path, files: dict[str, str | bytes]) -> ManifestError:
    with pytest.raises(ManifestError) as raised:
        load_project(project(root, files))
    return raised.value


_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (BYTES, BYTES))
from pathlib import Path
from pgconvoy import manifest
try:
    manifest.load_project(Path(sys.argv[1]))
except manifest.ManifestError as e:
    print(e.message)
else:
    print("loaded without an error")
"""


def load_error_in_child(root: Path, files: dict[str, str | bytes], seconds: float = 30) -> str:
    """The message of the ManifestError that loading the project raises in a child process limited to
    1 GB of address space and `seconds`."""
    pytest.importorskip("resource")
    code = _CHILD.replace("BYTES", str(2**30))
    try:
        done = subprocess.run([sys.executable, "-c", code, str(project(root, files))], capture_output=True,
                              text=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still loading after {seconds} s")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


# --- 1. aliases ---------------------------------------------------------------------------------------

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{','.join(['*' + inner] * 9)}]\n" for inner, name in zip("abcdefgh", "bcdefghi", strict=True))


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS) < 500
    message = load_error_in_child(tmp_path, {"groups/01-a.yml": BILLION_LAUGHS + "tables: *i\n"})
    # g (line 7) is the first list whose aliases expand to more than a million nodes: 9 ** 7
    assert message == "groups/01-a.yml:7: too many YAML nodes (aliases expand to more than 1,000,000)"


def test_a_few_aliases_still_load(tmp_path: Path) -> None:
    text = "tables:\n  - a: &three {rows: 3}\n  - b: *three\n  - c: *three\n"
    loaded = load_project(project(tmp_path, {"groups/01-a.yml": text}))
    assert [spec.rows.expected for _, spec in loaded.groups[0].manifest.entries()] == [3, 3, 3]  # type: ignore[union-attr]


def test_alias_to_its_own_list() -> None:
    with pytest.raises(ManifestError, match=r"^g\.yml:1: an alias to the list or mapping that holds it$"):
        read_yaml("tables: &a [t, *a]\n", "g.yml")


def test_huge_value_in_an_error_is_shown_short(tmp_path: Path) -> None:
    # 20,000 aliases of a 2 MB string: 40 GB if the error message printed the value in full
    text = f"s: &s {'x' * 2_000_000}\nl: &l [{', '.join(['*s'] * 20_000)}]\ntables: [t]\nrls: *l\n"
    message = load_error_in_child(tmp_path, {"groups/01-a.yml": text})
    assert message == "groups/01-a.yml:1: s: unknown key 's'; allowed keys: description, tables, indexes, rls, expect"


# --- 2. size ------------------------------------------------------------------------------------------


def test_file_over_10_mb_is_refused_before_parsing(tmp_path: Path) -> None:
    text = GROUP + "#" * (10 * 2**20)
    error = load_error(tmp_path, {"groups/01-a.yml": text})
    assert error.message == f"groups/01-a.yml: {len(text):,} bytes, more than the 10 MB a manifest may have"


def test_a_5_mb_group_file_loads(tmp_path: Path) -> None:
    # libyaml's C loader, the collector paused while the nodes are made: about 3 s (15 s before)
    text = "tables:\n" + "".join(f"  - analytics.customer_events_{i:06d}: {{rows: {i}}}\n" for i in range(100_000))
    assert 4.5 * 2**20 < len(text) < 5.5 * 2**20
    loaded = load_project(project(tmp_path, {"groups/01-a.yml": text}))
    group = loaded.groups[0]
    assert len(group.manifest.tables) == 100_000
    name, spec = group.manifest.entries()[-1]
    assert (name, spec.rows and spec.rows.expected) == ("analytics.customer_events_099999", 99_999)
    assert group.lines.line("tables", 99_999) == 100_001


# --- 3. Jinja -----------------------------------------------------------------------------------------

ESCAPES = [
    "cycler.__init__.__globals__.os.popen('id').read()",
    "joiner.__init__.__globals__['os'].system('id')",
    "namespace.__init__.__globals__",
    "env_var.__globals__['os'].environ",
    "''.__class__.__mro__[1].__subclasses__()",
    "self.__init__.__globals__",
    "(1).__class__",
    "()|attr('__class__')",
    "'{0.__class__}'.format(1)",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_template_cannot_reach_python(tmp_path: Path, expression: str) -> None:
    files = {"project.yml": f"name: x\n\nsource: \"{{{{ {expression} }}}}\"\n"}
    message = load_error(tmp_path, files).message
    assert re.fullmatch(r"project\.yml:3: source: template not allowed: access to attribute '__\w+__' of '\w+' "
                        r"object is unsafe", message), message


def test_template_cannot_run_a_command(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    command = f"self.__init__.__globals__.__builtins__.__import__('os').system('touch {canary}')"
    message = load_error(tmp_path, {"project.yml": f"name: x\nsource: \"{{{{ {command} }}}}\"\n"}).message
    assert message == ("project.yml:2: source: template not allowed: "
                       "access to attribute '__init__' of 'TemplateReference' object is unsafe")
    assert not canary.exists()


def test_the_sandbox_keeps_env_var_and_ordinary_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGCONVOY_TEST_TABLES", "a,b")
    monkeypatch.delenv("PGCONVOY_NOT_SET_ROWS", raising=False)
    text = ("tables:\n  - \"{{ env_var('PGCONVOY_TEST_TABLES')|replace(',', '_') ~ '_' ~ range(3)|join('') }}\"\n"
            "  - \"{% for t in ['x', 'y'] %}{{ t|upper }}{% if not loop.last %}_{% endif %}{% endfor %}\"\n"
            "  - \"{{ '%s_%03d'|format('t', 7) }}{{ '_{}'.format(2 ** 10) }}\"\n"
            "  - u: {rows: \"{{ env_var('PGCONVOY_NOT_SET_ROWS', 20) * 3 }}\"}\n")
    loaded = load_project(project(tmp_path, {"groups/01-a.yml": text}))
    entries = loaded.groups[0].manifest.entries()
    assert [name for name, _ in entries] == ["a_b_012", "X_Y", "t_007_1024", "u"]
    assert entries[3][1].rows is not None and entries[3][1].rows.expected == 60


@pytest.mark.parametrize(("template", "refusal"), [
    ("{{ range(100000000)|list }}", "range() of 100,000,000 numbers (at most 10,000)"),
    ("{% for i in range(10**9) %}{% endfor %}", "range() of 1,000,000,000 numbers (at most 10,000)"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "too much work (more than 1,000,000 steps in one file)"),
    ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
     "too much work (more than 1,000,000 steps in one file)"),
    ("{{ 'x' * 10**10 }}", "* would make more than 1,000,000 characters or items"),
    ("{{ 9 ** (9 ** 9) }}", "a number of more than 100,000 bits"),
    ("{{ 'x'|center(10**10) }}", "|center would make more than 1,000,000 characters or items"),
    ("{{ '{:>10000000000}'.format(1) }}", "str.format() would make more than 1,000,000 characters or items"),
    ("{{ '%10000000000d' % 1 }}", "% would make more than 1,000,000 characters or items"),
    ("{{ ('x' * 100000)|replace('', 'y' * 10000) }}", "|replace would make more than 1,000,000 characters or items"),
    ("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "output longer than 1,000,000 characters"),
    ("{% for i in range(2000) %}{{ 'x' * 1000 }}{% endfor %}", "output longer than 1,000,000 characters"),
    ("{% set a = ['x' * 1000] %}" + "{% set a = [a, a, a, a] %}" * 30 + "{{ a == a|list }}",
     "a value of more than 1,000,000 characters or items"),
])
def test_template_work_is_bounded(tmp_path: Path, template: str, refusal: str) -> None:
    message = load_error_in_child(tmp_path, {"groups/01-a.yml": f"description: x\ntables:\n  - \"{template}\"\n"})
    assert message == f"groups/01-a.yml:3: tables[0]: template not allowed: {refusal}"


def test_rendered_text_of_a_file_is_bounded(tmp_path: Path) -> None:
    text = "tables:\n" + "  - \"{{ 'x' * 1000000 }}\"\n" * 20
    message = load_error(tmp_path, {"groups/01-a.yml": text}).message
    assert message == ("groups/01-a.yml:12: tables[10]: template not allowed: "
                       "more than 10,000,000 characters rendered in one file")


@pytest.mark.parametrize(("template", "problem"), [
    ("{{ 1 / 0 }}", "template error: division by zero"),
    ("{{ 'a' + 1 }}", 'template error: can only concatenate str (not "int") to str'),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "template not allowed: recursion too deep"),
    ("{{ x }}", "template error: 'x' is undefined"),
    ("{% include 'other.yml' %}", "template error: no loader for this environment specified"),
])
def test_template_failures_are_one_line(tmp_path: Path, template: str, problem: str) -> None:
    message = load_error(tmp_path, {"groups/01-a.yml": f"tables:\n  - \"{template}\"\n"}).message
    assert message == f"groups/01-a.yml:2: tables[0]: {problem}"


def test_lipsum_is_gone(tmp_path: Path) -> None:
    # lipsum(n) writes n paragraphs of lorem ipsum, with no bound on n
    message = load_error_in_child(tmp_path, {"groups/01-a.yml": "tables:\n  - \"{{ lipsum(10**7) }}\"\n"})
    assert message == "groups/01-a.yml:2: tables[0]: template error: 'lipsum' is undefined"


# --- 4. bytes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "problem"), [
    (b"tables:\n  - \xff\n", "2: not UTF-8 text (byte 0xff at offset 12)"),
    ("tables: [t]\n".encode("utf-16"), "1: not UTF-8 text (byte 0xff at offset 0)"),
    (b"tables:\n  - a\x00b\n", "2: contains a NUL byte (at offset 13)"),
    (b"tables:\n  - a\x01b\n", "2: invalid YAML: character #x0001: control characters are not allowed"),
])
def test_bytes_that_are_not_text(tmp_path: Path, content: bytes, problem: str) -> None:
    assert load_error(tmp_path, {"groups/01-a.yml": content}).message == f"groups/01-a.yml:{problem}"


def test_check_sql_that_is_not_text(tmp_path: Path) -> None:
    message = load_error(tmp_path, {"checks/orphans.sql": b"select 1 -- caf\xe9\n"}).message
    assert message == "checks/orphans.sql:1: not UTF-8 text (byte 0xe9 at offset 15)"


# --- 5. nesting ---------------------------------------------------------------------------------------


def test_deep_flow_nesting(tmp_path: Path) -> None:
    text = "tables: " + "[" * 100_000 + "]" * 100_000 + "\n"
    assert load_error(tmp_path, {"groups/01-a.yml": text}).message == \
        "groups/01-a.yml:1: nesting deeper than 100 levels"


def test_deep_block_nesting_where_any_value_is_allowed(tmp_path: Path) -> None:
    params = "".join(" " * (6 + 2 * i) + f"k{i}:\n" for i in range(120)) + " " * 246 + "x\n"
    text = "checks:\n  - name: c\n    kind: row_count\n    params:\n" + params
    # params is a map of anything: only the bound stops it, at the 101st level (k97's mapping, line 102)
    assert load_error(tmp_path, {"checks/c.yml": text}).message == "checks/c.yml:102: nesting deeper than 100 levels"


def test_deep_key(tmp_path: Path) -> None:
    text = "? " + "[" * 990 + "]" * 990 + "\n: x\n" + GROUP
    assert load_error(tmp_path, {"groups/01-a.yml": text}).message == \
        "groups/01-a.yml:1: nesting deeper than 100 levels"


def test_deep_nesting_through_an_alias(tmp_path: Path) -> None:
    text = "x: &x " + "[" * 60 + "]" * 60 + "\ntables: " + "[" * 60 + "*x" + "]" * 60 + "\n"
    assert load_error(tmp_path, {"groups/01-a.yml": text}).message == \
        "groups/01-a.yml:1: nesting deeper than 100 levels (through an alias)"


# --- 6. files that are not files ----------------------------------------------------------------------


def test_group_file_that_is_a_directory(tmp_path: Path) -> None:
    (project(tmp_path, {}) / "groups" / "02-x.yml").mkdir()
    with pytest.raises(ManifestError) as raised:
        load_project(tmp_path)
    assert raised.value.problems == ["groups/02-x.yml: a directory, not a file"]


def test_dangling_symlink_and_symlink_loop(tmp_path: Path) -> None:
    groups = project(tmp_path, {}) / "groups"
    (groups / "03-y.yml").symlink_to(tmp_path / "nowhere.yml")
    (groups / "04-z.yml").symlink_to(groups / "04-z.yml")
    with pytest.raises(ManifestError) as raised:
        load_project(tmp_path)
    assert raised.value.problems == [
        f"groups/03-y.yml: a symbolic link to {tmp_path / 'nowhere.yml'}, which does not exist",
        "groups/04-z.yml: cannot read: Too many levels of symbolic links",
    ]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_group_file(tmp_path: Path) -> None:
    path = project(tmp_path, {}) / "groups" / "01-a.yml"
    path.chmod(0)
    try:
        assert load_error(tmp_path, {}).message == "groups/01-a.yml: cannot read: Permission denied"
    finally:
        path.chmod(0o644)


def test_checks_entries_that_are_not_files(tmp_path: Path) -> None:
    checks = project(tmp_path, {"checks/fine.sql": "select 1 where false"}) / "checks"
    (checks / "orphans.sql").mkdir()
    (checks / "more.yml").mkdir()
    (checks / "notes").mkdir()  # no .sql or .yml: not a check, left alone as before
    with pytest.raises(ManifestError) as raised:
        load_project(tmp_path)
    assert raised.value.problems == ["checks/more.yml: a directory, not a file",
                                     "checks/orphans.sql: a directory, not a file"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_group_file_that_is_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(project(tmp_path, {}) / "groups" / "02-x.yml")
    # reading a FIFO blocks until someone writes to it: the load must not open it
    assert load_error_in_child(tmp_path, {}, seconds=20) == "groups/02-x.yml: not a regular file"


# --- 7. keys and values -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), [
    ("1: x\n" + GROUP, "1: [1]: Keys should be strings, got 1"),
    ("? [a]\n: b\n" + GROUP, "1: top level: keys must be names, got ['a']"),
    (GROUP + "description: a\ndescription: b\n", "3: description: duplicate key"),
    (GROUP + "rls:\n  " + "t" * 300 + ": {}\n", "3: rls: a key longer than 256 characters: '" + "t" * 56 + "..."),
    (GROUP + '"a\\nb": 1\n',
     "2: 'a\\nb': unknown key 'a\\nb'; allowed keys: description, tables, indexes, rls, expect"),
])
def test_keys(tmp_path: Path, text: str, problem: str) -> None:
    assert load_error(tmp_path, {"groups/01-a.yml": text}).message == f"groups/01-a.yml:{problem}"


def test_thousands_of_problems_make_a_short_hint(tmp_path: Path) -> None:
    error = load_error(tmp_path, {"groups/01-a.yml": "tables:\n" + "  - [x]\n" * 1000})
    assert len(error.problems) == 1000 and error.message.startswith("groups/01-a.yml:2: tables[0]: expected a table")
    assert error.hint is not None and error.hint.startswith("999 more problems: groups/01-a.yml:3: tables[1]: ")
    assert error.hint.count("groups/01-a.yml:") == 20 and error.hint.endswith("; and 979 more")


@pytest.mark.parametrize(("value", "problem"), [
    ("2001-02-30", "2: invalid YAML: day is out of range for month"),
    ("9" * 5000, "2: invalid YAML: a number with too many digits"),
    ("{t: {rows: {expected: 1, tolerance: '" + "9" * 400 + "'}}}",
     "2: tables[0].t.rows.tolerance: expected a row count or a percentage like '2%', got '" + "9" * 56 + "..."),
])
def test_values_the_yaml_constructor_cannot_make(tmp_path: Path, value: str, problem: str) -> None:
    assert load_error(tmp_path, {"groups/01-a.yml": f"tables:\n  - {value}\n"}).message == f"groups/01-a.yml:{problem}"


# --- 8. anything at all -------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_keys = st.sampled_from(["tables", "name", "rows", "expected", "tolerance", "indexes", "rls", "expect", "source",
                         "checks", "sql", "kind", "params", "data", "lints", "t"]) | st.text(max_size=8)
_data = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
                     max_leaves=20)
_jinja = st.lists(st.sampled_from([
    "{{", "}}", "{%", "%}", " for i in range(", "9**9", ") ", "endfor", "env_var('HOME')", "cycler", ".__init__",
    "|list", "~", "'x'", " * ", "10000000", "if", "endif", "{#", "#}", "macro", "set x = ", "x", "[x, x]",
]), max_size=12).map("".join)
_texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),  # control characters and all of unicode
    _data.map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.builds(lambda d, j: yaml.safe_dump(d) + f"tables: [{j!r}]\n", _data, _jinja),
    st.builds(lambda j: "name: x\nsource: " + repr(j) + "\n", _jinja),
    st.lists(st.sampled_from(["[", "]", "{", "}", "&a ", "*a", ": ", "- ", "\n", "  ", "? ", "x", ",", "!!str ",
                              "'", '"', "#", "|\n", "---\n", "%YAML 1.1\n"]), max_size=40).map("".join),
)
_contents = _texts | st.binary(max_size=200)


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for directory, _, names in os.walk(root):
        for name in [".", *names]:
            path = Path(directory) / name
            info = path.stat()
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(group=_contents, project_text=_contents | st.just(PROJECT), which=st.sampled_from(["group", "project", "both"]))
def test_anything_loads_or_names_file_and_line(group: str | bytes, project_text: str | bytes, which: str) -> None:
    """load_project returns, or raises ManifestError whose every problem starts `file:line: ` and is one
    line; and it writes nothing (it runs in an empty temporary directory, which stays as it was)."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as outer:
        root = Path(outer) / "p"
        write(root, {"groups/01-a.yml": group if which != "project" else GROUP,
                     "project.yml": project_text if which != "group" else PROJECT})
        before = _tree(Path(outer))
        os.chdir(outer)
        try:
            manifest.load_project(root)
        except ManifestError as e:
            assert isinstance(e, PgConvoyError)
            for problem in e.problems:
                assert re.match(r"(groups/01-a\.yml|project\.yml):\d+: ", problem), problem
                assert "\n" not in problem, problem
        finally:
            os.chdir(cwd)
        assert _tree(Path(outer)) == before
