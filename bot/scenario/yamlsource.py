"""Read YAML into plain data while remembering where every value was written.

PyYAML's safe loader would silently keep the last of two duplicate keys, expand aliases without
limit ("billion laughs") and read `no` as false; its Python-side composer is also slow on large
files. So this module builds the data itself from the C parser's event stream: aliases, merge
keys and custom tags are refused, duplicate keys are errors, scalars follow YAML 1.2's core
schema (only true/false are booleans), and every key and item keeps its line and column so that
validation errors point at the exact place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

try:  # libyaml's parser is an order of magnitude faster; the pure one behaves the same.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml ships in PyYAML's wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 40
MAX_SCALAR = 20_000

Path_ = tuple[str | int, ...]

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_PLAIN_TAGS = frozenset({None, "!", "tag:yaml.org,2002:str"})


class Position(NamedTuple):
    """1-based; a tuple because a large file has millions of them and they must be cheap."""

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
    #: only when asked for (`read_yaml(text, spans=True)`), for tools that edit the text:
    #: (start, end) character offsets of every scalar value, and of every mapping with whether
    #: it is written in flow style (`{a: 1}`)
    spans: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    mappings: dict[Path_, tuple[int, int, bool]] = field(default_factory=dict)

    def position_of(self, path: Path_) -> Position:
        """The position of `path`, or of its nearest written ancestor."""
        for cut in range(len(path), -1, -1):
            found = self.positions.get(path[:cut])
            if found is not None:
                return found
        return Position(1, 1)


def read_yaml(text: str, *, spans: bool = False) -> Located:
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise YamlError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            Position(1, 1),
            "split the scenario or move long texts out of it",
        )
    try:
        return _Builder(text, spans).build()
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


def _index(mark: Any) -> int:
    return int(mark.index) if mark is not None else 0


def _pos(event: yaml.Event) -> Position:
    mark = event.start_mark
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


class _Builder:
    """A stack machine over parser events: containers open, fill, close."""

    def __init__(self, text: str, spans: bool = False) -> None:
        self.events = yaml.parse(text, Loader=_Loader)
        self.located = Located(None)
        self.spans = spans
        self._end = 0

    def build(self) -> Located:
        documents = 0
        for event in self.events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlError(
                        "a scenario file holds one document", _pos(event), "remove '---'"
                    )
            elif isinstance(event, yaml.NodeEvent):
                self.located.data = self._node(event, (), 0)
        if documents == 0 or self.located.data is None:
            raise YamlError("the file is empty", Position(1, 1), "start from `signpost new`")
        return self.located

    def _node(self, event: yaml.Event, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"the file is nested more than {MAX_DEPTH} levels deep", _pos(event))
        positions = self.located.positions
        if path not in positions:  # a mapping's value: its key's position is already there
            positions[path] = _pos(event)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlError(
                "anchors and aliases (&name, *name) are not allowed in scenarios",
                _pos(event),
                "write the value out in full; repeated content is easier to review that way",
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.ScalarEvent):
            if self.spans:
                self.located.spans[path] = (_index(event.start_mark), _index(event.end_mark))
            return self._scalar(event)
        if tag not in _PLAIN_TAGS and tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise YamlError(f"the tag '{tag}' is not allowed in scenarios", _pos(event))
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            for child in self.events:
                if isinstance(child, yaml.SequenceEndEvent):
                    return items
                items.append(self._node(child, (*path, len(items)), depth + 1))
        if isinstance(event, yaml.MappingStartEvent):
            mapping = self._mapping(path, depth)
            if self.spans:
                flow = bool(event.flow_style)
                self.located.mappings[path] = (_index(event.start_mark), self._end, flow)
            return mapping
        raise YamlError("unexpected YAML structure", _pos(event))  # pragma: no cover

    def _mapping(self, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_event in self.events:
            if isinstance(key_event, yaml.MappingEndEvent):
                self._end = _index(key_event.start_mark)
                return result
            if not isinstance(key_event, yaml.ScalarEvent) or key_event.anchor:
                raise YamlError("a key must be plain text", _pos(key_event))
            if key_event.value == "<<" and key_event.style is None:
                raise YamlError("merge keys (<<) are not allowed in scenarios", _pos(key_event))
            key = key_event.value
            if key in result:
                first = self.located.positions[(*path, key)]
                raise YamlError(
                    f"the key '{key}' appears twice (first at line {first.line})",
                    _pos(key_event),
                    "remove or rename one of them; YAML would silently keep only the last",
                )
            self.located.positions[(*path, key)] = _pos(key_event)
            value_event = next(self.events)
            result[key] = self._node(value_event, (*path, key), depth + 1)
        raise YamlError("the file ends inside a mapping", Position(1, 1))  # pragma: no cover

    @staticmethod
    def _scalar(event: yaml.ScalarEvent) -> Any:
        value = event.value
        if len(value) > MAX_SCALAR:
            raise YamlError(f"a value is longer than {MAX_SCALAR} characters", _pos(event))
        if event.tag not in _PLAIN_TAGS:
            raise YamlError(f"the tag '{event.tag}' is not allowed in scenarios", _pos(event))
        plain = not event.style and event.tag is None and event.implicit[0]
        if not plain:
            return value
        if value in _NULL:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
        return value
