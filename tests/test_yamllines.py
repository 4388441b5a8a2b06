"""The compiled fast reader (`bot/scenario/_yamllines.c`): built, current, and leak-free.

What it reads is held to libyaml's event reader by `tests/test_yaml_readers.py`, which runs every
test with the compiled reader and with the Python one; these tests cover what only C can get
wrong: a stale build, and references leaked or freed twice on the way in and out.
"""

from __future__ import annotations

import gc
import hashlib
import shutil
import sysconfig
import tracemalloc
from pathlib import Path

import pytest

from bot.scenario import yamlfast
from bot.scenario.located import _keys_and_items_in_python
from bot.scenario.synthetic import synthetic_yaml

SOURCE = Path(yamlfast.__file__).with_name("_yamllines.c")


def assert_compiled_reader_built() -> None:
    """The install builds the reader wherever there is a C compiler; then it must be there."""
    if yamlfast._compiled is not None:
        return
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the install runs the fast reader in Python")
    pytest.fail("the compiled reader was not built: run `make install` and read its output")


def test_the_build_is_of_the_current_source() -> None:
    assert_compiled_reader_built()
    assert yamlfast._compiled is not None
    built_from = yamlfast._compiled.SOURCE_HASH
    assert built_from == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), (
        "_yamllines.c changed since it was built: run `make install`"
    )


#: read fine; given up on deep inside (a duplicate key, then a bad indent after a flow value and
#: a multi-line scalar, each after thousands of lines); an unusual character (no reading at all)
TEXTS = {
    "read": synthetic_yaml(200),
    "duplicate key": synthetic_yaml(200).replace(
        "      once: true\n", "      once: true\n      once: true\n", 1
    ),
    "bad indent": synthetic_yaml(200) + "  n9:\n    reveals: []\n     x: 1\n",
    "multi-line": synthetic_yaml(200) + "  n9:\n    say: a\n      b\n",
    "tab": synthetic_yaml(200) + "\t",
}


@pytest.mark.parametrize("case", TEXTS)
def test_reading_again_and_again_keeps_no_memory(case: str) -> None:
    assert_compiled_reader_built()
    text = TEXTS[case]
    was_enabled = gc.isenabled()
    gc.disable()  # so that only what the reader keeps is counted
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(12):
            located = yamlfast.read_common_yaml(text)
            assert (located is not None) == (case == "read")
            del located
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()
    # after a few rounds of warming up, nothing more is kept (a leaked reference per line
    # would be hundreds of kilobytes a round)
    assert sizes[-1] - sizes[3] < 20_000, sizes


def test_counting_entries_agrees_with_python_and_keeps_no_memory() -> None:
    # `located` counts the keys and items below a collection to place a problem deep in a file
    assert_compiled_reader_built()
    assert yamlfast._compiled is not None
    count = yamlfast._compiled.count_entries
    located = yamlfast.read_common_yaml(synthetic_yaml(300))
    assert located is not None
    shapes = [{}, [], {"a": []}, [[[[]]]], {"a": [1, {"b": {}, "c": [None, "x"]}]}, [1] * 500]
    for data in [*shapes, located.data, located.data["nodes"], located.data["nodes"]["n7"]]:
        assert count(data) == _keys_and_items_in_python(data)
    assert count(located.data) == len(located.positions) - 1  # a mark each, and the root's
    with pytest.raises(TypeError, match="a dict or a list"):
        count((1, 2))  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        sizes = []
        for _ in range(12):
            count(located.data)
            sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert sizes[-1] - sizes[3] < 2_000, sizes
