"""The splitter: where statements end, and where COPY data starts and stops, on tricky inputs."""

from __future__ import annotations

import pytest

from pgconvoy import sqlfile


def split(text: str) -> list[sqlfile.Statement | tuple[str, str, int, list[bytes]]]:
    items: list[sqlfile.Statement | tuple[str, str, int, list[bytes]]] = []
    for item in sqlfile.split(text.encode().splitlines(keepends=True), "t.sql"):
        if isinstance(item, sqlfile.CopyBlock):
            items.append(("copy", item.statement.text, item.data_line, list(item.data)))
        else:
            items.append(item)
    return items


def texts(text: str) -> list[str]:
    return [i.text for i in split(text) if isinstance(i, sqlfile.Statement)]


def test_dollar_quotes_keep_semicolons_and_other_tags() -> None:
    body = "create function f() returns int as $fn$ begin perform $x$ ; $fn ; $x$; return 1; end $fn$ language plpgsql"
    assert texts(f"{body};\nselect $$a;b$$; select 1") == [body, "select $$a;b$$", "select 1"]


def test_sql_standard_function_bodies_keep_their_semicolons() -> None:
    """BEGIN ATOMIC ... END, as pg_dump prints it (psql's own heuristic: only inside CREATE FUNCTION or
    PROCEDURE; CASE ... END nests); BEGIN as a statement and a quoted 'end;' are not bodies."""
    body = "CREATE FUNCTION f() RETURNS bigint\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\n SELECT 2;\nEND"
    proc = "create or replace procedure p() begin atomic select case when true then 1 end; select 2; end"
    assert texts(f"{body};\n{proc};\nBEGIN; select 'end;'; COMMIT;") == [body, proc, "BEGIN", "select 'end;'", "COMMIT"]
    assert texts("create table t (a int check (a > 0)); select 1") == ["create table t (a int check (a > 0))",
                                                                     "select 1"]


def test_dollar_sign_in_identifiers_and_parameters_is_not_a_quote() -> None:
    assert texts("select a$b$c, $1 from t; select 2;") == ["select a$b$c, $1 from t", "select 2"]


def test_escape_strings_doubled_quotes_and_identifiers() -> None:
    assert texts("select E'it\\'s; \\\\', 'a''b;' as \"we;\"\"ird\";select 3;") == [
        "select E'it\\'s; \\\\', 'a''b;' as \"we;\"\"ird\"",
        "select 3",
    ]


def test_backslash_in_a_standard_string_does_not_escape_the_quote() -> None:
    assert texts("select 'a\\'; select 2;") == ["select 'a\\'", "select 2"]


def test_comments_with_quotes_and_nesting() -> None:
    items = split("-- it's; a comment\nselect /* it's /* nested; */ still; */ 1; -- trailing 'x\nselect 2;")
    assert [i.summary for i in items if isinstance(i, sqlfile.Statement)] == ["select   1", "select 2"]
    first = items[0]
    assert isinstance(first, sqlfile.Statement)
    assert first.line == 1 and first.text.startswith("-- it's; a comment\nselect")


def test_statement_lines_and_a_last_statement_without_semicolon() -> None:
    items = split("\n\nselect\n  1;\n\nselect 2")
    found = [(i.line, i.text) for i in items if isinstance(i, sqlfile.Statement)]
    assert found == [(3, "select\n  1"), (6, "select 2")]


def test_copy_block_data_is_raw_and_ends_at_backslash_dot() -> None:
    text = (
        "COPY \"My Schema\".t (a, b) FROM stdin;\n"
        "1\tselect 1; drop table t;\n"
        "2\t\\\\.\n"          # an escaped backslash followed by a dot: data, not the end
        "3\t'unclosed $$ quote\n"
        "\\.\n"
        "select 'after';\n"
    )
    items = split(text)
    assert items[0] == ("copy", 'COPY "My Schema".t (a, b) FROM stdin', 2, [
        b"1\tselect 1; drop table t;\n", b"2\t\\\\.\n", b"3\t'unclosed $$ quote\n",
    ])
    assert isinstance(items[1], sqlfile.Statement) and items[1].text == "select 'after'" and items[1].line == 6


def test_unread_copy_data_is_skipped() -> None:
    source = b"copy t from stdin;\n1\n2\n\\.\nselect 1;\n".splitlines(keepends=True)
    items = list(sqlfile.split(source))
    assert isinstance(items[1], sqlfile.Statement) and items[1].text == "select 1"


def test_a_comment_ends_at_a_carriage_return_as_the_server_ends_it() -> None:
    """PostgreSQL's lexer ends `--` at \\r as well as \\n: a name with a carriage return in a comment
    must not hide the statement that follows on the same physical line."""
    assert texts("-- a\rselect 1; select 2;\n") == ["-- a\rselect 1", "select 2"]
    assert texts("select 1 -- x\r; select 2;\n") == ["select 1 -- x", "select 2"]


@pytest.mark.parametrize(("text", "message"), [
    ("select 1;\n\\set x 1\n", "line 2: psql meta-command '\\\\set'"),
    ("select 'open;\n", "unterminated quoted string starting at line 1"),
    ("select $a$ open;\n", "unterminated dollar-quoted string $a$ starting at line 1"),
    ("select 1 /* open\n", "unterminated comment starting at line 1"),
    ("copy t from stdin; select 1;\n", "line 1: the data of a COPY must start on the next line"),
])
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(sqlfile.SqlFileError) as caught:
        split(text)
    assert message in caught.value.message
    assert caught.value.message.startswith("t.sql")


def test_invalid_utf8_is_an_error() -> None:
    with pytest.raises(sqlfile.SqlFileError, match="line 2: not valid UTF-8"):
        list(sqlfile.split([b"select 1;\n", b"select '\xff';\n"], "t.sql"))
