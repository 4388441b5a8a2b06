"""A fast reader for the plain, common part of YAML that scenario files are written in.

`yamlsource` builds the data and its positions from libyaml's event stream; creating and
dispatching a Python object per event costs about 4 s for a generated 10,000-node scenario
(13 MB), where `signpost lint` must take under 2 s (issue #5). Yet scenarios, hand-written or
generated, use a small and regular part of YAML: block mappings and sequences laid out by
indentation, one-line flow collections (`{en: "...", pl: "..."}`, `[en, pl]`), one-line plain
and quoted scalars, and comments, on lines of their own or after a value. This module reads
exactly that part, line by line with regular expressions, and builds the same data and positions
as the event reader.

Anything else, it does not try to understand: it gives up and returns None, and the event reader
reads the file with its own rules and messages. That covers anchors, aliases, tags, merge keys,
block and multi-line scalars, escapes other than \\\\ \\" \\n \\t, a comment after a quote on
its line (it might be inside the quotes), tabs, unusual line breaks or characters, any
indentation it does not expect, duplicate keys, nesting near the depth limit, long values and
every syntax error. So a file is either read by the rules below, which agree with libyaml's on
what they accept (the tests compare both readers on every shipped scenario, the broken-scenario
corpus and thousands of mutated files), or by libyaml.

The same rules are compiled in `_yamllines.c`, which reads a large file about five times faster;
it is used wherever the install could build it, and the Python below is the reference for it and
the reader everywhere else. The tests hold both to libyaml's results.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from bot.scenario.located import (
    MAX_DEPTH,
    MAX_SCALAR,
    NUMBER_START,
    TYPED_START,
    WORDS,
    Located,
    Marks,
    plain_scalar,
)

#: Characters that send a file to the event reader: tab and carriage return (YAML's rules for
#: them are subtle), the other line breaks libyaml knows (NEL, LS, PS), the byte order mark, and
#: everything YAML forbids (the event reader reports it).
_UNUSUAL = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)

#: A key is a plain word: quoted keys, `<<` and `? ` go to libyaml, and so do keys over 1,000
#: characters (libyaml looks no further than 1,024 characters for the ':' of a key).
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,999}"
_KEY_WORD = re.compile(_KEY)
#: what a plain scalar may not start with (YAML's indicators); '-' is let through before a digit
#: or a dot, by `_inline`
_NOT_PLAIN_START = frozenset(" -?:,[]{}#&*!|>'\"%@`")
_DOUBLE = r'"((?:[^"\\]|\\[\\"nt])*)"'
_SINGLE = r"'((?:[^']|'')*)'"
_DOUBLE_LINE = re.compile(_DOUBLE + "$")
_SINGLE_LINE = re.compile(_SINGLE + "$")
_NEGATIVE_PLAIN = re.compile(r"-[0-9.][^:#]*$")
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\t": "\t"}
_ESCAPE = re.compile(r"\\.")
_PLAIN_START = r"""(?:[^\s\-?:,\[\]{}#&*!|>'"%@`]|-(?=[0-9.]))"""
#: one token of a flow collection, after optional spaces
_FLOW_TOKEN = re.compile(
    rf" *(?:([\[{{])|([\]}}])|(,)|({_KEY}): +|{_DOUBLE}|{_SINGLE}|({_PLAIN_START}[^:#,\[\]{{}}]*))"
)
_OPEN, _CLOSE, _COMMA, _FLOW_KEY, _DQ, _SQ, _PLAIN = range(1, 8)

#: an open block collection: is it a mapping, the column of its keys or dashes, itself, depth
_Frame = tuple[bool, int, Any, int]
#: What a line says, whatever its place (see `_line`): its shape (`2 * column + 1` for an item,
#: `- ...`; `2 * column` for a key; -2 for a blank line or a comment), its kind (below), its key
#: ("" for an item that is a value), its value (a scalar read, or the text of a flow
#: collection), the 1-based column of its key or item, and the 0-based column of its value.
_Line = tuple[int, int, str, Any, int, int]
# `key: scalar` (the usual line, first), `key:` with its value below, `key: [...]` or `{...}`
_SCALAR, _NESTED, _FLOW = range(3)
# `- scalar`, `- [...]`, and `- key...` (then one of the three above, plus `_ITEM_KEY`)
_ITEM_SCALAR, _ITEM_FLOW, _ITEM_KEY = range(3, 6)
_BLANK: _Line = (-2, _SCALAR, "", None, 0, 0)


class UncommonYamlError(Exception):
    """The file leaves the common part of YAML: the event reader takes it from here."""


def read_common_yaml(text: str) -> Located | None:
    """The same `Located` as the event reader's, or None if `text` leaves the common part."""
    if _compiled is not None:
        return _read_compiled(text)
    return read_common_yaml_in_python(text)


def read_common_yaml_in_python(text: str) -> Located | None:
    """`read_common_yaml` without the compiled reader."""
    if has_unusual_characters(text):
        return None
    try:
        return read_lines(text.split("\n"))
    except UncommonYamlError:
        return None


def _read_compiled(text: str) -> Located | None:
    assert _compiled is not None
    try:
        read = _compiled.read(text, 1, 0)
    except UncommonYamlError:
        return None
    if read is None:
        return None  # an unusual character
    root, lines, columns = read
    marks = Marks()
    marks.lines.frombytes(lines)
    marks.columns.frombytes(columns)
    return Located(root, marks=marks)


def _read_flow(text: str, number: int, col: int, depth: int) -> tuple[Any, bytes, bytes]:
    """A flow collection for the compiled reader, with the marks it made."""
    marks = Marks()
    value = _Flow(text, number, col, marks).read(depth)
    return value, marks.lines.tobytes(), marks.columns.tobytes()


def has_unusual_characters(text: str) -> bool:
    return _UNUSUAL.search(text) is not None


def read_lines(lines: list[str], first_number: int = 1, depth: int = 0) -> Located:
    """One pass over the lines, with a stack of the block collections still open.

    A line belongs to the innermost open collection at its column: deeper lines are only
    expected right after `key:`, and shallower ones close collections. `- key: value` opens a
    mapping at the column of `key`, as YAML itself reads it.

    This loop runs for each of a large file's hundreds of thousands of lines, so it is written
    for speed. What a line says is worked out once per distinct line (`_line`): scenarios repeat
    the same lines over and over (`speaker: p`, `once: true`, `- en`). The innermost collection
    is kept in locals, with the shape of line it expects next, so that the usual line (the next
    key of the same mapping, the next item of the same sequence) costs one comparison to place.
    Positions are not built but marked: the line and column of each key and item, in the order
    written (see `Located`), which costs a tenth of a path and a dictionary entry each.

    `lines` may be a part of a file: its first is line `first_number`, and it
    is a block mapping `depth` collections deep.
    """
    said: dict[str, _Line] = dict.fromkeys(lines, _BLANK)  # each distinct line, said below
    if max(map(len, said)) > MAX_SCALAR:
        raise UncommonYamlError  # a value may be too long: the event reader says which
    keys: dict[str, str] = {}  # the keys found to be plain words, each kept once
    for raw in said:
        said[raw] = _line(raw, keys)
    infos = list(map(said.__getitem__, lines))
    infos.append(_BLANK)  # so that a line can always look at the next one
    marks = Marks()
    mark_line, mark_column = marks.lines.append, marks.columns.append
    stack: list[_Frame] = []
    pending: tuple[int, dict[str, Any], str, int] | None = None  # `key:` with its value below
    root: dict[str, Any] | None = None
    container: Any = None  # the innermost collection, a dict or a list, and what it is:
    is_mapping, top_col = True, -1
    expected = -1  # the shape of its next line; none (-1) at first, and after `key:`
    before = first_number - 1  # `infos[number - before]` is the line after line `number`
    for number, (shape, kind, key, value, key_mark, value_col) in enumerate(infos, first_number):
        if shape != expected:
            if shape < 0:
                continue  # a blank line or a comment
            col, item = shape >> 1, shape & 1
            if pending is not None:  # the value of the last `key:` starts here, or it is null
                parent_col, parent, parent_key, value_depth = pending
                pending = None
                if col > parent_col or (col == parent_col and item):
                    if value_depth >= MAX_DEPTH:
                        raise UncommonYamlError
                    container = [] if item else {}
                    parent[parent_key] = container
                    is_mapping, top_col, depth = not item, col, value_depth
                    stack.append((is_mapping, col, container, depth))
                else:
                    parent[parent_key] = None
            elif root is None:  # the first line: the document must be a block mapping
                if item:
                    raise UncommonYamlError
                root = container = {}
                is_mapping, top_col = True, col
                stack.append((True, col, root, depth))
                mark_line(number)
                mark_column(col + 1)
            while col != top_col or item == is_mapping:  # close what this line is outside of
                if col > top_col or (col == top_col and is_mapping):
                    raise UncommonYamlError  # deeper, not after `key:`: a multi-line scalar?
                stack.pop()  # shallower, or a key after a compact sequence: that one is done
                if not stack:
                    raise UncommonYamlError
                is_mapping, top_col, container, depth = stack[-1]
            expected = shape
        if kind == _SCALAR:  # the usual line: `key: word` in the mapping of the line before
            if key in container:
                raise UncommonYamlError  # a duplicate key: the event reader reports it
            mark_line(number)
            mark_column(key_mark)
            container[key] = value
            continue
        if kind >= _ITEM_SCALAR:
            mark_line(number)
            mark_column(key_mark)
            if kind == _ITEM_SCALAR:
                container.append(value)
                continue
            if kind == _ITEM_FLOW:
                container.append(_Flow(value, number, value_col, marks).read(depth + 1))
                continue
            if depth + 1 >= MAX_DEPTH:
                raise UncommonYamlError
            child: dict[str, Any] = {}  # `- key: ...` opens a mapping at the column of `key`
            container.append(child)
            is_mapping, top_col, container, depth = True, key_mark - 1, child, depth + 1
            stack.append((True, top_col, child, depth))
            expected = 2 * top_col
            kind -= _ITEM_KEY
        if key in container:
            raise UncommonYamlError
        mark_line(number)
        mark_column(key_mark)
        if kind == _SCALAR:
            container[key] = value
        elif kind == _NESTED:
            # `key:`, its value below: open it now if the next line starts it, so that the next
            # line is placed like any other (a third of a scenario's lines follow a `key:`)
            next_shape = infos[number - before][0]
            next_col = next_shape >> 1
            if next_shape < 0:  # a blank line or a comment: wait for the value's first line
                pending = (key_mark - 1, container, key, depth + 1)
                expected = -1
            elif next_col > key_mark - 1 or (next_col == key_mark - 1 and next_shape & 1):
                if depth + 1 >= MAX_DEPTH:
                    raise UncommonYamlError
                item = next_shape & 1
                nested: Any = [] if item else {}
                container[key] = nested
                is_mapping, top_col, container, depth = not item, next_col, nested, depth + 1
                stack.append((is_mapping, top_col, container, depth))
                expected = next_shape
            else:
                container[key] = None
        else:
            container[key] = _Flow(value, number, value_col, marks).read(depth + 1)
    if pending is not None:
        pending[1][pending[2]] = None
    if root is None:
        raise UncommonYamlError  # nothing but comments: the event reader says the file is empty
    return Located(root, marks=marks)


def _line(raw: str, keys: dict[str, str]) -> _Line:
    """What one line says (see `_Line`), or `UncommonYamlError` if it leaves the common part."""
    content = raw.lstrip(" ")
    if not content or content[0] == "#":
        return _BLANK
    col = len(raw) - len(content)
    if content[-1] == " ":
        content = content.rstrip(" ")
    comment = content.find(" #")
    if comment > 0 and '"' not in content[:comment] and "'" not in content[:comment]:
        content = content[:comment].rstrip(" ")  # a comment after the value (none in quotes)
    item = content[:2] == "- "
    key_col = col
    if item:
        rest = content[2:].lstrip(" ")
        key_col = col + len(content) - len(rest)
        if rest[0] in "\"'[{" or ":" not in rest:  # a value, not `key: ...`
            kind, value = _value(rest)
            kind = _ITEM_FLOW if kind == _FLOW else _ITEM_SCALAR
            return 2 * col + 1, kind, "", value, key_col + 1, key_col
        content = rest
    shape = 2 * col + item
    extra = _ITEM_KEY if item else 0
    colon = content.find(":")
    if colon < 0:
        raise UncommonYamlError  # a value where a key should be
    key = keys.get(content[:colon], "")
    if not key:
        key = content[:colon]
        if _KEY_WORD.fullmatch(key) is None:
            raise UncommonYamlError  # a quoted key, `<<`, `? `...
        keys[key] = key
    if colon + 1 == len(content):
        return shape, _NESTED + extra, key, None, key_col + 1, 0
    if content[colon + 1] != " ":
        raise UncommonYamlError
    text = content[colon + 2 :]
    if text[0] == " ":
        text = text.lstrip(" ")
    first = text[0]
    if first in _NOT_PLAIN_START or ":" in text or "#" in text:
        kind, value = _value(text)
    else:  # a plain scalar (the usual value): `_value`, without the call
        kind, value = _SCALAR, plain_scalar(text) if first in TYPED_START else text
    return shape, kind + extra, key, value, key_col + 1, key_col + len(content) - len(text)


def _value(text: str) -> tuple[int, Any]:
    """A value written on its line: a scalar, read; a flow collection, to be read in place."""
    first = text[0]
    if first in "[{":
        return _FLOW, text
    if first == '"':
        match = _DOUBLE_LINE.match(text)
        if match is None:
            raise UncommonYamlError
        return _SCALAR, _unescape(match.group(1)).strip()
    if first == "'":
        match = _SINGLE_LINE.match(text)
        if match is None:
            raise UncommonYamlError
        return _SCALAR, match.group(1).replace("''", "'").strip()
    if first in _NOT_PLAIN_START and _NEGATIVE_PLAIN.match(text) is None:
        raise UncommonYamlError
    if ":" in text or "#" in text:
        raise UncommonYamlError  # `a: b: c`, a URL, `a#b`, or a comment after quotes
    return _SCALAR, plain_scalar(text)


class _Flow:
    """One flow collection that opens and closes on its line, such as `{en: "Hi", pl: Cześć}`."""

    def __init__(self, text: str, number: int, col: int, marks: Marks) -> None:
        self.text = text
        self.number = number
        self.col = col
        self.marks = marks
        self.pos = 0

    def read(self, depth: int) -> Any:
        value = self._node(self._token(), depth)
        if self.text[self.pos :].strip(" "):
            raise UncommonYamlError  # something after the collection, such as a comment
        return value

    def _token(self) -> re.Match[str]:
        match = _FLOW_TOKEN.match(self.text, self.pos)
        if match is None:
            raise UncommonYamlError
        self.pos = match.end()
        return match

    def _mark(self, token: re.Match[str]) -> None:
        """Where a token starts: at its opening quote, for a quoted scalar."""
        kind = token.lastindex or 0
        col = self.col + token.start(kind) - (kind in (_DQ, _SQ))
        self.marks.lines.append(self.number)
        self.marks.columns.append(col + 1)

    def _node(self, token: re.Match[str], depth: int) -> Any:
        kind = token.lastindex
        if kind == _DQ:
            return _unescape(token.group(_DQ)).strip()
        if kind == _SQ:
            return token.group(_SQ).replace("''", "'").strip()
        if kind == _PLAIN:
            return plain_scalar(token.group(_PLAIN).rstrip(" "))
        if kind != _OPEN or depth >= MAX_DEPTH:
            raise UncommonYamlError
        if token.group(_OPEN) == "[":
            return self._sequence(depth)
        return self._mapping(depth)

    def _sequence(self, depth: int) -> list[Any]:
        items: list[Any] = []
        token = self._token()
        if token.lastindex == _CLOSE and token.group(_CLOSE) == "]":
            return items
        while True:
            if token.lastindex in (_CLOSE, _COMMA, _FLOW_KEY):
                raise UncommonYamlError  # `[a,,b]`, `[a: b]`, or a trailing comma
            self._mark(token)
            items.append(self._node(token, depth + 1))
            token = self._token()
            if token.lastindex == _CLOSE and token.group(_CLOSE) == "]":
                return items
            if token.lastindex != _COMMA:
                raise UncommonYamlError
            token = self._token()

    def _mapping(self, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        token = self._token()
        if token.lastindex == _CLOSE and token.group(_CLOSE) == "}":
            return result
        while True:
            if token.lastindex != _FLOW_KEY:
                raise UncommonYamlError
            key = token.group(_FLOW_KEY)
            if key in result:
                raise UncommonYamlError
            self._mark(token)
            result[key] = self._node(self._token(), depth + 1)
            token = self._token()
            if token.lastindex == _CLOSE and token.group(_CLOSE) == "}":
                return result
            if token.lastindex != _COMMA:
                raise UncommonYamlError
            token = self._token()


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def _load_compiled() -> ModuleType | None:
    try:
        from bot.scenario import _yamllines
    except ImportError:  # built without a C compiler: the reader above, in Python
        return None
    _yamllines.configure(
        _value,
        plain_scalar,
        _read_flow,
        UncommonYamlError,
        MAX_DEPTH,
        MAX_SCALAR,
        "".join(sorted(_NOT_PLAIN_START)),
        "".join(sorted(NUMBER_START)),
        WORDS,
    )
    return _yamllines


_compiled = _load_compiled()
