"""Connection strings: parse, redact, resolve `sample:` URLs, and connect with errors a person can act on."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgconvoy.errors import ConnectionFailed

SAMPLE_PREFIX = "sample:"
REDACTED = "***"
_APPLICATION_NAME = "pgconvoy"

# --- redaction ---------------------------------------------------------------------------------------
#
# One function, `redact(text, *sources)`, for every message that can carry a connection string or an
# error of libpq, psycopg or pg_dump. Two passes over `text`:
#
# 1. shapes: in the text itself, the value of every secret-looking key in the three spellings of a
#    connection string: URL userinfo (`scheme://user:SECRET@`), URL query (`?password=SECRET&...`) and
#    key=value (`password = 'SECRET'`, quoted or not, terminated or not);
# 2. literals: a typo'd string cannot be parsed, and libpq then echoes pieces of it on its own
#    (`invalid percent-encoded token: "SECRET%zz"`, `missing "=" after "app:SECRET@host"`), so every
#    secret value a forgiving scan finds in the raw `sources` (and in the text) is replaced wherever
#    it occurs, in each spelling libpq may print (raw, percent-decoded, unescaped).
#
# A key is secret when libpq displays it as a password (`password`, `sslpassword`, `oauth_client_secret`),
# when it is a SCRAM key, when its name looks like a password (contains "pass", "pwd" or "secret", or is
# a near miss of "password": `pasword`, `pssword`), except `passfile` (a path); in a source, every key
# libpq does not know is secret too: a typo'd key hides what it was meant to be.

_NOT_SECRET = frozenset({"passfile"})
_SCRAM_KEYS = frozenset({"scram_client_key", "scram_server_key"})
_KEY = r"[A-Za-z_][\w.-]*"
# key=value: the key starts a word; a quoted value runs to its closing quote (or the end: unterminated),
# an unquoted one to whitespace; backslash escapes the next character in both, as in libpq.
_QUOTED = r"'(?:\\.|[^'\\])*(?:'|\\?$)"
_KV_SOURCE = re.compile(rf"(?<![^\s'\"(])(?P<key>{_KEY})\s*=\s*(?P<secret>{_QUOTED}|(?:\\.|[^\s\\])*\\?)", re.S)
_KV_TEXT = re.compile(rf"(?<![\w.?&-])(?P<key>{_KEY})(?P<eq>\s*=\s*)(?P<secret>{_QUOTED}|(?:\\.|[^\s'\"\\])+)", re.S)
_QUERY = re.compile(rf"(?P<sep>[?&])(?P<key>{_KEY})=(?P<secret>[^&#\s'\"]*)")
# userinfo: scheme optional in a source (libpq echoes `app:SECRET@host` when the scheme is missing);
# greedy to the token's last `@`, since a raw `@` in a password is where libpq splits it.
_USERINFO_SOURCE = re.compile(r"(?<![\w+.-])(?:[A-Za-z][\w+.-]*://)?[^\s:/@'\"=]*:(?!//)(?P<secret>\S+)@")
_USERINFO_TEXT = re.compile(r"(?<![\w+.-])(?P<head>[A-Za-z][\w+.-]*://[^\s:/@'\"]*:)(?P<secret>\S+)@")
# `scheme://user:SECRET/db` (the host forgotten): libpq reads SECRET as the port and says so.
_PORTLIKE = re.compile(r"(?<![\w+.-])[A-Za-z][\w+.-]*://[^\s:/@?]*:(?P<secret>[^\s/@?#,]*)(?=[/?#\s]|$)")
_URL_PIECES = re.compile(r"[/@:?#&=]")
_UNESCAPE = re.compile(r"\\(.)", re.S)
_CLOSED = re.compile(r"'(?:\\.|[^'\\])*'", re.S)


def redact(text: str, *sources: str) -> str:
    """`text` as it is safe to print: every secret in it replaced by `***` (see the comment above).

    `text` is a message or a connection string; `sources` are the raw strings the user gave (connection
    strings, typo'd or not) whose secret values must not appear in `text` in any spelling."""
    secrets = _secret_values(text, unknown_is_secret=False)
    for source in sources:
        secrets |= _secret_values(source, unknown_is_secret=True)
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
        else:  # a short value only where it stands alone, not inside every word that contains it
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", REDACTED, text)
    text = _USERINFO_TEXT.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    text = _QUERY.sub(lambda m: f"{m['sep']}{m['key']}={REDACTED}" if _secret_name(m["key"]) else m[0], text)
    return _KV_TEXT.sub(lambda m: f"{m['key']}{m['eq']}{REDACTED}" if _secret_name(m["key"]) else m[0], text)


def secret_keys(url: str) -> list[str]:
    """The secret-bearing keys of a connection string (`password`, `sslpassword`, ...), or of what a
    forgiving scan reads in it when libpq cannot parse it: never empty for a string that carries one."""
    if url.startswith(SAMPLE_PREFIX):
        return []
    try:
        keys = [k for k, v in conninfo_to_dict(url).items() if v is not None and _secret_key(k)]
    except psycopg.ProgrammingError:
        keys = []
    if not keys and _secret_values(url, unknown_is_secret=True):
        keys = ["password"]
    return keys


def _secret_values(text: str, *, unknown_is_secret: bool) -> set[str]:
    """Every value in `text` that may be a secret, in each spelling it may be printed in.

    In a source (`unknown_is_secret`): also keys libpq does not know, userinfo without a scheme, a
    port that is no number, and the words after an unquoted value (`password=a b`)."""
    source = unknown_is_secret
    is_secret = _secret_key if source else _secret_name
    found: set[str] = set()
    for m in (_USERINFO_SOURCE if source else _USERINFO_TEXT).finditer(text):
        found |= _url_spellings(m["secret"])
    if source:
        for m in _PORTLIKE.finditer(text):
            token = text[m.start():].split(maxsplit=1)[0]
            if not m["secret"].isdigit() and "@" not in token:
                found |= _url_spellings(m["secret"])
    for m in _QUERY.finditer(text):
        if is_secret(m["key"]):
            found |= _url_spellings(m["secret"])
            if source:
                found |= _following_words(text, m.end(), m["secret"])
    for m in (_KV_SOURCE if source else _KV_TEXT).finditer(text):
        if not is_secret(m["key"]):
            continue
        value = m["secret"]
        if value.startswith("'"):
            inner = value[1:-1] if _CLOSED.fullmatch(value) else value[1:]
            found |= {inner, _UNESCAPE.sub(r"\1", inner), *inner.split()[:1]}
        else:
            found |= {value, _UNESCAPE.sub(r"\1", value)}
            if source:
                found |= _following_words(text, m.end(), value)
    return {v for v in found if v.strip() and v != REDACTED}


def _url_spellings(value: str) -> set[str]:
    """A URL part as written and percent-decoded, and its pieces (libpq splits a raw `/` or `@`)."""
    pieces = {p for p in _URL_PIECES.split(value) if len(p) >= 3}
    return {value, unquote(value), *pieces}


def _following_words(text: str, end: int, value: str) -> set[str]:
    """An unquoted value followed by words without `=`: `password=a b` was probably meant as `a b`, and
    libpq says `missing "=" after "b"`."""
    words: list[str] = []
    for word in text[end:].split():
        if "=" in word:
            break
        words.append(word)
    return {*words, " ".join([value, *words]).strip()} if words else set()


def _secret_name(key: str) -> bool:
    """Whether a key's name says it holds a secret (whether or not libpq knows it)."""
    k = key.lower()
    if k in _NOT_SECRET:
        return False
    if k in _password_keywords() or k in _SCRAM_KEYS or any(w in k for w in ("pass", "pasw", "pw", "secret")):
        return True
    return any(difflib.SequenceMatcher(None, k, word).ratio() >= 0.8 for word in ("password", "sslpassword"))


def _secret_key(key: str) -> bool:
    """Whether a key of a connection string may hold a secret: a secret name, or a key libpq does not
    know (a typo, whose value may be the password it was meant to be)."""
    return _secret_name(key) or key not in _libpq_keywords()


@functools.cache
def _libpq_keywords() -> frozenset[str]:
    return frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults()) | {"ssl"}  # ssl: URI alias


@functools.cache
def _password_keywords() -> frozenset[str]:
    """What libpq itself hides (dispchar `*`): password, sslpassword, oauth_client_secret."""
    return frozenset(o.keyword.decode() for o in pq.Conninfo.get_defaults() if o.dispchar == b"*")


# --- connection strings ------------------------------------------------------------------------------


def describe(url: str) -> str:
    """A short name for a connection, e.g. `postgres@db.example.com:5432/app`; never shows a password."""
    if url.startswith(SAMPLE_PREFIX):
        return url
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return redact(url, url)
    if params.get("service") and not params.get("host"):
        return redact(f"service={params['service']}", url)  # the service file says where
    user = str(params.get("user") or "")
    host = str(params.get("host") or "local socket")
    port = f":{params['port']}" if params.get("port") else ""
    db = str(params.get("dbname") or user or "(default database)")
    # `postgresql://u:pw/db` parses (host u, port pw): what libpq read may still be the password
    return redact(f"{user + '@' if user else ''}{host}{port}/{db}", url)


def resolve(url: str) -> str:
    """A libpq connection string for `url`; `sample:NAME` starts (or reuses) the embedded sample server."""
    if url.startswith(SAMPLE_PREFIX):
        from pgconvoy import samples

        return samples.ensure(url.removeprefix(SAMPLE_PREFIX))
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConnectionFailed(
            f"invalid connection string {redact(url, url)!r}: {redact(_first_line(str(exc)), url)}",
            hint="use a URL such as postgresql://user@host:5432/dbname (the password in PGPASSWORD or "
            "~/.pgpass), key=value pairs such as 'host=db dbname=app', or sample:hotel",
        ) from None
    return url


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection[object]]:
    """Open a connection to `url` (a URL, a key=value string or `sample:NAME`), closing it afterwards.

    The environment is libpq's to read: PGPASSWORD, PGPASSFILE (~/.pgpass), PGSERVICE and
    PGSERVICEFILE (`service=NAME`) work as they do for psql."""
    conninfo = resolve(url)
    try:
        conn = psycopg.connect(
            make_conninfo(conninfo, application_name=_APPLICATION_NAME, connect_timeout="10"),
            autocommit=autocommit,
        )
    except psycopg.Error as exc:
        raise ConnectionFailed(
            f"cannot connect to {describe(url)}: {_reason(str(exc), conninfo, url)}"
        ) from None
    with conn:
        yield conn


def _reason(message: str, *sources: str) -> str:
    """The useful part of a libpq error, with any secret scrubbed out."""
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else message
    for line in lines:
        if "FATAL" in line or "could not" in line or "failed" in line:
            text = line
    text = re.sub(r'^connection to server .*? failed:\s*', "", text)
    return redact(text, *sources)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message
