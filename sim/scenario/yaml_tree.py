"""Reading a scenario (or sweep) file's YAML safely, and ``extends``: one file merged over
the file it names, key by key, so a dated variant says only what changed.

Every node keeps the mark of the file it came from, so an error found after merging still
names the file and line its key was written on (``sim.scenario.locate``).
"""

from __future__ import annotations

import math
import os
import select
import stat
import time
import typing
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from sim import limits
from sim.errors import ScenarioError
from sim.limits import MAX_FILE_BYTES

EXTENDS = "extends"  # top-level key: the file this one inherits from
MAX_EXTENDS_DEPTH = 10
# Lists merged item by item under ``extends`` (matched by this key); other lists are replaced.
NAMED_LISTS: dict[tuple[str, ...], str] = {("instruments",): "id", ("politics",): "id",
                                            ("bidders",): "name"}
REMOVE = "remove"  # ``{name: X, remove: true}`` in a named list drops the inherited item X
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"
COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
# Lists whose items must differ by a key within one file: key -> (the item's key, noun).
UNIQUE_ITEMS: dict[str, tuple[str, str]] = {
    "instruments": ("id", "instrument"), "politics": ("id", "event"),
    "bidders": ("name", "bidder"), "tiers": ("id", "tier"), "plaintiffs": ("name", "plaintiff")}


def read_text(path: Path, source: str) -> str:
    """A scenario (or sweep) file's text: at most ``MAX_FILE_BYTES``, UTF-8, never blocking."""
    return decode(read_bytes(path, source), source)


def decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"{source}:{line}: not UTF-8 text "
                            f"({exc.reason} at byte {exc.start})") from None


def read_bytes(path: Path, source: str) -> bytes:
    """At most one byte past the cap, and never a wait without end: a regular file as it
    is; a pipe or FIFO (``run.py <(cat file)``) until its writer closes it, for at most
    ``READ_TIMEOUT_SECONDS`` in all; a folder or a device (``/dev/zero``, a terminal) is
    refused unread (a device reports size 0 and may never end, or never answer)."""
    try:
        _refuse_unreadable(os.stat(path).st_mode, source)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
        try:
            _refuse_unreadable(os.fstat(fd).st_mode, source)  # replaced since the stat?
            data = _drain(fd, source)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise ScenarioError(f"{source}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{source}: cannot read "
                            f"({getattr(exc, 'strerror', None) or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: file is larger than {MAX_FILE_BYTES:,} bytes")
    return data


def _refuse_unreadable(mode: int, source: str) -> None:
    """Only a regular file, a pipe or a FIFO holds a scenario."""
    if stat.S_ISDIR(mode):
        raise ScenarioError(f"{source}: cannot read (a folder, not a scenario file)")
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise ScenarioError(f"{source}: cannot read (a device, not a file or a pipe)")


def _drain(fd: int, source: str) -> bytes:
    """Everything up to end of file (or one byte past the cap) from a non-blocking ``fd``,
    waiting for data with poll until the deadline: a FIFO nobody writes to, or a file that
    never ends (``/proc/kmsg``), is an error after the timeout, not a hang."""
    timeout = limits.READ_TIMEOUT_SECONDS
    deadline = time.monotonic() + timeout
    poller = select.poll() if hasattr(select, "poll") else None  # not on Windows: no pipes
    if poller is not None:
        poller.register(fd, select.POLLIN)
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FILE_BYTES:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ScenarioError(f"{source}: cannot read (no end of file within {timeout:g} s: "
                                "a pipe or FIFO needs a writer that writes the scenario "
                                "and closes it)")
        if poller is not None and not poller.poll(math.ceil(left * 1000)):
            continue
        try:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
        except BlockingIOError:  # ready, yet nothing to read (another reader took it)
            time.sleep(0.01)
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def load_tree(path: Path, text: str, source: str,
              chain: tuple[tuple[Path, str], ...]) -> yaml.MappingNode:
    """One file's node tree with everything it extends merged beneath it."""
    root = compose(text, source)
    return inherit(root, source, (*chain, (path.resolve(), source)))


class SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing deep flow nesting (``[[[[…``) and too many values as
    it reads: it composes some 20,000 values a second, and thousands of open brackets
    would cost it seconds before its recursion gives up."""

    composed = 0

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        """YAML 1.1's base-60 numbers (``1:20`` is 80, ``1:20:30.5`` is 4830.5) are read as
        the text they look like: a number key then refuses them, a text key keeps them."""
        tag = super().resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and tag in (INT_TAG, FLOAT_TAG) and ":" in value:
            return STR_TAG
        return tag

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.composed += 1
        if self.composed > MAX_NODES:
            raise ScenarioError(f"{self.name}:{self.line + 1}: more than {MAX_NODES:,} values "
                                "(a scenario has a few hundred)")
        return super().compose_node(parent, index)

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_DEPTH:
            raise ScenarioError(f"{self.name}:{self.line + 1}: values nested deeper than "
                                f"{MAX_DEPTH} levels")
        super().fetch_flow_collection_start(TokenClass)


def compose(text: str, source: str, what: str = "scenario") -> yaml.MappingNode:
    """The checked YAML node tree of one file; every mark names ``source``, so an error
    found after merging still points at the file (and line) its key came from."""
    try:
        loader = SafeLoader(text)
        loader.name = source
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        data = None
        if root is not None:
            check_nodes(root, source)
            if what == "scenario":
                check_unique_items(root, source)
            data = SafeConstructor().construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark is not None else ""
        if isinstance(exc, yaml.reader.ReaderError):  # a control character: no mark, a position
            line = f"{text.count(chr(10), 0, exc.position) + 1}:"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source}:{line} YAML syntax error: {problem}") from None
    except RecursionError:  # PyYAML composes recursively: [[[[…]]]] thousands deep
        raise ScenarioError(f"{source}:{loader.line + 1}: values nested deeper than "
                            f"{MAX_DEPTH} levels") from None
    if root is None:
        raise ScenarioError(f"{source}:1: file is empty (expected a {what} mapping)")
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise ScenarioError(f"{source}:1: top level must be a mapping of keys, "
                            f"not {type(data).__name__}")
    return root


def inherit(root: yaml.MappingNode, source: str,
             chain: tuple[tuple[Path, str], ...]) -> yaml.MappingNode:
    """Resolve ``extends``: load the named file (relative to this one) and merge this over it."""
    found = next(((k, v) for k, v in root.value if str(k.value) == EXTENDS), None)
    if found is None:
        return root
    key, value = found

    def fail(problem: str) -> typing.NoReturn:
        raise ScenarioError(f"{source}:{key.start_mark.line + 1}: {EXTENDS}: {problem}")

    if not (isinstance(value, yaml.ScalarNode) and value.tag == STR_TAG and value.value.strip()):
        fail("must be the path of another scenario file (allowed: a path relative to "
             "this file's folder, e.g. ../oracle.yaml)")
    target = Path(source).parent / value.value
    shown = os.path.normpath(target)
    try:
        target.resolve().is_file()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, a link loop
        fail("not a usable file path (allowed: a path relative to this file's folder)")
    if any(target.resolve() == seen for seen, _ in chain):
        fail(f"cycle {' -> '.join([*(name for _, name in chain), shown])} "
             "(a file cannot extend itself, directly or through others)")
    if len(chain) >= MAX_EXTENDS_DEPTH:  # the chain so far holds this file
        fail(f"more than {MAX_EXTENDS_DEPTH} files in the extends chain (allowed: at most "
             f"{MAX_EXTENDS_DEPTH} files, this first one included)")
    if not target.exists():
        fail(f"no such file {shown} (allowed: a path relative to this file's folder)")
    if not target.is_file():  # a folder, a FIFO, a device: never opened
        fail(f"{shown} is not a regular file (allowed: a scenario file, by a path "
             "relative to this file's folder)")
    try:
        data = read_bytes(target, shown)
    except ScenarioError as exc:  # a read that fails before any line: said at this one
        fail(str(exc))
    base = load_tree(target, decode(data, shown), shown, chain)
    own = yaml.MappingNode(root.tag, [(k, v) for k, v in root.value if k is not key],
                           root.start_mark, root.end_mark, root.flow_style)
    return typing.cast(yaml.MappingNode, _merge(base, own, ()))


def _is_block(node: yaml.Node) -> bool:
    """A mapping that merges key by key: any mapping but a distribution."""
    return isinstance(node, yaml.MappingNode) and all(str(k.value) != "dist"
                                                      for k, _ in node.value)


def _merge(base: yaml.Node, over: yaml.Node, path: tuple[str, ...]) -> yaml.Node:
    """``over`` on top of ``base``: blocks merge key by key, named lists item by item,
    anything else (a number, a distribution, another list, null) replaces what it covers."""
    if _is_block(base) and _is_block(over):
        assert isinstance(base, yaml.MappingNode) and isinstance(over, yaml.MappingNode)
        merged = {str(k.value): (k, v) for k, v in base.value}
        for k, v in over.value:
            name = str(k.value)
            merged[name] = (k, _merge(merged[name][1], v, (*path, name))
                            if name in merged else v)
        return yaml.MappingNode(over.tag, list(merged.values()), over.start_mark,
                                over.end_mark, over.flow_style)
    ident = NAMED_LISTS.get(path)
    if (ident and isinstance(base, yaml.SequenceNode) and isinstance(over, yaml.SequenceNode)
            and over.value):
        return _merge_named(base, over, ident, path)
    return over


def item_id(node: yaml.Node, ident: str) -> str | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == ident and isinstance(v, yaml.ScalarNode):
                return str(v.value)
    return None


class NamedList(yaml.SequenceNode):
    """A list merged from several files: errors name its items by ``ident``, not position,
    since a merged position need not match any file's."""

    def __init__(self, ident: str, over: yaml.SequenceNode, value: list[yaml.Node]) -> None:
        super().__init__(over.tag, value, over.start_mark, over.end_mark, over.flow_style)
        self.ident = ident


def _merge_named(base: yaml.SequenceNode, over: yaml.SequenceNode, ident: str,
                 path: tuple[str, ...]) -> yaml.SequenceNode:
    """Items with the same ``ident`` merge; new ones are appended; ``remove: true`` drops one."""
    items: list[yaml.Node | None] = list(base.value)
    index = {name: i for i, item in enumerate(base.value)
             if (name := item_id(item, ident)) is not None}
    for n, item in enumerate(over.value):
        name = item_id(item, ident)
        keys = ({str(k.value): v for k, v in item.value}
                if isinstance(item, yaml.MappingNode) else {})
        if REMOVE in keys:
            where = f"{item.start_mark.name}:{item.start_mark.line + 1}: {path[0]}[{n}]"
            flag = keys[REMOVE]
            if set(keys) != {ident, REMOVE} or not (isinstance(flag, yaml.ScalarNode)
                                                    and flag.value == "true"):
                raise ScenarioError(f"{where}: {REMOVE}: takes only the item's {ident} "
                                    f"(allowed: {{{ident}: ..., {REMOVE}: true}})")
            if name not in index or items[index[name]] is None:
                raise ScenarioError(f"{where}: {REMOVE}: nothing inherited with {ident} "
                                    f"{name!r} to remove")
            items[index[name]] = None
        elif name is not None and name in index and items[index[name]] is not None:
            items[index[name]] = _merge(typing.cast(yaml.Node, items[index[name]]), item,
                                        (*path, name))
        else:
            items.append(item)
    return NamedList(ident, over, [i for i in items if i is not None])




MAX_NODES = 20_000  # a scenario is a few hundred nodes; far more means an alias bomb
MAX_DEPTH = 50  # a scenario nests about six levels; far more would exhaust the stack later


def check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse what safe_load lets through silently: duplicate or non-text keys, recursive
    aliases, alias bombs (a few lines expanding to millions of nodes) and deep nesting
    (also through aliases), which would exhaust the stack of the recursive steps after."""
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}  # levels below a node, so an alias counts its own depth
    constructor = SafeConstructor()
    open_: set[int] = set()

    def fail(node: yaml.Node, path: str, problem: str) -> typing.NoReturn:
        where = f" {path}:" if path else ""
        raise ScenarioError(f"{source}:{node.start_mark.line + 1}:{where} {problem}")

    def size(node: yaml.Node, path: str, depth: int = 0) -> int:
        if depth + heights.get(id(node), 0) > MAX_DEPTH:
            fail(node, path, f"values nested deeper than {MAX_DEPTH} levels")
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_:
            fail(node, path, "recursive alias (an anchor used inside itself)")
        open_.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                where = f"{path}.{quoted_key(name)}" if path else quoted_key(name)
                if key.tag == MERGE_TAG:
                    fail(key, where, "merge keys (<<) are not supported: write the keys "
                                     "out, or build on another file with extends (see "
                                     "docs/scenario-format.md)")
                if key.tag != STR_TAG:
                    fail(key, where, "keys must be text (quote it)")
                if name in seen:
                    fail(key, where, "duplicate key (each key may appear once)")
                seen.add(name)
                total += size(value, where, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, f"{path}[{i}]", depth + 1)
                         for i, item in enumerate(node.value))
        elif node.tag != STR_TAG:  # 2020-02-30, !!int x: PyYAML raises plain ValueErrors
            try:
                constructor.construct_object(node)
            except yaml.YAMLError:
                raise
            except Exception as exc:  # !!timestamp x: an AttributeError, not a ValueError
                kind = node.tag.rsplit(":", 1)[-1]
                detail = f" ({exc})" if isinstance(exc, ValueError) else ""
                fail(node, path, f"{shown(node.value)} is not a valid {kind}{detail}")
        if total > MAX_NODES:
            fail(node, path, f"expands to over {MAX_NODES:,} values (alias bomb?)")
        if not isinstance(node, yaml.ScalarNode) and node.tag not in COLLECTION_TAGS:
            try:  # !!set, !!omap, !!pairs: their constructors raise what they meet
                SafeConstructor().construct_object(node, deep=True)
            except yaml.YAMLError:
                raise
            except Exception:  # whatever a constructor meets is a bad value here
                fail(node, path, f"not a valid {node.tag.rsplit(':', 1)[-1]}")
        open_.discard(id(node))
        sizes[id(node)] = total
        children = ([v for _, v in node.value] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        heights[id(node)] = 1 + max((heights[id(c)] for c in children), default=0)
        return total

    size(root, "")




def check_unique_items(root: yaml.Node, source: str) -> None:
    """Two items with the same id or name in one file's list (``UNIQUE_ITEMS``) are an
    error at the second: under ``extends`` both would merge silently into one."""

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            name = str(key.value)
            where = f"{path}.{quoted_key(name)}" if path else quoted_key(name)
            if name in UNIQUE_ITEMS and isinstance(value, yaml.SequenceNode):
                _unique(value, where, *UNIQUE_ITEMS[name], source)
            walk(value, where)

    walk(root, "")


def _unique(items: yaml.SequenceNode, path: str, ident: str, noun: str, source: str) -> None:
    first: dict[str, int] = {}
    for i, item in enumerate(items.value):
        if not isinstance(item, yaml.MappingNode):
            continue
        node = next((k for k, v in item.value
                     if str(k.value) == ident and isinstance(v, yaml.ScalarNode)), None)
        name = item_id(item, ident)
        if node is None or name is None:
            continue
        line = node.start_mark.line + 1
        if name in first:
            raise ScenarioError(f"{source}:{line}: {path}[{i}].{ident}: duplicate {noun} "
                                f"{ident} {shown(name)} (the first is on line {first[name]}; "
                                f"each {noun} once)")
        first[name] = line


def quoted_key(name: str) -> str:
    """A key as an error names it: quoted when blank or padded, else it would not show;
    cut short when long, so a 20,000-character key still makes a line one can read."""
    if len(name) > 80:
        name = name[:60] + "…"
    return name if name and name.strip() == name else repr(name)


def shown(value: Any) -> str:
    """A value from the file as the error quotes it: its repr, cut short if it is long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + "…"

