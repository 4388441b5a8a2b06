"""Long polling that acknowledges an update only after it is kept.

aiogram's own polling confirms updates (the next offset) while their handlers still run, so a
crash loses them. Here a batch is written to the inbox first, and only then is the offset moved
on; if the store cannot keep them, the same batch is asked for again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update

from adapters.telegram.inbox import Inbox
from adapters.telegram.options import TelegramOptions
from adapters.telegram.redact import safe_error
from bot.app.ports import StoreError

log = logging.getLogger(__name__)
#: everything this bot reads; other kinds are not even sent to it
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


async def poll(bot: Bot, inbox: Inbox, stop: asyncio.Event, options: TelegramOptions) -> None:
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        request = GetUpdates(
            offset=offset, timeout=options.poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        try:
            updates = await _until_stopped(bot(request, options.poll_timeout + 10), stop)
        except TelegramRetryAfter as error:
            await _sleep(stop, error.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError, TelegramConflictError) as error:
            # Conflict: another process polls with this token, or a webhook is set.
            failures += 1
            delay = min(options.retry.max_delay, options.retry.first_delay * 2 ** min(failures, 8))
            log.warning("getUpdates failed (%s); again in %.1f s", safe_error(error), delay)
            await _sleep(stop, delay)
            continue
        if updates is None:  # stopped while waiting
            return
        failures = 0
        if not updates:
            continue
        try:
            await inbox.receive_all(updates)
        except StoreError as error:
            log.error("updates not kept (%s): asking for them again", safe_error(error))
            await _sleep(stop, options.retry.first_delay)
            continue
        offset = updates[-1].update_id + 1


async def _until_stopped(
    call: Coroutine[Any, Any, list[Update]], stop: asyncio.Event
) -> list[Update] | None:
    task = asyncio.ensure_future(call)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    # The answer dropped here was never confirmed: Telegram sends those updates again.
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return None


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
