"""Parse PostgreSQL `aclitem` text (`grantee=privileges/grantor`) into grants."""

from __future__ import annotations

from collections.abc import Iterable

from pgconvoy.catalog.model import Grant

PRIVILEGES = {
    "r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
    "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY",
    "m": "MAINTAIN", "s": "SET", "A": "ALTER SYSTEM",
}


def parse_acl(items: Iterable[str] | None, owner: str | None = None) -> tuple[Grant, ...]:
    """Grants from an ACL array, leaving out what the owner holds by default (what it granted itself)."""
    grants: list[Grant] = []
    for item in items or ():
        grantee, privileges, grantor = _split(item)
        if owner is not None and grantee == owner and grantor == owner:
            continue
        i = 0
        while i < len(privileges):
            grantable = i + 1 < len(privileges) and privileges[i + 1] == "*"
            grants.append(Grant(grantee or "PUBLIC", PRIVILEGES.get(privileges[i], privileges[i]), grantable))
            i += 2 if grantable else 1
    return tuple(sorted(grants, key=lambda g: (g.grantee, g.privilege)))


def _split(item: str) -> tuple[str, str, str]:
    """`"odd=role"=arw/owner` -> ('odd=role', 'arw', 'owner'), honouring double-quoted role names."""
    grantee, rest = _take_name(item)
    privileges, _, grantor_text = rest.removeprefix("=").partition("/")
    grantor, _ = _take_name(grantor_text)
    return grantee, privileges, grantor


def _take_name(text: str) -> tuple[str, str]:
    if not text.startswith('"'):
        for i, ch in enumerate(text):
            if ch in "=/":
                return text[:i], text[i:]
        return text, ""
    out, i = [], 1
    while i < len(text):
        if text[i] == '"':
            if i + 1 < len(text) and text[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            return "".join(out), text[i + 1 :]
        out.append(text[i])
        i += 1
    return "".join(out), ""
