"""aiogram's answer types must survive the cyclic collector (adapters/telegram/response_types)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

from aiogram.methods.base import Response
from pydantic import BaseModel

from adapters.telegram.response_types import KeepResponseTypes


class _Probe(BaseModel):
    x: int


class _SendProbe:
    """Stands for a Bot API method: the middleware only looks at its class and its answer type."""

    __returning__ = _Probe


def _parametrised_in_a_function() -> weakref.ref[type[Any]]:
    return weakref.ref(Response[_Probe])


async def _answer(bot: Any, method: Any) -> str:
    return "answered"


def test_pydantic_alone_lets_a_parametrised_answer_type_go() -> None:
    """The cause: what aiogram builds per answer dies at the next collection."""
    built = _parametrised_in_a_function()
    gc.collect()
    assert built() is None


def test_the_middleware_keeps_each_answer_type_built_once() -> None:
    keeper = KeepResponseTypes()
    assert asyncio.run(keeper(_answer, None, _SendProbe())) == "answered"  # type: ignore[arg-type]
    kept = keeper.kept[_SendProbe]
    gc.collect()
    assert _parametrised_in_a_function()() is kept  # the same class, not built again
    asyncio.run(keeper(_answer, None, _SendProbe()))  # type: ignore[arg-type]
    assert keeper.kept == {_SendProbe: kept}
