"""The processes `bench.bench_e2e` starts: a Signpost Telegram worker, and a round-robin balancer.

`python -m bench.e2e_procs worker` is `signpost run telegram` (the same wiring: settings from
`SIGNPOST_*`, `bot.bootstrap.runtime`, `adapters.telegram.runner.serve`) with one difference:
the adapter's options are passed in, because the settings cap the bot-wide send rate at 1,000
messages/s and the per-chat rate at 100/s, and a benchmark must not be paced like a real chat.
`BENCH_WEBHOOK_URL` set: webhook mode; unset: long polling.

`python -m bench.e2e_procs balancer PORT BACKEND...` forwards each POST, request by request and
in turn, to the next backend (what nginx or HAProxy in HTTP mode do by default), so that one
trainee's updates reach every worker.

`python -m bench.e2e_procs echo CALLS` is the yardstick: a stock aiogram bot (its own
`Dispatcher` and long polling) that answers every update with CALLS Bot API calls on average,
shaped like a Signpost turn's (the button answered and its message edited, a chat action,
messages, the next keyboard), and does nothing else: no storage, no scenario.

All stop on SIGTERM (a worker gracefully: what is in flight finishes), and when the benchmark
that started them dies. SIGUSR1 makes a worker collect garbage and hand freed heap back to the
system, so that its resident memory is read without the allocator's slack. `BENCH_PROFILE=file`
runs a worker under cProfile and writes its statistics to file.<pid> when it stops.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import itertools
import logging
import os
import signal
import sys

from adapters.telegram.options import Limits, Pacing, Retry, TelegramOptions

#: no pauses, no flood control worth speaking of (Telegram's own limits would be 30 messages/s
#: per bot and 1/s per chat); the retry policy is the default one
OPTIONS = TelegramOptions(
    limits=Limits(per_second=1e6, burst=100_000, per_chat_per_second=1e6, chat_burst=100_000),
    retry=Retry(),
    pacing=Pacing(scale=0.0),
    poll_timeout=10,
    drain_timeout=20.0,
)


LIBC = ctypes.CDLL(None)
#: prctl(PR_SET_PDEATHSIG): the signal this process gets when its parent dies
PR_SET_PDEATHSIG = 1


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _trim)
    return stop


def _trim() -> None:
    gc.collect()
    if hasattr(LIBC, "malloc_trim"):  # glibc
        LIBC.malloc_trim(0)


async def worker() -> None:
    from adapters.telegram.runner import serve
    from bot.bootstrap import runtime
    from bot.config import Settings

    settings = Settings()
    assert settings.telegram_token is not None and settings.telegram_webhook_secret is not None
    # as `signpost run telegram` logs (text format)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    webhook = os.environ.get("BENCH_WEBHOOK_URL") or None
    # as `signpost run telegram` passes it: the workers share Telegram's limits and their updates
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    stop = _stop_on_signals()
    async with runtime(settings) as rt:
        await serve(
            rt.service,
            rt.store,
            token=settings.telegram_token.get_secret_value(),
            api_url=settings.telegram_api_url,
            webhook_url=webhook,
            webhook_secret=settings.telegram_webhook_secret.get_secret_value(),
            host=settings.telegram_webhook_host,
            port=settings.telegram_webhook_port,
            stop=stop,
            options=OPTIONS,
            redis_url=redis_url,
        )


async def balancer(port: int, backends: list[str]) -> None:
    import aiohttp
    from aiohttp import web

    turn = itertools.cycle(backends)
    forwarded = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
    client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: request.headers[k] for k in forwarded if k in request.headers}
        try:
            async with client.post(
                next(turn) + request.path_qs, data=body, headers=headers
            ) as reply:
                return web.Response(status=reply.status, body=await reply.read())
        except aiohttp.ClientError:
            return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = _stop_on_signals()
    print("listening", flush=True)
    await stop.wait()
    await runner.cleanup()
    await client.close()


async def echo(calls: float) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ChatAction, ParseMode
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    bot = Bot(
        os.environ["SIGNPOST_TELEGRAM_TOKEN"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BENCH_API_URL"])),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    dispatcher = Dispatcher()
    line = (
        "<b>Officer:</b> He said the job was in a restaurant, but when we arrived he kept our "
        "passports and said we owed him for the tickets."
    )
    choices = "\n".join(f"{n}. A possible next question, number {n}" for n in (1, 2, 3))
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=str(n), callback_data="next") for n in (1, 2)]]
    )

    # a fractional CALLS: one more message on that share of the updates
    share = {"owed": 0.0}

    async def say(chat: int, sends: int) -> None:
        share["owed"] += calls % 1
        if share["owed"] >= 1:
            share["owed"] -= 1
            sends += 1
        await bot.send_chat_action(chat, ChatAction.TYPING)
        for _ in range(sends):
            await bot.send_message(chat, line)
        await bot.send_message(chat, choices, reply_markup=keyboard)

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        await say(message.chat.id, max(0, int(calls) - 2))

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await bot.edit_message_text(
            choices + "\n\n✅ 1", chat_id=query.message.chat.id, message_id=query.message.message_id
        )
        await say(query.message.chat.id, max(0, int(calls) - 4))

    await dispatcher.start_polling(bot, polling_timeout=10)


def main(argv: list[str]) -> int:
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if argv[:1] == ["echo"] and len(argv) == 2:
        asyncio.run(echo(float(argv[1])))
        return 0
    if argv[:1] == ["worker"]:
        profile = os.environ.get("BENCH_PROFILE")  # FILE.<pid>: the worker's cProfile stats
        if profile:
            import cProfile

            cProfile.run("asyncio.run(worker())", f"{profile}.{os.getpid()}")
        else:
            asyncio.run(worker())
        return 0
    if argv[:1] == ["balancer"] and len(argv) >= 3:
        asyncio.run(balancer(int(argv[1]), argv[2:]))
        return 0
    print(
        "usage: python -m bench.e2e_procs worker | balancer PORT BACKEND... | echo CALLS",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
