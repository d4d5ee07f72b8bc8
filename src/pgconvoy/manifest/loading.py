"""Reading a manifest file: bounded bytes, UTF-8, YAML composed with line marks, Jinja in strings.

YAML is composed (not just loaded) so that every mapping key and sequence item keeps its line. The
composed graph shares the node of an anchor with each of its aliases, so before anything is built
it is measured: nodes counted as they expand (a few hundred bytes of nested aliases would expand to
billions) and nesting depth, both bounded.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

from pgconvoy.manifest import jinja
from pgconvoy.manifest.errors import ManifestError, Path_, dotted, shown

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_NODES = 1_000_000  # as aliases expand
MAX_DEPTH = 100  # levels of nested lists and mappings
MAX_KEY = 256  # characters of a key: keys are names (pydantic copies the key path into each of its errors)

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Lines:
    """Line numbers (1-based) of the keys and items of one YAML file, by key path."""

    file: str
    by_path: Mapping[Path_, int] = field(default_factory=dict)

    def line(self, *path: str | int) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 for the whole file)."""
        for end in range(len(path), 0, -1):
            if (line := self.by_path.get(path[:end])) is not None:
                return line
        return 1


def read_file(path: Path, rel: str) -> str:
    """The text of the manifest file at `path` (`rel` names it in errors): a regular file of UTF-8
    text without NUL bytes, at most MAX_FILE_BYTES long."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise ManifestError([f"{rel}: a symbolic link to {os.readlink(path)}, which does not exist"]) from None
        raise ManifestError([f"{rel}: no such file"]) from None
    except OSError as e:
        raise ManifestError([f"{rel}: cannot read: {e.strerror or e}"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ManifestError([f"{rel}: a directory, not a file"])
    if not stat.S_ISREG(info.st_mode):
        raise ManifestError([f"{rel}: not a regular file"])  # a FIFO would block the read
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ManifestError([f"{rel}: cannot read: {e.strerror or e}"]) from None
    if len(data) > MAX_FILE_BYTES:
        size = max(info.st_size, len(data))
        raise ManifestError([f"{rel}: {size:,} bytes, more than the {MAX_FILE_BYTES // 2**20} MB a manifest may have"])
    return decode(data, rel)


def decode(data: bytes, rel: str) -> str:
    """`data` as text, or ManifestError naming the line of the first byte that is not UTF-8 or is NUL."""
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = e.start
    else:
        bad = -1
    if nul >= 0 and not 0 <= bad < nul:
        line = data.count(b"\n", 0, nul) + 1
        raise ManifestError([f"{rel}:{line}: contains a NUL byte (at offset {nul})"])
    if bad >= 0:
        line = data.count(b"\n", 0, bad) + 1
        raise ManifestError([f"{rel}:{line}: not UTF-8 text (byte 0x{data[bad]:02x} at offset {bad})"])
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as read_text() had them


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector paused: it rescans the growing heap again and again while a large file's
    nodes and objects are made (a 5 MB manifest took 15 s instead of 4); it runs once when resumed."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_yaml(text: str, file: str) -> tuple[Any, Lines]:
    """Parse YAML text into plain data, with the line of every key and item; render Jinja in strings.

    libyaml's loader (PyYAML's C extension) where it is built, which keeps the marks too: a large
    manifest parses in a fraction of the pure-Python loader's time."""
    with paused_gc():
        data, lines = _read_yaml(text, file)  # its nodes are gone before the collector runs again
        return data, Lines(file, lines)


def _read_yaml(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    try:
        loader = _Loader(text)
    except UnicodeEncodeError as e:  # a lone surrogate: only from a caller's str, never from a file
        line = text.count("\n", 0, e.start) + 1
        raise ManifestError([f"{file}:{line}: not UTF-8 text (U+{ord(text[e.start]):04X} at {e.start})"]) from None
    try:
        node = loader.get_single_node()
        builder = _Builder(loader, file)
        return (builder.build(node) if node is not None else None), builder.lines
    except yaml.MarkedYAMLError as e:
        raise ManifestError([_yaml_problem(e, file)]) from None
    except yaml.reader.ReaderError as e:
        char = e.character if isinstance(e.character, int) else ord(e.character)
        line = text.encode("utf-8", "surrogatepass")[:e.position].count(b"\n") + 1
        raise ManifestError([f"{file}:{line}: invalid YAML: character #x{char:04x}: {e.reason}"]) from None
    except yaml.YAMLError as e:
        raise ManifestError([f"{file}:1: invalid YAML: {_first_line(e)}"]) from None
    except RecursionError:  # the pure-Python composer recurses once per level
        raise ManifestError([f"{file}:1: nesting deeper than {MAX_DEPTH} levels"]) from None
    finally:
        loader.dispose()


def _yaml_problem(e: yaml.MarkedYAMLError, file: str) -> str:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark else 1
    if e.problem == "exceeded maximum nesting depth":  # libyaml's own limit, at 1000 levels
        return f"{file}:{line}: nesting deeper than {MAX_DEPTH} levels"
    what = e.problem or e.context or "cannot parse"
    if e.context and e.context_mark and e.context_mark.line + 1 != line:
        what += f" ({e.context} that starts on line {e.context_mark.line + 1})"
    return f"{file}:{line}: invalid YAML: {what}"


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


class _Builder:
    """Plain data from composed nodes: measured first, then built with the line of every key and item."""

    def __init__(self, loader: yaml.SafeLoader, file: str) -> None:
        self.loader, self.file = loader, file
        self.lines: dict[Path_, int] = {}
        self.budget = jinja.Budget()  # for all the templates of the file
        self._measured: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes as expanded, levels)
        self._scalars: dict[int, str] = {}  # id(node) -> long string, rendered
        self._open: set[int] = set()
        self._aliased = False

    def build(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self._measure(node, 1)
        return self._build(node, ())

    def _fail(self, node: yaml.Node, message: str) -> ManifestError:
        return ManifestError([f"{self.file}:{node.start_mark.line + 1}: {message}"])

    def _measure(self, node: yaml.Node, level: int) -> tuple[int, int]:
        """(nodes in `node` as its aliases expand, levels of lists and mappings), or ManifestError."""
        if level > MAX_DEPTH:
            raise self._fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        if id(node) in self._open:
            raise self._fail(node, "an alias to the list or mapping that holds it")
        if (known := self._measured.get(id(node))) is not None:  # an alias
            self._aliased = True
            if level + known[1] - 1 > MAX_DEPTH:
                raise self._fail(node, f"nesting deeper than {MAX_DEPTH} levels (through an alias)")
            return known
        self._open.add(id(node))
        children = [child for pair in node.value for child in pair] if type(node) is yaml.MappingNode \
            else node.value
        size = height = 1
        for child in children:
            if type(child) is yaml.ScalarNode:
                size += 1
                continue
            child_size, child_height = self._measure(child, level + 1)
            size, height = size + child_size, max(height, child_height + 1)
            if size > MAX_NODES:
                expand = "aliases expand to more than" if self._aliased else "more than"
                raise self._fail(node, f"too many YAML nodes ({expand} {MAX_NODES:,})")
        if size > MAX_NODES:
            raise self._fail(node, f"too many YAML nodes (more than {MAX_NODES:,})")
        self._open.discard(id(node))
        self._measured[id(node)] = size, height
        return size, height

    def _build(self, node: yaml.Node, path: Path_) -> Any:
        lines = self.lines
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._construct(key_node)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str | int) or isinstance(key, bool):
                    raise ManifestError([f"{self.file}:{line}: {dotted(path) or 'top level'}: keys must be names, "
                                         f"got {shown(key)}"])
                if isinstance(key, str) and len(key) > MAX_KEY:
                    raise ManifestError([f"{self.file}:{line}: {dotted(path) or 'top level'}: a key longer than "
                                         f"{MAX_KEY} characters: {shown(key)}"])
                if key in result:
                    raise ManifestError([f"{self.file}:{line}: {dotted((*path, key))}: duplicate key"])
                lines[inner := (*path, key)] = line
                result[key] = self._build(value_node, inner)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                lines[inner := (*path, i)] = item.start_mark.line + 1
                items.append(self._build(item, inner))
            return items
        if (known := self._scalars.get(id(node))) is not None:
            return known
        value = self._construct(node)
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            value = self._render(value, node.start_mark.line + 1, path)
        if isinstance(value, str) and len(value) > 1000:  # searched once, however many aliases name it
            self._scalars[id(node)] = value
        return value

    def _construct(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            return node.value  # what the constructor would return, without its bookkeeping
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as e:  # 2001-02-30 as a date; an int of 5000 digits
            what = "a number with too many digits" if "integer string conversion" in str(e) else _first_line(e)
            raise self._fail(node, f"invalid YAML: {what}") from None

    def _render(self, text: str, line: int, path: Path_) -> str:
        where = f"{self.file}:{line}: {dotted(path) or 'top level'}"
        try:
            return jinja.render(text, self.budget)
        except jinja.UnsetVariable as e:
            raise ManifestError([f"{where}: environment variable {e.name} is not set"]) from None
        except jinja2.exceptions.SecurityError as e:
            raise ManifestError([f"{where}: template not allowed: {_first_line(e)}"]) from None
        except RecursionError:
            raise ManifestError([f"{where}: template not allowed: recursion too deep"]) from None
        except MemoryError:
            raise ManifestError([f"{where}: template not allowed: out of memory"]) from None
        except Exception as e:  # TemplateError, and what an operation raises: ZeroDivisionError, TypeError, ...
            raise ManifestError([f"{where}: template error: {_first_line(e)}"]) from None
