"""Read YAML into plain data while remembering where every value was written.

PyYAML's safe loader would silently keep the last of two duplicate keys and expand aliases
without limit; for a file a trainer edits by hand (and that may come from anywhere) both are
errors. Every mapping key and list item is recorded with its 1-based line and column so that
validation errors can point at the exact place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # The C composer is several times faster on large scenarios; behaviour is identical.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is bundled with PyYAML wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 40
MAX_SCALAR = 20_000

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int


@dataclass(slots=True)
class YamlError(Exception):
    message: str
    position: Position
    hint: str = ""


@dataclass(slots=True)
class Located:
    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)

    def position_of(self, path: Path_) -> Position:
        """The position of `path`, or of its nearest written ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.positions.get(path[:cut])
            if found is not None:
                return found
        return Position(1, 1)


def read_yaml(text: str) -> Located:
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise YamlError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            Position(1, 1),
            "split the scenario or move long texts out of it",
        )
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise YamlError(
            f"this is not valid YAML: {exc.problem or exc.context}",
            where,
            "check indentation (spaces, not tabs) and that text with ':' or '#' is quoted",
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"this is not valid YAML: {exc}", Position(1, 1)) from None
    located = Located(None)
    if root is None:
        raise YamlError("the file is empty", Position(1, 1), "start from `signpost new`")
    located.data = _convert(root, (), located, depth=0)
    return located


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node, path: Path_, out: Located, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise YamlError(f"the file is nested more than {MAX_DEPTH} levels deep", _pos(node))
    out.positions.setdefault(path, _pos(node))
    if id(node) in out.seen:
        # The composer shares one node between an anchor and its aliases: seeing it twice means
        # an alias, which is how "billion laughs" files blow up memory once expanded.
        raise YamlError(
            "anchors and aliases (&name, *name) are not allowed in scenarios",
            _pos(node),
            "write the value out in full; repeated content is easier to review that way",
        )
    out.seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("a key must be plain text", _pos(key_node))
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys (<<) are not allowed in scenarios", _pos(key_node))
            key = _scalar(key_node)
            if not isinstance(key, str | int | bool) or key is None:
                raise YamlError("a key must be plain text", _pos(key_node))
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                first = out.positions.get((*path, key), _pos(key_node))
                raise YamlError(
                    f"the key '{key}' appears twice (first at line {first.line})",
                    _pos(key_node),
                    "remove or rename one of them; YAML would silently keep only the last",
                )
            out.positions[(*path, key)] = _pos(key_node)
            result[key] = _convert(value_node, (*path, key), out, depth + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), out, depth + 1) for index, item in enumerate(node.value)
        ]
    if isinstance(node, yaml.ScalarNode):
        if len(node.value) > MAX_SCALAR:
            raise YamlError(f"a value is longer than {MAX_SCALAR} characters", _pos(node))
        return _scalar(node)
    raise YamlError("unsupported YAML node", _pos(node))  # pragma: no cover


_RESOLVER = yaml.SafeLoader("")


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve a scalar with the safe loader's rules (ints, bools, nulls, strings)."""
    tag = node.tag
    if tag == "tag:yaml.org,2002:str" or node.style in ("'", '"', "|", ">"):
        return node.value
    return _RESOLVER.construct_object(node, deep=True)
