"""Errors a user can cause and fix. The CLI prints them as one line, never as a traceback."""

from __future__ import annotations

EXIT_FINDINGS = 1
EXIT_USAGE = 2


class PgConvoyError(Exception):
    """A problem with the user's input or environment; `exit_code` is what the CLI returns."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConnectionFailed(PgConvoyError):
    """The database named by a connection string could not be reached or used."""


class CatalogError(PgConvoyError):
    """The catalog could not be read as asked (missing schema, missing privilege)."""
