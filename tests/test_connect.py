"""connect.redact over every shape a secret can take, and libpq's usual ways to give credentials
(PGPASSWORD, a password file, a service file) working for pgconvoy and for the pg_dump it runs.

The credential tests use a server of their own whose pg_hba.conf asks one role for its password
(scram-sha-256): the session server trusts everyone, so a test there could not fail.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import invoke
from pgconvoy import embedded, initproject, manifest
from pgconvoy.archive.dump import DumpFailed, DumpOptions, Pending, dump
from pgconvoy.connect import connect, describe, redact, resolve, secret_keys
from pgconvoy.errors import ConnectionFailed

SECRET = "S3cr3t-Value"

# --- redact: the shapes -----------------------------------------------------------------------------

# (text, redact(text, text)): the connection string as it is safe to print; user, host, port and
# database stay readable.
SHAPES = [
    (f"postgresql://app:{SECRET}@db.example.com:5432/app", "postgresql://app:***@db.example.com:5432/app"),
    (f"postgres://app:{SECRET}@h1:5432,h2:5433/app?sslmode=require",
     "postgres://app:***@h1:5432,h2:5433/app?sslmode=require"),
    (f"postgresql://app:{SECRET}%21@h/db", "postgresql://app:***@h/db"),  # percent-encoded
    (f"postgresql://app:{SECRET}@h@h2/db", "postgresql://app:***@h2/db"),  # a raw @ in the password
    (f"postgresql://app@h/db?password={SECRET}", "postgresql://app@h/db?password=***"),
    (f"postgresql://app@h/db?sslmode=require&sslpassword={SECRET}&port=5",
     "postgresql://app@h/db?sslmode=require&sslpassword=***&port=5"),
    (f"postgresql://app@h/db?passwd={SECRET}", "postgresql://app@h/db?passwd=***"),  # typo'd key
    (f"postgresql://app@h/db?dbnmae={SECRET}", "postgresql://app@h/db?dbnmae=***"),  # unknown key
    (f"host=h user=app password={SECRET} dbname=app", "host=h user=app password=*** dbname=app"),
    (f"host=h password = '{SECRET} with spaces' dbname=app", "host=h password = *** dbname=app"),
    (f"host=h password='{SECRET}\\' quoted' dbname=app", "host=h password=*** dbname=app"),
    (f"host=h password='{SECRET}", "host=h password=***"),  # unterminated quote
    (f"host=h password={SECRET} tail dbname=app", "host=h password=*** dbname=app"),  # `a b`, unquoted
    (f"host=h sslpassword={SECRET}", "host=h sslpassword=***"),
    (f"host=h oauth_client_secret={SECRET}", "host=h oauth_client_secret=***"),
    (f"host=h scram_client_key={SECRET}", "host=h scram_client_key=***"),
    (f"host=h pasword={SECRET} dbname=x", "host=h pasword=*** dbname=x"),
    (f"host=h pssword={SECRET} dbname=x", "host=h pssword=*** dbname=x"),  # a near miss of "password"
    (f'host=h password=x"{SECRET} dbname=app', "host=h password=*** dbname=app"),  # a quote inside: one value
    (f"host=h password=x'{SECRET}=1 dbname=app", "host=h password=*** dbname=app"),  # and an =
    (f"host=h PASSWORD={SECRET}", "host=h PASSWORD=***"),
    (f"host=h pwd={SECRET}", "host=h pwd=***"),
    (f"host=h client_secret={SECRET}", "host=h client_secret=***"),
    (f"host=h dbnmae={SECRET}", "host=h dbnmae=***"),  # unknown to libpq: may be the password
    (f"app:{SECRET}@host/db", "app:***@host/db"),  # the scheme forgotten
    (f"postgresql://app:{SECRET}/db", "postgresql://app:***/db"),  # the host forgotten: libpq's port
    (f"postgresql://u:pre/{SECRET}@h/db", "postgresql://u:***@h/db"),  # a raw / in the password
]

# Never touched: nothing in them is a secret.
CLEAN = [
    "host=/tmp/pg port=5432 user=app dbname=app sslmode=require",
    "host=h passfile=/home/app/.pgpass dbname=app",
    "postgresql://app@db.example.com:5432/app?sslmode=verify-full&application_name=x",
    "postgresql://postgres:@/postgres?host=/tmp/pgdata",
    "service=prod dbname=app",
    "sample:hotel",
]
CLEAN_MESSAGES = [
    'relation "public.accounts" does not exist',
    "check rows: expected 42, found 41 (tolerance=0)",
    'password authentication failed for user "app"',
    'password file "/home/app/.pgpass" has group or world access; permissions should be u=rw (0600) or less',
    "cannot connect to app@db:5432/app: Connection refused",
]


@pytest.mark.parametrize(("text", "expected"), SHAPES)
def test_redact_hides_every_shape(text: str, expected: str) -> None:
    assert redact(text, text) == expected


@pytest.mark.parametrize(
    "text", [t for t, _ in SHAPES if "dbnmae" not in t and not t.startswith("app:") and "u:pre/" not in t
             and "app:S3cr3t-Value/" not in t and "password=x" not in t],
)
def test_redact_needs_no_source_for_the_usual_shapes(text: str) -> None:
    """The shapes a message can show on its own are found in the message itself (no source given). The
    others (an unknown key, a URL without scheme or host, a quote inside a value) need the raw source:
    `test_redact_hides_every_shape` passes it."""
    assert SECRET not in redact(text)


@pytest.mark.parametrize("text", CLEAN)
def test_redact_leaves_clean_text_alone(text: str) -> None:
    assert redact(text, text) == text


@pytest.mark.parametrize("message", CLEAN_MESSAGES)
def test_redact_leaves_clean_messages_alone(message: str) -> None:
    assert redact(message, *CLEAN) == message


@pytest.mark.parametrize("text", [t for t, _ in SHAPES])
def test_redact_scrubs_the_source_from_any_message(text: str) -> None:
    """Whatever a message says around them, the source's secrets are replaced in it: the values libpq
    reads when it parses the source, the literal text otherwise."""
    try:
        secrets = [str(v) for k, v in conninfo_to_dict(text).items() if k in secret_keys(text)]
    except psycopg.ProgrammingError:
        secrets = []
    secrets = secrets or [SECRET]  # unparsable, or libpq reads the secret as something else (a port)
    assert all(SECRET in s for s in secrets)
    message = "error: got " + " and ".join(f'"{s}" then {s}: ' for s in secrets) + "done"
    redacted = redact(message, text)
    assert not any(s in redacted for s in secrets), redacted
    assert redacted.startswith("error: got ") and redacted.endswith("done")


# libpq's own messages echo pieces of a malformed string: every one of these holds the secret unscrubbed.
MALFORMED = [
    f"postgresql://app:{SECRET}%zz@h/db",  # invalid percent-encoded token: "<secret>%zz"
    f"postgresql://app:{SECRET}%00@h/db",  # forbidden value %00 in percent-encoded value
    f"postgresql://app@h/db?password={SECRET}%zz",
    f"postgresql://app:{SECRET}@[::1/db",  # end of string reached when looking for matching "]"
    f"app:{SECRET}@host/db",  # missing "=" after "app:<secret>@host/db"
    f"host=h password=x {SECRET}",  # missing "=" after "<secret>" (meant: password='x <secret>')
]


@pytest.mark.parametrize("url", MALFORMED)
def test_libpq_messages_are_scrubbed(url: str) -> None:
    with pytest.raises(psycopg.ProgrammingError) as raised:
        conninfo_to_dict(url)
    assert SECRET in str(raised.value)  # libpq does echo it: the scrub is needed
    assert SECRET not in redact(str(raised.value), url)
    with pytest.raises(ConnectionFailed) as failed:
        resolve(url)
    assert SECRET not in failed.value.message + (failed.value.hint or "")
    assert failed.value.message.startswith("invalid connection string")


@pytest.mark.parametrize(("url", "expected"), [
    (f"postgresql://app:{SECRET}@db:5432/app", "app@db:5432/app"),
    (f"host=db user=app sslpassword={SECRET} dbname=app", "app@db/app"),
    (f"postgresql://app:{SECRET}/db", "app:***/db"),  # parses (host app, port = the password)
    (f"host=db pasword={SECRET}", "host=db pasword=***"),  # unparsable: the string, scrubbed
    ("service=prod", "service=prod"),
])
def test_describe_never_shows_a_secret(url: str, expected: str) -> None:
    assert describe(url) == expected


@pytest.mark.parametrize(("url", "keys"), [
    ("host=h dbname=app", []),
    ("host=h passfile=/x/.pgpass", []),
    ("sample:hotel", []),
    (f"host=h password={SECRET}", ["password"]),
    (f"host=h sslpassword={SECRET}", ["sslpassword"]),
    (f"postgresql://app@h/db?password={SECRET}", ["password"]),
    (f"postgresql://app:{SECRET}@h/db", ["password"]),
    ("host=h password=", ["password"]),  # an empty password is still a password key
    (f"host=h pasword={SECRET}", ["password"]),  # unparsable, and a secret is there
])
def test_secret_keys(url: str, keys: list[str]) -> None:
    assert secret_keys(url) == keys


@pytest.mark.parametrize("source", [
    "host='/tmp/a b' dbname=x",
    "host=/tmp/pg dbname='it\\'s' options='-c search_path=a\\\\b'",
    "postgresql://app@h/db?application_name=a%27b",
    "host=/tmp/pg dbname=x options='-c x={{y}}'",
    "sample:hotel",
])
def test_project_source_round_trips_through_project_yml(source: str, tmp_path: Path) -> None:
    """init writes the source as PGCONVOY_SOURCE's default, quoted for Jinja: it reads back as written."""
    text = initproject.project_source(source)
    (tmp_path / "project.yml").write_text(yaml.safe_dump({"name": "t", "source": text}))
    (tmp_path / "groups").mkdir()
    (tmp_path / "groups" / "01-a.yml").write_text("tables: [t]\n")
    assert manifest.load_project(tmp_path).project.source == source


@pytest.mark.parametrize("source", [
    f"host=h password={SECRET}", f"host=h sslpassword={SECRET}", f"postgresql://a:{SECRET}@h/db",
    f"postgresql://a@h/db?sslpassword={SECRET}", f"host=h oauth_client_secret={SECRET}",
])
def test_project_source_never_holds_a_secret(source: str) -> None:
    assert initproject.project_source(source) == "{{ env_var('PGCONVOY_SOURCE') }}"


def test_pg_dump_messages_are_scrubbed() -> None:
    """What pg_dump prints on failure is scrubbed of the connection string's secrets. The process here
    stands in for pg_dump to print what it would take a broken libpq to print: the secret itself."""
    conninfo = f"host=h user=app password={SECRET} sslpassword=other-{SECRET}"
    script = (f"import sys; sys.stderr.write('pg_dump: error: conninfo host=h password={SECRET} "
              f"sslpassword=other-{SECRET} rejected, {SECRET}\\n'); sys.exit(1)")
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with pytest.raises(DumpFailed) as raised:
        Pending(process, conninfo).result()
    assert SECRET not in raised.value.message
    assert raised.value.message.startswith("pg_dump failed: error: conninfo host=h password=***")


# --- credentials from the environment ------------------------------------------------------------------

ROLE = "pgconvoy_pw"
ROLE_PASSWORD = "Role-S3cr3t-pw"


@dataclass(frozen=True)
class PasswordServer:
    socket_dir: str
    dbname: str

    @property
    def url(self) -> str:
        """The role's connection string, without its password."""
        return make_conninfo("", host=self.socket_dir, user=ROLE, dbname=self.dbname)


@pytest.fixture(scope="module")
def password_server() -> Iterator[PasswordServer]:
    """A server of its own where ROLE must give its password (scram-sha-256). It listens on its Unix
    socket only, as every embedded server does."""
    pgdata = Path(tempfile.mkdtemp(prefix="pgconvoy-pw-")) / "pgdata"
    base = embedded.start(pgdata, delete_on_exit=True)
    hba = pgdata / "pg_hba.conf"
    hba.write_text(f"local all {ROLE} scram-sha-256\n" + hba.read_text())
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE_PASSWORD}'")
        conn.execute(f"CREATE DATABASE pwdb OWNER {ROLE} TEMPLATE template0")
        conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(make_conninfo(base, dbname="pwdb")) as conn:
        conn.execute(f"CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t OWNER TO {ROLE}; INSERT INTO t VALUES (1)")
    yield PasswordServer(str(conninfo_to_dict(base)["host"]), "pwdb")


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No password from the caller's environment: no PGPASSWORD, no password or service file."""
    for name in ("PGPASSWORD", "PGSERVICE", "PGUSER", "PGHOST", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "no-service-file"))
    return tmp_path


def _server_user(url: str) -> str:
    with connect(url) as conn:
        row = conn.execute("SELECT current_user").fetchone()
    assert row is not None
    return str(row[0])


def test_password_is_really_asked_for(password_server: PasswordServer, no_credentials: Path) -> None:
    """The control: without a password the role cannot connect, so the tests below can fail."""
    with pytest.raises(ConnectionFailed, match="password"):
        _server_user(password_server.url)
    with pytest.raises(DumpFailed, match="password"):
        dump(password_server.url, DumpOptions())
    with pytest.raises(ConnectionFailed, match="password authentication failed"):
        _server_user(password_server.url + " password=wrong-" + SECRET)


def test_pgpassword(password_server: PasswordServer, no_credentials: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", ROLE_PASSWORD)
    assert _server_user(password_server.url) == ROLE
    assert dump(password_server.url, DumpOptions()).server_version  # pg_dump got it from the environment


def test_password_file(password_server: PasswordServer, no_credentials: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    passfile = no_credentials / "pgpass"
    passfile.write_text(f"{password_server.socket_dir}:*:{password_server.dbname}:{ROLE}:{ROLE_PASSWORD}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert _server_user(password_server.url) == ROLE
    assert dump(password_server.url, DumpOptions()).server_version


def test_service_file(password_server: PasswordServer, no_credentials: Path, monkeypatch: pytest.MonkeyPatch,
                      tmp_path: Path) -> None:
    service_file = no_credentials / "pg_service.conf"
    service_file.write_text(f"[pgconvoy_test]\nhost={password_server.socket_dir}\ndbname={password_server.dbname}\n"
                            f"user={ROLE}\npassword={ROLE_PASSWORD}\n")
    monkeypatch.setenv("PGSERVICEFILE", str(service_file))
    assert _server_user("service=pgconvoy_test") == ROLE
    assert dump("service=pgconvoy_test", DumpOptions()).server_version
    # the CLI end to end: plan reads the catalog, compare also runs pg_dump on both sides
    result = invoke("plan", "--source", "service=pgconvoy_test", "--format", "json")
    assert result.exit_code == 0, result.output
    result = invoke("compare", "service=pgconvoy_test", "service=pgconvoy_test")
    assert result.exit_code == 0, result.output
    # init keeps such a source (no secret in it), and compile reads it back
    result = invoke("init", "--source", "service=pgconvoy_test", "--dir", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    project = yaml.safe_load((tmp_path / "p" / "project.yml").read_text())
    assert project["source"] == "{{ env_var('PGCONVOY_SOURCE', 'service=pgconvoy_test') }}"
    assert manifest.load_project(tmp_path / "p").project.source == "service=pgconvoy_test"

