"""The syntax a program document is read with: YAML 1.2 through a safe loader that
refuses a repeated key, keeps an unknown tag as a marker, reads only the format's plain
numbers (:data:`~optimizer.program.vocabulary.PLAIN_DECIMAL`) as numbers and reads an
integer literal too long for any bound as a marker (:class:`~optimizer.program.words.
HugeNumber`); and JSON objects that refuse a repeated key.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from optimizer.program import vocabulary as voc
from optimizer.program.sizes import MAX_INTEGER_DIGITS
from optimizer.program.words import BadKey, HugeNumber

__all__ = ["SafeLoader", "Tagged", "DuplicateKey", "JsonDuplicateKey", "json_object",
           "integer_literal", "PLAIN_INT", "PLAIN_NUMBER"]

# --------------------------------------------------------------------------- YAML
class SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML's safe loader with YAML 1.2 booleans.

    YAML 1.1 reads ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` as booleans, which
    would turn the key ``on`` of a ``requires`` dependency into ``True``. Only ``true``
    and ``false`` are booleans here. It parses with libyaml where PyYAML has it (ten times
    faster on a program with thousands of dependencies), in pure Python otherwise.
    """


class Tagged:
    """A value carrying a YAML tag the safe loader has no constructor for (``!!python/...``,
    ``!custom``): kept as a marker so the problem can name its field, never constructed."""

    def __init__(self, tag: str, line: int) -> None:
        self.tag, self.line = tag, line


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, line: int) -> None:
        super().__init__(f"the key {key!r} appears twice in one mapping")
        self.key, self.line = key, line


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Tagged:
    return Tagged(node.tag, node.start_mark.line + 1)


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping that refuses a repeated key (YAML itself would keep the last silently)."""
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            seen = key in out
        except TypeError:  # an unhashable key (a list or mapping): the validator names it
            seen = False
            key = BadKey(key)
        if seen:
            raise DuplicateKey(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


SafeLoader.add_multi_constructor("", _construct_tagged)
SafeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)

_YAML_1_1 = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML_1_1]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
# Numbers as the format writes them (:data:`~optimizer.program.vocabulary.PLAIN_DECIMAL`, as JSON
# does): YAML 1.1 would also read 1_000, 0x1F, 017 (octal: 15), 0b101 and 1:30
# (sexagesimal, 90) as numbers, and YAML 1.2 reads 017 as 17. All of those stay text here,
# which the validator refuses where a number belongs ("017" is not a plain decimal). The
# int resolver is tried first, so the float one sees only what has a fraction or exponent.
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(rf"^{voc.PLAIN_INTEGER}$"), list("-+0123456789"))
SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(rf"^(?:{voc.PLAIN_DECIMAL}|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))

#: The format's plain numbers (:mod:`optimizer.program.vocabulary`).
PLAIN_INT = re.compile(voc.PLAIN_INTEGER)
PLAIN_NUMBER = re.compile(voc.PLAIN_DECIMAL)


def integer_literal(text: str, line: int | None = None) -> int | float:
    """An integer read from a document's text (JSON's and YAML's integer literals)."""
    if len(text) > MAX_INTEGER_DIGITS and len(text.lstrip("+-")) > MAX_INTEGER_DIGITS:
        return HugeNumber(text, line)
    return int(text)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | float | str:
    text = loader.construct_scalar(node)
    if not PLAIN_INT.fullmatch(text):  # an explicit !!int 0x1F: text, refused as such
        return text
    return integer_literal(text, node.start_mark.line + 1)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float | str:
    text = loader.construct_scalar(node)
    if PLAIN_NUMBER.fullmatch(text):
        return float(text)
    words = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
    return words.get(text.lower(), text)


SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
SafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


class JsonDuplicateKey(ValueError):
    pass


def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonDuplicateKey(key)
        out[key] = value
    return out
