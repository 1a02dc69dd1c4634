"""Reading a program document: from a path to the mapping its YAML or JSON holds.

Only regular files are read (:func:`~optimizer.program.files.read_regular`), within a
size limit; the text must be UTF-8; a document that nests too deep, expands too far
through YAML aliases, carries a YAML tag or holds half a UTF-16 surrogate pair is
refused, naming the file and the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from optimizer.errors import InstanceError, Problem
from optimizer.program import vocabulary as voc
from optimizer.program.files import Unreadable, line_of, read_regular
from optimizer.program.sizes import (
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_DEPTH,
    MAX_DOCUMENT_VALUES,
    MAX_TABLE_BYTES,
)
from optimizer.program.syntax import (
    DuplicateKey,
    JsonDuplicateKey,
    SafeLoader,
    Tagged,
    integer_literal,
    json_object,
)
from optimizer.program.words import quoted

__all__ = ["read_document"]

# -------------------------------------------------------------------- documents
def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES,
                  table_bytes: int = MAX_TABLE_BYTES) -> Any:
    """The document a program file holds (YAML, or JSON for a ``.json`` file), read
    within ``max_bytes`` (a file too large is told that a CSV table may hold up to
    ``table_bytes``), or an :class:`~optimizer.errors.InstanceError` naming the file and
    the line."""
    label = str(path)
    try:
        raw = read_regular(path, max_bytes)
    except Unreadable as exc:
        words = exc.words("a program file")
        if exc.kind == "large":
            words += f" (put the projects in a CSV table: a table may be up to " \
                     f"{table_bytes:,} bytes)"
        shown = label.replace("\0", "\\0")  # a NUL byte, printed, would hide itself
        raise InstanceError([Problem(shown, "(file)", None, words)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", line_of(raw, exc.start),
                                     f"is not UTF-8 text (bad byte at offset {exc.start})")]
                            ) from None
    try:
        if path.suffix.lower() == ".json":
            doc = _load_json(label, text)
        else:
            doc = _load_yaml(label, text)
            if "*" in text and "&" in text:  # aliases: refuse a document that expands too far
                _check_expansion(label, doc)
            if "!" in text:
                _refuse_tags(label, doc)
        if "\\u" in text or "\\U" in text:  # escapes: half a UTF-16 pair is no character
            _refuse_surrogates(label, doc)
        return doc
    except json.JSONDecodeError as exc:
        raise InstanceError([Problem(label, "(file)", f"line {exc.lineno}",
                                     f"is not valid JSON: {exc.msg}")]) from None
    except DuplicateKey as exc:
        raise InstanceError([Problem(label, voc.shown(exc.key), f"line {exc.line}",
                                     "appears twice in one mapping; give each key once "
                                     "(YAML would silently keep the last)")]) from None
    except JsonDuplicateKey as exc:
        raise InstanceError([Problem(label, voc.shown(exc.args[0]), None,
                                     "appears twice in one object; give each key once "
                                     "(JSON readers would silently keep the last)")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in str(problem):  # libyaml's own limit (1,000 levels)
            raise InstanceError([_nesting_problem(label, row, "deep")]) from None
        raise InstanceError([Problem(label, "(file)", row,
                                     f"is not valid YAML: {problem}")]) from None


def _nesting_problem(label: str, row: str | None, kind: str) -> Problem:
    if kind == "cycle":
        message = ("holds a mapping or list that contains itself through a YAML alias "
                   "(&anchor / *alias): it would nest without end; write the values out")
    else:
        message = (f"nests mappings and lists more than {MAX_DOCUMENT_DEPTH} levels deep "
                   "(the format needs 4); flatten the structure that starts here")
    return Problem(label, "(file)", row, message)


def _too_deep(root: Any, children: Callable[[Any], list[Any] | None],
              limit: int) -> tuple[str, Any] | None:
    """The first collection of ``root`` nested more than ``limit`` levels deep, as
    ``("deep", it)``, or one that contains itself (YAML aliases), as ``("cycle", it)``; None
    where there is none. ``children(node)`` gives a collection's collections (None for a
    scalar). Iterative (no recursion limit), and linear in the distinct collections: one
    shared through aliases is walked once, its height remembered."""
    first = children(root)
    if first is None:
        return None
    height: dict[int, int] = {}
    on_path = {id(root)}
    stack: list[tuple[Any, Iterator[Any], int]] = [(root, iter(first), 1)]
    while stack:
        node, kids, tallest = stack[-1]
        depth = len(stack)
        for child in kids:
            key = id(child)
            if key in on_path:
                return "cycle", child
            if key in height:
                if depth + height[key] > limit:
                    return "deep", child
                tallest = max(tallest, height[key] + 1)
                continue
            if depth + 1 > limit:
                return "deep", child
            stack[-1] = (node, kids, tallest)
            stack.append((child, iter(children(child) or ()), 1))
            on_path.add(key)
            break
        else:
            stack.pop()
            on_path.discard(id(node))
            height[id(node)] = tallest
            if stack:
                parent, siblings, best = stack[-1]
                stack[-1] = (parent, siblings, max(best, tallest + 1))
    return None


def _node_children(node: Any) -> list[Any] | None:
    """The collection nodes in a YAML node (keys and values), None for a scalar."""
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair if not isinstance(n, yaml.ScalarNode)]
    if isinstance(node, yaml.SequenceNode):
        return [n for n in node.value if not isinstance(n, yaml.ScalarNode)]
    return None


def _object_children(node: Any) -> list[Any] | None:
    """The dicts and lists in a dict or list (JSON's objects and arrays), None otherwise."""
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, dict | list)]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, dict | list)]
    return None


def _load_yaml(label: str, text: str) -> Any:
    """A YAML document, composed, checked for depth (before anything recursive walks it),
    then constructed."""
    loader = SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # the pure-Python composer, some hundreds of levels down
            raise InstanceError([_nesting_problem(label, _yaml_deep_line(text), "deep")]
                                ) from None
        if node is None:
            return None
        found = _too_deep(node, _node_children, MAX_DOCUMENT_DEPTH)
        if found is not None:
            kind, at = found
            raise InstanceError([_nesting_problem(label, f"line {at.start_mark.line + 1}",
                                                  kind)])
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _yaml_deep_line(text: str) -> str | None:
    """The line where a YAML text first nests deeper than the limit (its event stream,
    which needs no recursion), or None."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DOCUMENT_DEPTH:
                    return f"line {event.start_mark.line + 1}"
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


#: A JSON string or bracket: the tokens that tell how deep a JSON text nests.
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_deep_line(text: str) -> str | None:
    """The line where a JSON text first nests deeper than the limit, or None."""
    depth = 0
    for match in _JSON_NESTING.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_DOCUMENT_DEPTH:
                return f"line {text.count(chr(10), 0, match.start()) + 1}"
        elif char in "]}":
            depth -= 1
    return None


def _load_json(label: str, text: str) -> Any:
    """A JSON document (integers of any length read safely), checked for depth."""
    try:
        doc = json.loads(text, object_pairs_hook=json_object, parse_int=integer_literal)
    except RecursionError:  # the C scanner's own limit, near 1,000 levels
        raise InstanceError([_nesting_problem(label, _json_deep_line(text), "deep")]
                            ) from None
    if _too_deep(doc, _object_children, MAX_DOCUMENT_DEPTH) is not None:
        raise InstanceError([_nesting_problem(label, _json_deep_line(text), "deep")])
    return doc


#: Half of a UTF-16 surrogate pair: what a JSON or YAML escape such as \ud800 gives alone.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(label: str, doc: Any) -> None:
    """Name every key and text value holding a lone surrogate (``"\\ud800"`` in JSON or
    YAML): it is no character, no file or terminal can hold it, and every message or
    report quoting it would fail to print."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()

    def check(where: str, text: str, what: str) -> None:
        found = _SURROGATE.search(text)
        if found is not None:
            problems.append(Problem(label, where or "(document)", None,
                                    f"{what} holds {ascii(found.group())}, half of a UTF-16 "
                                    "surrogate pair, which is no character (an escape such "
                                    "as \\ud800 without its pair): write the character "
                                    "itself"))

    while stack and len(problems) < 20:
        where, node = stack.pop()
        if isinstance(node, str):
            check(where, node, "the text")
        elif isinstance(node, dict | list) and id(node) not in seen:
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                shown = voc.shown(key)
                sub = f"{where}[{shown}]" if isinstance(node, list) else \
                    (f"{where}.{shown}" if where else shown)
                if isinstance(key, str):
                    check(sub, key, "the key")
                stack.append((sub, child))
    if problems:
        raise InstanceError(problems)


def _refuse_tags(label: str, doc: Any) -> None:
    """Name every field whose value carries a YAML tag the safe loader does not know."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any]] = [("", doc)]
    seen: set[int] = set()
    while stack and len(problems) < 20:
        where, node = stack.pop()
        if isinstance(node, Tagged):
            problems.append(Problem(label, where or "(document)", f"line {node.line}",
                                    f"carries the YAML tag {quoted(node.tag)}, which is not "
                                    "allowed: write a plain value"))
        elif isinstance(node, (dict, list)) and id(node) not in seen:
            seen.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, Tagged):
                    stack.append((where, key))
                sub = f"{where}[{key}]" if isinstance(node, list) else \
                    (f"{where}.{key}" if where else str(key))
                stack.append((sub, child))
    if problems:
        raise InstanceError(sorted(problems, key=lambda p: int(str(p.row).split()[-1])))


def _check_expansion(label: str, doc: Any) -> None:
    """Count the values a document holds once its YAML aliases are expanded (each alias
    costs what it points at, as it does for every reader of the document) and refuse it
    above :data:`MAX_DOCUMENT_VALUES`: a few lines of nested aliases ("billion laughs")
    would otherwise make billions."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        key = id(node)
        if key not in memo:
            memo[key] = 0  # a self-referencing alias counts once
            items = node.items() if isinstance(node, dict) else enumerate(node)
            total = 1
            for _k, child in items:
                total += size(child)
                if total > MAX_DOCUMENT_VALUES:
                    break
            memo[key] = total
        return memo[key]

    if size(doc) > MAX_DOCUMENT_VALUES:
        raise InstanceError([Problem(label, "(file)", None,
                                     f"expands to more than {MAX_DOCUMENT_VALUES:,} values "
                                     "through its YAML aliases (&anchor / *alias); write the "
                                     "values out or use CSV tables")])
