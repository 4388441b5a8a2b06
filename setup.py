"""The compiled part of Signpost: one optional C extension; everything else is in pyproject.toml.

`bot/scenario/_yamllines.c` is the line reader of `bot/scenario/yamlfast.py` in C (issue #5:
`signpost lint` on a 10,000-node scenario in under 2 s). It is optional: where no C compiler is
found the install goes on, and the same reader runs in Python. The module carries the hash of the
source it was built from, so that a test can tell a stale build (`make install` rebuilds it).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "bot/scenario/_yamllines.c"
DIGEST = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()

setup(
    ext_modules=[
        Extension(
            "bot.scenario._yamllines",
            [SOURCE],
            define_macros=[("SOURCE_HASH", f'"{DIGEST}"')],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
