"""Split an SQL file into statements and psql COPY blocks, reading it line by line.

The rules are PostgreSQL's lexer rules that decide where a statement ends: `--` and nested `/* */`
comments, '' strings (with `\\` escapes only in E'' strings), "" identifiers, dollar-quoted bodies
(`$$` and `$tag$`). A `COPY ... FROM stdin;` statement is followed by its data lines up to a line
holding only `\\.`, as psql writes and reads them; the data is handed out as raw bytes, never
decoded and never held in memory as a whole. Any other psql meta-command (a backslash outside a
string) is an error: the runner sends statements to the server, it is not psql.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pgconvoy.errors import PgConvoyError

END_OF_DATA = b"\\."

# Characters that can change the lexer's state outside quotes and comments.
_SPECIAL = re.compile(r"""(?<![A-Za-z0-9_$])[eE]'|[;'"$\\]|--|/\*""")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]")
_COMMENT_BOUNDARY = re.compile(r"/\*|\*/")
_WORD_OR_PAREN = re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*|[()]")
_ESCAPED_QUOTE = re.compile(r"['\\]")
_COPY_FROM_STDIN = re.compile(r"^\s*copy\s+(.*?)\s+from\s+stdin\b", re.IGNORECASE | re.DOTALL)
_BLANK_OR_COMMENT = re.compile(r"^\s*(--.*)?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Statement:
    text: str  # as written, comments included, without the final `;`
    line: int  # line of the file where `text` starts
    summary: str  # its first line of code, for messages
    code: str = field(default="", repr=False, compare=False)  # the text with comments blanked out


@dataclass(slots=True)
class CopyBlock:
    """A `COPY ... FROM stdin` statement and its data, to be read (once) before the next item."""

    statement: Statement
    data_line: int  # line of the file where the data starts
    data: Iterator[bytes]  # the data lines as in the file (newlines kept), without the `\.` line


Item = Statement | CopyBlock


class SqlFileError(PgConvoyError):
    """The file cannot be split into statements (unterminated quote, psql meta-command, bad UTF-8)."""


class _Lines:
    """The file's lines with their numbers; COPY data is read from the same source."""

    def __init__(self, lines: Iterable[bytes], name: str) -> None:
        self._it = iter(lines)
        self.name = name
        self.number = 0

    def next(self) -> bytes | None:
        line = next(self._it, None)
        if line is not None:
            self.number += 1
        return line

    def copy_data(self) -> Iterator[bytes]:
        while (line := self.next()) is not None:
            if line.rstrip(b"\r\n") == END_OF_DATA:
                return
            yield line


@dataclass
class _Scanner:
    """Lexer state carried from line to line, and the statement being collected."""

    name: str
    state: str = "code"  # code | quote | equote | ident | dollar | comment
    tag: str = ""  # the closing `$tag$` while in a dollar-quoted body
    depth: int = 0  # nesting of /* */ comments
    opened_at: int = 0  # line where the current quote or comment opened
    # The statement so far, in pieces: joined once at its end (a multi-row INSERT can be megabytes).
    raw: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # comments blanked out
    first_line: int = 0
    # psql's rule for SQL-standard function bodies (CREATE FUNCTION ... BEGIN ATOMIC ... END): a `;`
    # inside the BEGIN ... END of a CREATE [OR REPLACE] FUNCTION/PROCEDURE, or inside parentheses,
    # does not end the statement (psqlscan.l tracks the same words the same way).
    words: list[str] = field(default_factory=list)  # first letters of its first four words
    word_count: int = 0
    begin_depth: int = 0
    paren_depth: int = 0

    def feed(self, line: str, number: int) -> Iterator[tuple[Statement, int]]:
        """Statements that end on this line, each with the index of its `;` in the line."""
        start = pos = 0  # `start`: the first character not yet added to the statement
        while pos < len(line):
            if self.state == "comment":
                pos = self._comment(line, pos)
                if self.state == "code":
                    self._take(line[start:pos], number, code=False)
                    start = pos
                continue
            if self.state != "code":
                pos = self._quoted(line, pos)
                continue
            m = _SPECIAL.search(line, pos)
            self._track(line[pos:m.start() if m else len(line)])
            if m is None:
                break
            token, at = m.group(), m.start()
            if token == ";" and (self.begin_depth or self.paren_depth):
                pos = at + 1
            elif token == ";":
                self._take(line[start:at], number, code=True)
                yield self._finish(), at
                start = pos = at + 1
            elif token == "--":  # the server ends it at a carriage return too, not only a newline
                end = min((i for i in (line.find("\r", at), line.find("\n", at)) if i >= 0), default=len(line))
                self._take(line[start:at], number, code=True)
                self._take(line[at:end], number, code=False)
                start = pos = end
            elif token == "/*":
                self._take(line[start:at], number, code=True)
                self.state, self.depth, self.opened_at = "comment", 1, number
                start, pos = at, at + 2
            elif token == "\\":
                raise SqlFileError(
                    f"{self.name}, line {number}: psql meta-command {line[at:].split()[0]!r} is not supported",
                    hint="only SQL statements and COPY ... FROM stdin data can be applied",
                )
            else:
                pos = self._open_quote(line, token, at, number)
        self._take(line[start:], number, code=self.state != "comment")

    def _take(self, text: str, number: int, *, code: bool) -> None:
        if not text:
            return
        if not self.first_line and text.strip():
            self.first_line = number
        self.raw.append(text)
        self.code.append(text if code else " ")

    def _open_quote(self, line: str, token: str, at: int, number: int) -> int:
        self.opened_at = number
        if token == "'":
            self.state = "quote"
        elif token == '"':
            self.state = "ident"
        elif token in ("e'", "E'"):
            self.state = "equote"
            return at + 2
        else:  # `$`: a dollar quote, unless it ends an identifier (a$b) or starts a parameter ($1)
            tag = _DOLLAR_TAG.match(line, at)
            if tag is None or (at > 0 and _IDENT_CHAR.match(line[at - 1])):
                return at + 1
            self.state, self.tag = "dollar", tag.group()
            return tag.end()
        return at + 1

    def _quoted(self, line: str, pos: int) -> int:
        if self.state == "dollar":
            at = line.find(self.tag, pos)
            if at < 0:
                return len(line)
            self.state = "code"
            return at + len(self.tag)
        if self.state == "equote":
            m = _ESCAPED_QUOTE.search(line, pos)
            if m is None:
                return len(line)
            if m.group() == "\\":
                return m.start() + 2  # the escaped character, whatever it is
            at = m.start()
        else:
            quote = '"' if self.state == "ident" else "'"
            at = line.find(quote, pos)
            if at < 0:
                return len(line)
        if line[at + 1:at + 2] == line[at]:  # a doubled quote stands for itself
            return at + 2
        self.state = "code"
        return at + 1

    def _comment(self, line: str, pos: int) -> int:
        while self.depth:
            m = _COMMENT_BOUNDARY.search(line, pos)
            if m is None:
                return len(line)
            self.depth += 1 if m.group() == "/*" else -1
            pos = m.end()
        self.state = "code"
        return pos

    def _track(self, code: str) -> None:
        for token in _WORD_OR_PAREN.findall(code):
            if token == "(":
                self.paren_depth += 1
            elif token == ")":
                self.paren_depth = max(self.paren_depth - 1, 0)
            else:
                self._word(token.lower())

    def _word(self, word: str) -> None:
        if self.word_count < 4:
            self.words.append(word[0] if word in ("create", "function", "procedure", "or", "replace") else "")
        self.word_count += 1
        w = self.words + [""] * (4 - len(self.words))
        routine = w[0] == "c" and (w[1] in ("f", "p") or (w[1] == "o" and w[2] == "r" and w[3] in ("f", "p")))
        if not routine or self.paren_depth:
            return
        if word == "begin" or (word == "case" and self.begin_depth):
            self.begin_depth += 1
        elif word == "end" and self.begin_depth:
            self.begin_depth -= 1

    def _finish(self) -> Statement:
        code = "".join(self.code)
        statement = Statement("".join(self.raw).strip(), self.first_line, _summary(code), code)
        self.raw, self.code, self.first_line = [], [], 0
        self.words, self.word_count, self.begin_depth, self.paren_depth = [], 0, 0, 0
        return statement

    def pending(self) -> Statement | None:
        """What is left at the end of the file: a last statement without `;`, or nothing."""
        if self.state != "code":
            what = {"comment": "comment", "dollar": f"dollar-quoted string {self.tag}"}.get(self.state, "quoted string")
            raise SqlFileError(f"{self.name}: unterminated {what} starting at line {self.opened_at}")
        if not "".join(self.code).strip():
            return None
        return self._finish()


def split(lines: Iterable[bytes], name: str = "<sql>") -> Iterator[Item]:
    """The statements and COPY blocks of a file given as lines of bytes (e.g. an open binary file).

    A `CopyBlock`'s data must be read before asking for the next item; whatever is left unread is
    skipped then."""
    source = _Lines(lines, name)
    scanner = _Scanner(name)
    while (raw := source.next()) is not None:
        line = _decode(raw, name, source.number)
        for statement, end in scanner.feed(line, source.number):
            if not statement.summary:
                continue  # a lone `;`
            target = _COPY_FROM_STDIN.match(statement.code)
            if target is None:
                yield statement
                continue
            if not _BLANK_OR_COMMENT.match(line[end + 1:]):
                raise SqlFileError(f"{name}, line {source.number}: the data of a COPY must start on the next line")
            scanner = _Scanner(name)
            block = CopyBlock(statement, source.number + 1, source.copy_data())
            yield block
            for _ in block.data:  # skip what the consumer did not read
                pass
            break
    last = scanner.pending()
    if last is not None:
        yield last


def _decode(raw: bytes, name: str, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SqlFileError(f"{name}, line {number}: not valid UTF-8 ({exc.reason})") from None


def _summary(code: str) -> str:
    for line in code.splitlines():
        if line.strip():
            text = line.strip()
            return text if len(text) <= 100 else text[:97] + "..."
    return ""
