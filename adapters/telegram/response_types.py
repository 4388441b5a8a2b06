"""Keeps aiogram's answer types alive, so that pydantic does not build them again and again.

aiogram reads every Bot API answer with `Response[method.__returning__]`, a pydantic generic
model parametrised on each call. pydantic caches parametrised models in a WeakValueDictionary
(pydantic/pydantic#6681), and nothing else holds them when they are parametrised inside a
function: each time the cyclic collector runs, the classes die and the next answer builds its
class anew, which costs milliseconds (schema generation included). Under 1,000 trainees this
was 8.5% of a worker's CPU (py-spy, bench/bench_e2e.py). The middleware below holds one reference
per method class, the first time it is sent; afterwards a call costs one dictionary lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

if TYPE_CHECKING:
    from aiogram import Bot


class KeepResponseTypes(BaseRequestMiddleware):
    """Holds `Response[T]` for every kind of method this bot has sent."""

    def __init__(self) -> None:
        self.kept: dict[type[Any], type[Any]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self.kept:
            self.kept[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
