"""Webhook mode: Telegram POSTs each update; it is kept before the 200 goes back.

A request without the right `X-Telegram-Bot-Api-Secret-Token` header is refused (anyone can
POST to a public URL). If the store cannot keep the update, the answer is 503 and Telegram
delivers it again later. On stop the webhook stays registered: Telegram holds new updates
until the bot listens again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from adapters.telegram.inbox import Inbox
from adapters.telegram.polling import ALLOWED_UPDATES
from adapters.telegram.redact import safe_error
from bot.app.ports import StoreError

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: an update is a few kilobytes; anything much bigger is not from Telegram
MAX_BODY = 256 * 1024


def listen_path(url: str) -> str:
    """The local path to serve: the public URL's (a reverse proxy passes the path through)."""
    return urlsplit(url).path or "/"


def make_app(inbox: Inbox, secret: str, path: str) -> web.Application:
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("webhook call without the right secret from %s refused", request.remote)
            return web.Response(status=401)
        try:
            payload = await request.json()
            update = Update.model_validate(payload)
        except (ValueError, ValidationError):
            return web.Response(status=400)
        try:
            await inbox.receive(update, payload)
        except StoreError as error:
            log.error("update not kept (%s): Telegram will send it again", safe_error(error))
            return web.Response(status=503)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    return app


async def run_webhook(
    bot: Bot,
    inbox: Inbox,
    stop: asyncio.Event,
    *,
    url: str,
    secret: str,
    host: str,
    port: int,
) -> None:
    runner = web.AppRunner(make_app(inbox, secret, listen_path(url)), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        # Listening first, then telling Telegram: no delivery finds the door closed.
        await bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        log.info("webhook mode: listening on %s:%s%s", host, port, listen_path(url))
        await stop.wait()
    finally:
        await runner.cleanup()
