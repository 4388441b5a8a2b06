# The compiled line reader (`_yamllines.c`); see `yamlfast.py`, which configures and calls it.
from collections.abc import Callable
from typing import Any

SOURCE_HASH: str

def configure(
    value_of: Callable[[str], tuple[int, Any]],
    plain_scalar: Callable[[str], Any],
    read_flow: Callable[[str, int, int, int], tuple[Any, bytes, bytes]],
    uncommon: type[Exception],
    max_depth: int,
    max_scalar: int,
    not_plain_start: str,
    number_start: str,
    words: frozenset[str],
    /,
) -> None: ...
def read(
    text: str, first_number: int, depth: int, /
) -> tuple[dict[str, Any], bytes, bytes] | None: ...
def count_entries(collection: dict[str, Any] | list[Any], /) -> int: ...
