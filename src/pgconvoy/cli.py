"""The `pgconvoy` command line: thin commands over the package's steps."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from pgconvoy import __version__
from pgconvoy.errors import EXIT_USAGE, PgConvoyError

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True, highlight=False)


def make_console(*, stderr: bool = False) -> Console:
    """A console for command output. Colour as the environment asks (rich reads it): NO_COLOR turns colour
    off, FORCE_COLOR on (CI logs that show it), and a stream that is not a terminal gets none otherwise.
    Output that is not a terminal (CI logs, a pipe) gets long lines instead of 80 columns, coloured or not."""
    stream = sys.stderr if stderr else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Console(stderr=stderr) if tty else Console(stderr=stderr, width=200)


# The connection strings a command is given (their secrets are scrubbed from any error it prints).
_URL_PARAMS = ("source", "target_url", "a", "b", "scratch_url")
_URL_ENV = ("PGCONVOY_SOURCE", "PGCONVOY_TARGET")


def user_errors(func: F) -> F:
    """Turn a PgConvoyError into one line on stderr and its exit code; never a traceback. A psycopg error
    that escaped its module is one line too. Both pass `connect.redact`: no secret of a connection
    string the command was given (or project.yml read from the environment) is printed."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PgConvoyError as exc:
            _print_error(exc.message, exc.hint, _sources(kwargs))
            sys.exit(exc.exit_code)
        except Exception as exc:
            psycopg = sys.modules.get("psycopg")
            if psycopg is None or not isinstance(exc, psycopg.Error):
                raise
            _print_error(str(exc).strip().split("\n")[0] or type(exc).__name__, None, _sources(kwargs))
            sys.exit(EXIT_USAGE)

    return wrapper  # type: ignore[return-value]


def _sources(kwargs: dict[str, Any]) -> list[str]:
    given = [kwargs.get(name) for name in _URL_PARAMS] + [os.environ.get(name) for name in _URL_ENV]
    return [value for value in given if isinstance(value, str) and value]


def _print_error(message: str, hint: str | None, sources: list[str]) -> None:
    from rich.markup import escape

    from pgconvoy.connect import redact

    err_console.print(f"[bold red]error:[/] {escape(redact(message, *sources))}", markup=True, soft_wrap=True)
    if hint:
        err_console.print(f"  hint: {redact(hint, *sources)}", soft_wrap=True, markup=False)


class _Group(click.Group):
    """click's own usage errors echo arguments (`Got unexpected extra argument (postgresql://...)`):
    they pass `connect.redact` too, with every argument of the command line as a source."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        argv = list(args)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _shown_redacted(exc, argv) from None
        ctx.meta["pgconvoy.argv"] = argv
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            raise _shown_redacted(exc, ctx.meta.get("pgconvoy.argv", [])) from None


def _shown_redacted(exc: click.ClickException, argv: list[str]) -> click.exceptions.Exit:
    """Print click's error as click would, scrubbed; the exit (same code) for click to perform."""
    from pgconvoy.connect import redact

    shown = io.StringIO()
    exc.show(file=shown)
    click.echo(redact(shown.getvalue(), *argv, *_sources({})), err=True, nl=False)
    return click.exceptions.Exit(exc.exit_code)


def schema_list(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(s.strip() for s in value.split(",") if s.strip())


source_option = click.option(
    "--source", envvar="PGCONVOY_SOURCE", required=True, metavar="URL",
    help="Source database: a postgresql:// URL, a libpq key=value string, or sample:hotel "
    "(the bundled sample, on an embedded server). Env: PGCONVOY_SOURCE.",
)
schemas_option = click.option(
    "--schemas", callback=schema_list, metavar="A,B",
    help="Schemas to read (default: all but system and platform-managed ones such as auth, storage).",
)


def selection_options(func: F) -> F:
    for option in reversed([
        click.option("--select", "-s", multiple=True, metavar="SELECTOR",
                     help="Only these tables: table:schema.name (or a bare name), group:NAME, state:modified; "
                     "globs allowed; +t what t needs, t+ what needs t, @t both (see README, Selection)."),
        click.option("--exclude", multiple=True, metavar="SELECTOR", help="Leave these tables out (same selectors)."),
        click.option("--state", "state_dir", type=click.Path(path_type=Path), metavar="DIR",
                     help="A directory holding an earlier compile's manifest.json, for state:modified."),
    ]):
        func = option(func)
    return func


def _request(select: tuple[str, ...], exclude: tuple[str, ...], state_dir: Path | None) -> Any:
    from pgconvoy.selection import Request

    return Request(tuple(select), tuple(exclude), state_dir)


def _split_checks(select: tuple[str, ...], checks: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """check and build: `--select` values that name checks (rule:…, custom:…, tag:…, a kind) join --checks;
    the others select tables."""
    from pgconvoy.selection import is_check_glob

    return tuple(v for v in select if not is_check_glob(v)), (*checks, *(v for v in select if is_check_glob(v)))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgconvoy")
def main() -> None:
    """Turn a live PostgreSQL database into a reviewed, ordered, verified migration."""


@main.command()
@source_option
@schemas_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid", "dot"]), default="text",
              show_default=True)
@click.option("--rows", type=click.Choice(["exact", "estimate"]), default="exact", show_default=True,
              help="exact: count(*) every table; estimate: the planner's statistics (instant).")
@click.option("--include-managed", is_flag=True, help="Also read platform-managed schemas (auth, storage, ...).")
@click.option("--select", "-s", multiple=True, metavar="SELECTOR",
              help="Only these tables: schema.name (globs), +t what t needs, t+ what needs t, @t both.")
@click.option("--exclude", multiple=True, metavar="SELECTOR", help="Leave these tables out.")
@user_errors
def plan(source: str, schemas: tuple[str, ...] | None, fmt: str, rows: str, include_managed: bool,
         select: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Show the migration order: tables by FK depth, what each blocks, self-references and cycles."""
    from pgconvoy import catalog, graph, selection
    from pgconvoy import plan as planning
    from pgconvoy.connect import connect

    options = catalog.Options(schemas=schemas, include_managed=include_managed,
                              rows="exact" if rows == "exact" else "estimate")
    with connect(source) as conn:
        cat = catalog.introspect(conn, options)
    g = graph.build(cat)
    if select or exclude:
        chosen = selection.select(selection.Request(select, exclude), selection.graph_universe(g))
        cat, g = selection.subgraph(cat, g, chosen.requested)
    if fmt == "json":
        click.echo(planning.to_json(cat, g))
    elif fmt == "mermaid":
        click.echo(planning.to_mermaid(g), nl=False)
    elif fmt == "dot":
        click.echo(planning.to_dot(g), nl=False)
    else:
        planning.render_text(cat, g, make_console())


@main.command()
@source_option
@schemas_option
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write project.yml, groups/ and checks/.")
@click.option("--force", is_flag=True, help="Replace an existing project.yml and groups/*.yml.")
@user_errors
def init(source: str, schemas: tuple[str, ...] | None, directory: Path, force: bool) -> None:
    """Propose groups and an order from the live catalog; write manifests with today's facts as baselines."""
    from pgconvoy import catalog, graph, initproject, roles
    from pgconvoy.connect import connect

    with connect(source) as conn:
        cat = catalog.introspect(conn, catalog.Options(schemas=schemas))
        proposed = roles.proposed(conn, [s.name for s in cat.schemas])
    written = initproject.write(directory, cat, graph.build(cat), source, force=force, roles=proposed)
    console = make_console()
    for path in written:
        console.print(f"wrote {path}")
    console.print(f"Next: review the groups, then run [bold]pgconvoy compile[/] in {directory}.")


project_dir_option = click.option(
    "--project-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path("."),
    show_default=True, help="The directory holding project.yml.",
)


@main.command(name="compile")
@project_dir_option
@click.option("--source", metavar="URL", help="Override project.yml's source.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--warn-error", is_flag=True, default=None, help="Treat warnings as errors.")
@selection_options
@user_errors
def compile_(project_dir: Path, source: str | None, fmt: str, warn_error: bool | None, select: tuple[str, ...],
             exclude: tuple[str, ...], state_dir: Path | None) -> None:
    """Reconcile the manifests with the live catalog and render target/ (nothing is rendered on errors).

    With --select / --exclude, target/ holds the selected tables and every table they reference."""
    from pgconvoy import compiler, findings

    console = make_console(stderr=fmt == "json")
    result = compiler.compile_project(project_dir, source=source, warn_error=warn_error,
                                      console=console if fmt == "text" else None,
                                      select=_request(select, exclude, state_dir))
    if fmt == "json":
        click.echo(findings.to_json(result.findings, result.files, result.target))
    else:
        findings.print_findings(console, result.findings)
        _print_selection(console, result)
        if result.ok and not result.files:
            console.print(f"Nothing selected: {result.target} was left as it was.")
        elif result.ok:
            console.print(f"[green]Compiled[/] {len(result.files)} files into {result.target}")
        else:
            console.print(f"[red]Not compiled:[/] {len(result.findings)} findings, nothing rendered.")
    sys.exit(0 if result.ok else 1)


@main.command()
@project_dir_option
@click.option("--target", "target_url", required=True, envvar="PGCONVOY_TARGET", metavar="URL",
              help="The database to load (env: PGCONVOY_TARGET).")
@click.option("--resume", is_flag=True, help="Skip the files a previous run finished; go on from the failed one.")
@click.option("--only", metavar="GROUP|FILE|GLOB", help="Apply only these files (a group name, a file, a glob).")
@click.option("--allow-nonempty", is_flag=True, help="Load even if the target already holds migrated tables.")
@click.option("--allow-older-target", is_flag=True,
              help="Load into an older major version than the source's (a warning, not an error).")
@click.option("--forget-state", is_flag=True,
              help="Once every file is applied, remove the run state kept in the target (schema pgconvoy).")
@click.option("--source", "source_url", metavar="URL",
              help="Copy the rows from this database, server to server, instead of reading them from target/.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), metavar="N",
              help="Worker processes for --source [default: the machine's cores].")
@user_errors
def run(project_dir: Path, target_url: str, resume: bool, only: str | None, allow_nonempty: bool,
        allow_older_target: bool, forget_state: bool, source_url: str | None, jobs: int | None) -> None:
    """Apply target/ to a database in file order, each file in one transaction; resumable."""
    from pgconvoy import manifest, runner

    loaded = manifest.load_project(project_dir)
    target_dir = project_dir / loaded.project.target
    console = make_console()
    result = runner.run(target_url, target_dir, resume=resume, only=only, allow_nonempty=allow_nonempty,
                        allow_older_target=allow_older_target, forget_state=forget_state, progress=console,
                        source=source_url, jobs=jobs)
    done = [f for f in result.files if f.status == "done"]
    _steps_table(console, target_dir, result)
    console.print(f"[green]Done.[/] {len(done)} files applied, {result.rows:,} rows loaded "
                  f"({len(result.files) - len(done)} skipped).")


@main.command()
@project_dir_option
@click.option("--target", "target_url", required=True, envvar="PGCONVOY_TARGET", metavar="URL",
              help="The database the migration is for (env: PGCONVOY_TARGET).")
@click.option("--format", "fmt", type=click.Choice(["rich", "json"]), default="rich", show_default=True)
@user_errors
def preflight(project_dir: Path, target_url: str, fmt: str) -> None:
    """Check that a target can take target/ (version, privileges, extensions, roles, locks, emptiness),
    in a read-only transaction: nothing is written. Exit 1 when something would fail."""
    from pgconvoy import connect, manifest
    from pgconvoy import preflight as checks
    from pgconvoy.runner import contract

    loaded = manifest.load_project(project_dir)
    plan = contract.read(project_dir / loaded.project.target)
    with connect.connect(target_url) as conn:
        found = checks.findings(conn, plan)
    where = connect.describe(target_url)
    if fmt == "json":
        click.echo(checks.to_json(found, where))
    else:
        checks.print_findings(make_console(), found, where)
    sys.exit(1 if any(f.severity == "error" for f in found) else 0)


def _print_selection(console: Console, compiled: Any) -> None:
    chosen = compiled.selected
    if chosen is not None and compiled.ok:
        console.print(f"Selected {len(chosen.requested)} tables, and {len(chosen.pulled_in)} more they need: "
                      f"{len(chosen.tables)} load.", highlight=False)


def _steps_table(console: Console, target_dir: Path, result: Any) -> None:
    """Wall time per stage of the run, as pgcopydb prints it (run_results.json has it per file)."""
    from rich.table import Table

    from pgconvoy.runner import contract

    steps = {f.name: f.step for f in contract.read(target_dir).files}
    table = Table("stage", "files", "rows", "wall s", "workers", title="run", title_justify="left")
    for stage in ("schema", "data", "post"):
        files = [f for f in result.files if steps.get(f.file) == stage and f.status == "done"]
        if files:
            table.add_row(stage, str(len(files)), f"{sum(f.rows for f in files):,}",
                          f"{sum(f.seconds for f in files):.1f}", str(max(f.workers for f in files)))
    if table.row_count:
        console.print(table)


@main.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@schemas_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--platform-data", "platform_data", default=None, metavar="TABLES",
              help="platform tables whose rows are compared too, comma-separated (default: project.yml "
              "platform_data: of --project-dir, when it has one)")
@click.option("--project-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@user_errors
def compare(a: str, b: str, schemas: tuple[str, ...] | None, fmt: str, platform_data: str | None,
            project_dir: Path | None) -> None:
    """Compare two databases: rows and content checksums per table, schema, policies, sequence positions.

    Exit 0 when they are the same, 1 when anything differs, 2 when the comparison cannot run."""
    from pgconvoy import compare as comparing
    from pgconvoy import manifest, platformdata
    from pgconvoy.catalog.model import Name

    if platform_data is not None:
        tables = [Name.parse(t.strip()) for t in platform_data.split(",") if t.strip()]
    elif project_dir is not None:
        tables = platformdata.names(manifest.load_project(project_dir))
    else:
        tables = []
    result = comparing.compare_urls(a, b, schemas=schemas, platform_tables=tables)
    if fmt == "json":
        click.echo(comparing.to_json(result))
    else:
        comparing.render_text(result, make_console())
    sys.exit(comparing.compare_exit_code(result))


def scratch_options(func: F) -> F:
    for option in reversed([
        click.option("--scratch", "scratch_kind", type=click.Choice(["embedded", "docker", "url"]), default="embedded",
                     show_default=True, help="Where to load target/: an embedded server, a Docker container, "
                     "or an existing empty database (--scratch-url)."),
        click.option("--scratch-url", metavar="URL", help="The empty database for --scratch url."),
        click.option("--image", default="postgres:18", show_default=True,
                     help="Docker image for --scratch docker, e.g. postgres:15 to match production."),
        click.option("--checks", multiple=True, metavar="GLOB",
                     help="Only checks whose name, kind or tag:x match (a --select of rule:…, custom:…, tag:… too)."),
        click.option("--format", "fmt", type=click.Choice(["rich", "json", "junit", "github", "gitlab", "sarif"]),
                     default="rich", show_default=True,
                     help="github: annotations, and a Markdown summary to $GITHUB_STEP_SUMMARY; gitlab: Code "
                     "Quality JSON; sarif: SARIF 2.1.0."),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the report here: json, gitlab, sarif (default: stdout), junit (default: "
                     "target/junit.xml), github: the Markdown summary (default: $GITHUB_STEP_SUMMARY)."),
    ]):
        func = option(func)
    return func


def _report(results: list[Any], fmt: str, output: Path | None, target_dir: Path, project_dir: Path,
            console: Console, *, compiled: bool = True) -> int:
    from pgconvoy import report

    base = _repository_base(project_dir)
    if fmt in ("json", "gitlab", "sarif"):
        text = (report.to_json(results) if fmt == "json" else
                report.to_gitlab(results, base) if fmt == "gitlab" else report.to_sarif(results, base))
        if output is None:
            click.echo(text)
        else:
            _write(output, text + "\n")
            console.print(f"{report.summary_line(results)}\n{fmt} report: {output}")
    elif fmt == "github":
        click.echo(report.to_github(results, base), nl=False)
        summary = output or (Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY")
                             else None)
        if summary is not None:
            groups = report.groups_of(target_dir / "manifest.json") if compiled else []
            text = report.to_markdown(results, groups, base=base, link=report.github_link(os.environ))
            _write(summary, text, append=True)
        console.print(report.summary_line(results))
    elif fmt == "junit":
        path = output or target_dir / "junit.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        report.to_junit(results, path)
        console.print(f"{report.summary_line(results)}\nJUnit report: {path}")
    else:
        console.print(report.summary_line(results))
    return report.exit_code(results)


def _write(path: Path, text: str, *, append: bool = False) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise PgConvoyError(f"{path}: cannot write the report ({exc.strerror})") from None


def _repository_base(project_dir: Path) -> str:
    """The project directory as a path from where the command runs (a workflow runs at the repository's
    root): what the reports prefix to the manifests' files. "" for the current directory."""
    here = Path.cwd().resolve()
    where = project_dir.resolve()
    if not where.is_relative_to(here):
        return where.as_posix()
    rel = where.relative_to(here).as_posix()
    return "" if rel == "." else rel


def _printer(fmt: str, console: Console) -> Any:
    from pgconvoy import report

    if fmt != "rich":
        return None
    return lambda i, n, r: report.print_result(console, i, n, r)


@main.command()
@project_dir_option
@click.option("--target", "target_url", metavar="URL", help="Check this database instead of a scratch one.")
@scratch_options
@selection_options
@user_errors
def check(project_dir: Path, target_url: str | None, scratch_kind: str, scratch_url: str | None, image: str,
          checks: tuple[str, ...], fmt: str, output: Path | None, select: tuple[str, ...], exclude: tuple[str, ...],
          state_dir: Path | None) -> None:
    """Run the project's checks on --target, or on a scratch database loaded from target/.

    With --select / --exclude, only the checks of the selected tables (of target/manifest.json) run.
    Exit 0 when every check passes (warnings allowed), 1 when one fails, 2 when they cannot run."""
    from pgconvoy import gate, manifest

    loaded = manifest.load_project(project_dir)
    console = make_console(stderr=fmt != "rich")
    on_result = _printer(fmt, console)
    tables_select, check_globs = _split_checks(select, checks)
    tables = _checked_tables(project_dir / loaded.project.target, _request(tables_select, exclude, state_dir))
    if target_url:
        results = gate.check_database(target_url, loaded, select=check_globs or None, on_result=on_result,
                                      tables=tables)
    else:
        options = gate.ScratchOptions(scratch_kind, scratch_url, image)  # type: ignore[arg-type]
        results = gate.check_scratch(project_dir, loaded, options, select=check_globs or None,
                                     on_result=on_result, progress=console if fmt == "rich" else None, tables=tables)
    sys.exit(_report(results, fmt, output, project_dir / loaded.project.target, project_dir, console))


def _checked_tables(target_dir: Path, request: Any) -> frozenset[Any] | None:
    """The tables `check --select` means, among those target/manifest.json lists; None: all."""
    if not request.active:
        return None
    from pgconvoy import contracts, selection
    from pgconvoy.compiler import MANIFEST_JSON

    doc = contracts.load(contracts.ManifestDoc, target_dir / MANIFEST_JSON)
    previous = selection.previous_state(request.state) if request.state is not None else None
    return selection.select(request, selection.manifest_universe(doc, previous)).requested


@main.command()
@project_dir_option
@scratch_options
@selection_options
@user_errors
def build(project_dir: Path, scratch_kind: str, scratch_url: str | None, image: str, checks: tuple[str, ...],
          fmt: str, output: Path | None, select: tuple[str, ...], exclude: tuple[str, ...],
          state_dir: Path | None) -> None:
    """compile, run target/ into a scratch database, and check it: the pull-request gate.

    With --select / --exclude, only the selected tables and what they reference are compiled and loaded, and
    only their checks run (`--select state:modified+ --state DIR`: what changed since DIR's manifest.json).
    Exit 0 when it compiles and every check passes, 1 on error findings or a failed check, 2 when it cannot run."""
    from pgconvoy import findings, gate

    console = make_console(stderr=fmt != "rich")
    options = gate.ScratchOptions(scratch_kind, scratch_url, image)  # type: ignore[arg-type]
    tables_select, check_globs = _split_checks(select, checks)
    compiled, results = gate.build(project_dir, options, select=check_globs or None,
                                   on_result=_printer(fmt, console), progress=console if fmt == "rich" else None,
                                   request=_request(tables_select, exclude, state_dir))
    _print_selection(console, compiled)
    if compiled.ok and compiled.selected is not None and not compiled.selected.tables:
        console.print("Nothing selected: nothing to compile, load or check.")
        sys.exit(0)
    if not compiled.ok:
        findings.print_findings(console, compiled.findings)
        console.print("[red]Not compiled:[/] fix the error findings; nothing was loaded or checked.")
        if fmt != "rich":  # the findings where the reviewers look, as the checks' would be
            from pgconvoy import report

            _report(report.compile_results(compiled.findings), fmt, output, compiled.target, project_dir, console,
                    compiled=False)
        sys.exit(1)
    sys.exit(_report(results, fmt, output, compiled.target, project_dir, console))


@main.command()
@project_dir_option
@user_errors
def docs(project_dir: Path) -> None:
    """Write target/docs/index.html from target/manifest.json: the FK graph by group and depth, rows per
    group, the tables and their findings, in one page that needs no network (no database either)."""
    from pgconvoy import docs as documenting

    page = documenting.write_docs(project_dir)
    make_console().print(f"wrote {page}")


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path(".schemas"),
              show_default=True, help="Where to write the schemas.")
@user_errors
def schema(directory: Path) -> None:
    """Write the JSON Schemas of the manifests (project, group, checks: for editors, e.g. YAML language
    servers) and of the artifacts compile and run write (manifest.json, run_results.json: for tools that
    read them).

    With the YAML extension of VS Code: `# yaml-language-server: $schema=.schemas/group.schema.json`
    at the top of a group file."""
    import json

    from pgconvoy import contracts, manifest

    directory.mkdir(parents=True, exist_ok=True)
    documents = {f"{kind}.schema.json": manifest.json_schema(kind) for kind in ("project", "group", "checks")}
    documents |= {f"{kind}.schema.json": contracts.json_schema(kind) for kind in contracts.ARTIFACTS}
    for name, document in documents.items():
        path = directory / name
        path.write_text(json.dumps(document, indent=2) + "\n")
        click.echo(f"wrote {path}")


@main.command(name="rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@user_errors
def rules_(fmt: str) -> None:
    """List every rule: code, name, default level, where it runs, what it finds and the fix, and the
    remediation pages of the lints Supabase's linter has too.

    project.yml `lints:` sets a rule's level by code or name (error, warn, info, off), for compile and
    check alike."""
    import json

    from rich.markup import escape
    from rich.table import Table

    from pgconvoy.rules import all_rules
    from pgconvoy.rules.docs import as_json, markdown

    if fmt == "json":
        click.echo(json.dumps(as_json(), indent=2))
        return
    if fmt == "markdown":
        click.echo(markdown(), nl=False)
        return
    table = Table("code", "name", "level", "runs at", "finds", "fix", box=None, show_edge=False)
    for r in all_rules():
        table.add_row(r.code, r.name, r.level, r.stage, escape(r.summary), escape(r.fix))
    console = make_console()
    console.print(table)
    linked = [r for r in all_rules() if r.link]
    if linked:
        # whole, one per line: a URL cut to the terminal's width is no link
        console.print("\nHow to fix them, on the page of Supabase's linter:")
        for r in linked:
            console.print(f"  {r.code} {r.name}: {r.link}", soft_wrap=True, highlight=False, markup=False)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
