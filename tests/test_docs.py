"""`pgconvoy docs`: the page written from target/manifest.json. Read as HTML on the compiled sample (a node
per table, nothing loaded from elsewhere, the same bytes twice), on tables whose names are markup, and
in a real headless Chromium (every node drawn, a group's button leaves that group's nodes only)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import DatabaseFactory, invoke, repository_project
from pgconvoy.contracts import ManifestDoc, load


class Page(HTMLParser):
    """The graph's nodes, the list's rows and every src/href of a page, attributes as the browser reads them."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[dict[str, str | None]] = []
        self.rows: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.scripts = 0
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "g" and "node" in (found.get("class") or "").split():
            self.nodes.append(found)
        if tag == "tr" and "data-id" in found:
            self.rows.append(found)
        self.links += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action")]
        self.scripts += tag == "script"

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def compiled_sample(new_db: DatabaseFactory, tmp_path: Path) -> Path:
    source = new_db(files=["sample:supabase_platform", "sample:hotel"])
    project = repository_project(tmp_path / "project")
    compiled = invoke("compile", "--project-dir", str(project), "--source", source)
    assert compiled.exit_code == 0, compiled.output
    return project


def docs(project: Path) -> tuple[ManifestDoc, Path]:
    written = invoke("docs", "--project-dir", str(project))
    assert written.exit_code == 0, written.output
    page = project / "target" / "docs" / "index.html"
    assert page.is_file()
    return load(ManifestDoc, project / "target" / "manifest.json"), page


def test_docs_page_has_a_node_per_table_and_loads_nothing(new_db: DatabaseFactory, tmp_path: Path) -> None:
    project = compiled_sample(new_db, tmp_path)
    manifest, page = docs(project)
    text = page.read_text(encoding="utf-8")
    parsed = Page(text)
    tables = [t for g in manifest.groups for t in g.tables]
    assert len(tables) > 30
    assert sorted(n["data-name"] or "" for n in parsed.nodes) == sorted(t.name.lower() for t in tables)
    assert len(parsed.rows) == len(tables)
    group_of = {t.name.lower(): str(g.number) for g in manifest.groups for t in g.tables}
    assert all(group_of[n["data-name"] or ""] == n["data-group"] for n in parsed.nodes)
    assert parsed.links == []  # nothing to fetch: no stylesheet, script or image from anywhere
    assert not re.search(r"https?://", text)
    assert parsed.scripts == 1 and "<script src" not in text
    # Every finding on a migrated table is a badge on its node.
    on_tables = {f.table for f in manifest.findings} & {t.name for t in tables}
    assert on_tables and text.count('<g class="badge">') == len(on_tables)
    # A pure function of the manifest: the same bytes again.
    docs(project)
    assert page.read_text(encoding="utf-8") == text


HOSTILE = [
    'say "hi" <b>bold</b> & &amp; </script>',
    "two\nlines",
    "it's <img src=x onerror=alert(1)>",
]


def hostile_source(new_db: DatabaseFactory) -> str:
    """Tables named as markup, in a cycle of two (one two-pass edge) and one referencing itself."""
    first, second, third = ('"' + name.replace('"', '""') + '"' for name in HOSTILE)
    return new_db(sql=f"""
create table {first} (id int primary key, other_id int);
create table {second} (id int primary key, first_id int references {first});
alter table {first} add foreign key (other_id) references {second};
create table {third} (id int primary key, parent_id int references {third}, first_id int references {first});
insert into {first} values (1, null);
insert into {second} values (1, 1);
update {first} set other_id = 1;
insert into {third} values (1, null, 1), (2, 1, 1);
""")


def test_docs_escapes_names_that_are_markup(new_db: DatabaseFactory, tmp_path: Path) -> None:
    source = hostile_source(new_db)
    project = tmp_path / "hostile"
    (project / "groups").mkdir(parents=True)
    (project / "project.yml").write_text("name: 'hostile <i>project</i>'\nschemas: [public]\n"
                                         "data: {foreign_keys: during}\n")  # two passes, drawn
    entries = [{HOSTILE[0]: {"two_pass": ["other_id"]}}, HOSTILE[1], {HOSTILE[2]: {"two_pass": ["parent_id"]}}]
    (project / "groups" / "01-all.yml").write_text(f"tables: {json.dumps(entries)}\n")
    compiled = invoke("compile", "--project-dir", str(project), "--source", source, "--format", "json")
    assert compiled.exit_code == 0, compiled.stdout
    manifest, page = docs(project)
    assert manifest.cycles
    text = page.read_text(encoding="utf-8")
    parsed = Page(text)
    assert sorted(n["data-name"] or "" for n in parsed.nodes) == sorted(f"public.{n}".lower() for n in HOSTILE)
    for markup in ("<b>", "<img", "<i>"):
        assert markup not in text, markup
    assert text.count("</script>") == 1  # the page's own
    assert parsed.scripts == 1 and parsed.links == []
    shown = "".join(parsed.texts)
    assert 'public.say "hi" <b>bold</b> & &amp; </script>' in shown  # as text, exactly as named
    assert "public.two\\nlines" in shown  # a newline shown as \n, the node on one line
    assert "hostile <i>project</i>" in shown
    assert re.search(r'<g class="edge two-pass cycle"', text)  # the cycle's edge that loads in two passes
    assert re.search(r'<g class="edge [a-z-]+( cycle)? self"', text)  # the table that references itself


def test_docs_without_a_compile_says_so(tmp_path: Path) -> None:
    project = repository_project(tmp_path / "project")
    result = invoke("docs", "--project-dir", str(project))
    assert result.exit_code == 2
    assert "manifest.json does not exist" in result.output
    assert "hint: run pgconvoy compile first" in result.output
    assert len(result.output.strip().splitlines()) == 2


VISIBLE = """Array.from(document.querySelectorAll('#graph .node')).map(n => {
  const r = n.getBoundingClientRect();
  return [n.dataset.name, n.dataset.group, getComputedStyle(n).display !== 'none' && r.width > 0 && r.height > 0];
})"""


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
def test_docs_page_in_a_browser(new_db: DatabaseFactory, tmp_path: Path) -> None:
    pytest.importorskip("websocket")  # websocket-client, of the dev extras
    from browser import Browser

    project = compiled_sample(new_db, tmp_path)
    manifest, page = docs(project)
    tables = {t.name.lower(): str(g.number) for g in manifest.groups for t in g.tables}
    with Browser() as browser:
        browser.open(page.as_uri())
        nodes = browser.evaluate(VISIBLE)
        assert sorted(name for name, _, _ in nodes) == sorted(tables)
        assert all(visible for _, _, visible in nodes), "every table drawn before any filter"
        shot = project / "target" / "docs" / "screenshot.png"
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

        group = manifest.groups[2]
        browser.click(f'.group-filter[data-group="{group.number}"]')
        nodes = browser.evaluate(VISIBLE)
        assert {name for name, _, visible in nodes if visible} == {t.name.lower() for t in group.tables}
        rows = browser.evaluate("Array.from(document.querySelectorAll('#table-list tbody tr'))"
                                ".filter(r => r.offsetParent !== null).map(r => r.dataset.name)")
        assert sorted(rows) == sorted(t.name.lower() for t in group.tables)
        assert browser.evaluate("document.getElementById('shown').textContent") == (
            f"{len(group.tables)} of {len(tables)} tables")

        browser.click('.group-filter[data-group="all"]')
        browser.type("#search", "STAFF")
        nodes = browser.evaluate(VISIBLE)
        assert {name for name, _, visible in nodes if visible} == {n for n in tables if "staff" in n}
