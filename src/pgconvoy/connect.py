"""Connection strings: parse, redact, resolve `sample:` URLs, and connect with errors a person can act on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pgconvoy.errors import ConnectionFailed

SAMPLE_PREFIX = "sample:"
_APPLICATION_NAME = "pgconvoy"


def redact(url: str) -> str:
    """The connection string as it is safe to print: any password replaced by `***`."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
    if "password" not in params:
        return url
    if "://" in url:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", re.sub(r"password=[^&\s]*", "password=***", url))
    return re.sub(r"password\s*=\s*('[^']*'|\S+)", "password=***", url)


def describe(url: str) -> str:
    """A short name for a connection, e.g. `postgres@db.example.com:5432/app`; never shows a password."""
    if url.startswith(SAMPLE_PREFIX):
        return url
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return redact(url)
    user = str(params.get("user") or "")
    host = str(params.get("host") or "local socket")
    port = f":{params['port']}" if params.get("port") else ""
    db = str(params.get("dbname") or user or "(default database)")
    return f"{user + '@' if user else ''}{host}{port}/{db}"


def resolve(url: str) -> str:
    """A libpq connection string for `url`; `sample:NAME` starts (or reuses) the embedded sample server."""
    if url.startswith(SAMPLE_PREFIX):
        from pgconvoy import samples

        return samples.ensure(url.removeprefix(SAMPLE_PREFIX))
    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConnectionFailed(
            f"invalid connection string {redact(url)!r}: {_first_line(str(exc))}",
            hint="use a URL such as postgresql://user:password@host:5432/dbname, or sample:hotel",
        ) from None
    return url


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection[object]]:
    """Open a connection to `url` (a URL, a key=value string or `sample:NAME`), closing it afterwards."""
    conninfo = resolve(url)
    try:
        conn = psycopg.connect(
            make_conninfo(conninfo, application_name=_APPLICATION_NAME, connect_timeout="10"),
            autocommit=autocommit,
        )
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(
            f"cannot connect to {describe(url)}: {_reason(str(exc), conninfo)}"
        ) from None
    with conn:
        yield conn


def _reason(message: str, conninfo: str) -> str:
    """The useful part of a libpq error, with any password scrubbed out."""
    password = conninfo_to_dict(conninfo).get("password")
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    text = lines[-1] if lines else message
    for line in lines:
        if "FATAL" in line or "could not" in line or "failed" in line:
            text = line
    text = re.sub(r'^connection to server .*? failed:\s*', "", text)
    if password:
        text = text.replace(str(password), "***")
    return text


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message
