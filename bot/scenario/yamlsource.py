"""Read YAML into plain data while remembering where every value was written.

PyYAML's safe loader would silently keep the last of two duplicate keys, expand aliases without
limit ("billion laughs") and read `no` as false; its Python-side composer is also slow on large
files. So this module builds the data itself from the C parser's event stream: aliases, merge
keys and custom tags are refused, duplicate keys are errors, scalars follow YAML 1.2's core
schema (only true/false are booleans), quoted and block texts lose the whitespace around them
as plain ones do (a `|` block's last line break, a stray space inside quotes), and every key
and item keeps its line and column so that validation errors point at the exact place.

Files in the usual layout (nearly all) are read by `yamlfast` instead, which builds the same
data and positions several times faster; it leaves every other file to the event reader here.
"""

from __future__ import annotations

from typing import Any

import yaml

from bot.scenario import yamlfast
from bot.scenario.located import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_SCALAR,
    Located,
    Path_,
    Position,
    YamlError,
    plain_scalar,
)

try:  # libyaml's parser is an order of magnitude faster; the pure one behaves the same.
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml ships in PyYAML's wheels
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

__all__ = ["Located", "Path_", "Position", "YamlError", "read_yaml"]

_PLAIN_TAGS = frozenset({None, "!", "tag:yaml.org,2002:str"})


def read_yaml(text: str, *, spans: bool = False) -> Located:
    """The data of `text`, located; `spans` (for tools that edit the text) takes the event
    reader, the only one that records them."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise YamlError(
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            Position(1, 1),
            "split the scenario or move long texts out of it",
        )
    if not spans:
        fast = yamlfast.read_common_yaml(text)
        if fast is not None:
            return fast
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


def _pos(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _at(event: yaml.Event) -> Position:
    return Position(*_pos(event))


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
                        "a scenario file holds one document", _at(event), "remove '---'"
                    )
            elif isinstance(event, yaml.NodeEvent):
                self.located.data = self._node(event, (), 0)
        if documents == 0 or self.located.data is None:
            raise YamlError("the file is empty", Position(1, 1), "start from `signpost new`")
        return self.located

    def _node(self, event: yaml.Event, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise YamlError(f"the file is nested more than {MAX_DEPTH} levels deep", _at(event))
        positions = self.located.positions
        if path not in positions:  # a mapping's value: its key's position is already there
            positions[path] = _pos(event)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlError(
                "anchors and aliases (&name, *name) are not allowed in scenarios",
                _at(event),
                "write the value out in full; repeated content is easier to review that way",
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, yaml.ScalarEvent):
            if self.spans:
                self.located.spans[path] = (_index(event.start_mark), _index(event.end_mark))
            return self._scalar(event)
        if tag not in _PLAIN_TAGS and tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise YamlError(f"the tag '{tag}' is not allowed in scenarios", _at(event))
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
        raise YamlError("unexpected YAML structure", _at(event))  # pragma: no cover

    def _mapping(self, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_event in self.events:
            if isinstance(key_event, yaml.MappingEndEvent):
                self._end = _index(key_event.start_mark)
                return result
            if not isinstance(key_event, yaml.ScalarEvent) or key_event.anchor:
                raise YamlError("a key must be plain text", _at(key_event))
            if key_event.value == "<<" and key_event.style is None:
                raise YamlError("merge keys (<<) are not allowed in scenarios", _at(key_event))
            key = key_event.value if key_event.style is None else key_event.value.strip()
            if key in result:
                first = self.located.positions[(*path, key)]
                raise YamlError(
                    f"the key '{key}' appears twice (first at line {first[0]})",
                    _at(key_event),
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
            raise YamlError(f"a value is longer than {MAX_SCALAR} characters", _at(event))
        if event.tag not in _PLAIN_TAGS:
            raise YamlError(f"the tag '{event.tag}' is not allowed in scenarios", _at(event))
        plain = not event.style and event.tag is None and event.implicit[0]
        return plain_scalar(value) if plain else value.strip()
