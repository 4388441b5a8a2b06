"""What reading a YAML file yields: plain data, and where every value of it was written.

Shared by the two readers (`yamlsource`, which follows libyaml's events, and `yamlfast`, which
reads the common layout line by line), so that both build exactly the same thing.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 40
MAX_SCALAR = 20_000

Path_ = tuple[str | int, ...]

_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
#: The plain scalars that are not strings: these words, and numbers, which start with one of
#: NUMBER_START. So every one of them starts with one of TYPED_START.
WORDS = _NULL | _TRUE | _FALSE
NUMBER_START = frozenset("0123456789+-.")
TYPED_START = NUMBER_START | {word[0] for word in WORDS if word}


class Position(NamedTuple):
    """1-based line and column."""

    line: int
    column: int


@dataclass(slots=True)
class YamlError(Exception):
    message: str
    position: Position
    hint: str = ""


class Located:
    """The data read from a file, and the (line, column) of every key and item in it.

    The event reader fills `positions` as it goes. The fast reader (`yamlfast`) only keeps
    `Marks`: the line and column of each key and item in the order they are written, which is
    the order a depth-first walk of the data meets them (dictionaries keep their keys in the
    order read). `position_of` finds a mark by counting along the data; `positions`, the whole
    table, is made from the marks only if asked for.

    Positions are plain tuples rather than `Position`s because a large file has close to a
    million of them and a named tuple costs ten times as much to make; `position_of` hands out
    `Position`s.
    """

    __slots__ = ("_count_memo", "_marks", "_offset_memo", "_positions", "data", "mappings", "spans")

    def __init__(
        self,
        data: Any,
        positions: dict[Path_, tuple[int, int]] | None = None,
        *,
        marks: Marks | None = None,
    ) -> None:
        self.data = data
        self._positions = positions if positions is not None else {}
        self._marks = marks
        self._offset_memo: dict[int, dict[Any, int]] = {}  # by id: see `_offsets`
        self._count_memo: dict[int, int] = {}  # by id: see `_marks_below`
        #: only when asked for (`read_yaml(text, spans=True)`), for tools that edit the text:
        #: (start, end) character offsets of every scalar value, and of every mapping with
        #: whether it is written in flow style (`{a: 1}`)
        self.spans: dict[Path_, tuple[int, int]] = {}
        self.mappings: dict[Path_, tuple[int, int, bool]] = {}

    @property
    def positions(self) -> dict[Path_, tuple[int, int]]:
        if self._marks is not None:
            self._positions = _positions_from_marks(self.data, self._marks)
            self._marks = None
        return self._positions

    def position_of(self, path: Path_) -> Position:
        """The position of `path`, or of its nearest written ancestor."""
        if self._marks is not None:
            index = self._mark_of(path)
            return Position(self._marks.lines[index], self._marks.columns[index])
        positions = self._positions
        for cut in range(len(path), -1, -1):
            found = positions.get(path[:cut])
            if found is not None:
                return Position(*found)
        return Position(1, 1)

    def _mark_of(self, path: Path_) -> int:
        """The mark of `path`'s nearest written ancestor, found by counting the keys and items
        written before it down the path, so that a file with a few problems does not build the
        positions of everything (a large one has close to a million)."""
        index = 0  # the document
        value = self.data
        for part in path:
            if not _holds(value, part):
                break
            index += self._offsets(value)[part]
            value = value[part]
        return index

    def _offsets(self, collection: dict[str, Any] | list[Any]) -> dict[Any, int]:
        """How many marks after the collection's own each of its keys or items has (remembered:
        the data is not changed once read, and problems often share their ancestors)."""
        offsets = self._offset_memo.get(id(collection))
        if offsets is None:
            offsets = {}
            count = 0
            for key, child in _entries(collection):
                count += 1
                offsets[key] = count
                count += self._marks_below(child)
            self._offset_memo[id(collection)] = offsets
        return offsets

    def _marks_below(self, value: Any) -> int:
        """How many keys and items are written inside `value` (remembered for `value` only:
        its descendants are counted in one loop, not a call and a memo entry each, which took
        half as long again on a large file)."""
        if not isinstance(value, dict | list) or not value:
            return 0
        count = self._count_memo.get(id(value))
        if count is None:
            count = _keys_and_items(value)
            self._count_memo[id(value)] = count
        return count


def _keys_and_items_in_python(collection: dict[str, Any] | list[Any]) -> int:
    """How many keys and items are written inside `collection`, however deep."""
    # Exact types, not isinstance: only the fast reader's data has marks, and it is made of
    # plain dicts and lists; the checks are most of this loop's time (isinstance: 50% more).
    count = 0
    waiting: list[dict[str, Any] | list[Any]] = [collection]
    while waiting:
        value = waiting.pop()
        count += len(value)
        for child in value.values() if type(value) is dict else value:
            if child and (type(child) is dict or type(child) is list):
                waiting.append(child)
    return count


try:  # the same count in C (`_yamllines.c`): a problem deep in a 10,000-node file is placed
    # in a few hundredths of a second instead of a third of one
    from bot.scenario._yamllines import count_entries as _keys_and_items
except ImportError:  # built without a C compiler
    _keys_and_items = _keys_and_items_in_python


def _holds(value: Any, part: str | int) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)


@dataclass(slots=True)
class Marks:
    """The line and column (1-based) of the document, then of each key and item, in the order
    written: two arrays of machine ints, which cost less to fill than a tuple or a path per key,
    and keep no int object alive (a large file has close to a million marks)."""

    lines: array[int] = field(default_factory=lambda: array("l"))
    columns: array[int] = field(default_factory=lambda: array("l"))


def _positions_from_marks(data: Any, marks: Marks) -> dict[Path_, tuple[int, int]]:
    """Walk `data` depth first, giving the document, then each key and item, the next mark."""
    unread = zip(marks.lines, marks.columns, strict=True)
    positions: dict[Path_, tuple[int, int]] = {(): next(unread)}
    # a stack of the collections being walked, each with what is left of its entries
    walking: list[tuple[Path_, Iterator[tuple[Any, Any]]]] = [((), _entries(data))]
    while walking:
        path, entries = walking[-1]
        for key, child in entries:
            child_path = (*path, key)
            positions[child_path] = next(unread)
            if isinstance(child, dict | list) and child:
                walking.append((child_path, _entries(child)))
                break  # its entries come before the next of this collection's
        else:
            walking.pop()
    return positions


def _entries(collection: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    return iter(collection.items()) if isinstance(collection, dict) else enumerate(collection)


def plain_scalar(value: str) -> Any:
    """An unquoted scalar by YAML 1.2's core schema, except that only true/false are booleans
    (YAML 1.1 also read `no`, `on`, `y` as booleans, which surprises authors)."""
    if value and value[0] not in TYPED_START:
        return value  # most scalars are words: skip the lookups below
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.match(value):
        try:
            return int(value)
        except ValueError:  # over Python's 4,300 digits: kept as text, refused where it stands
            return value
    if _FLOAT.match(value):
        return float(value)
    return value
