"""`signpost run telegram`: the bot, by long polling or behind a webhook, until `stop` is set.

The bot is a stock aiogram `Bot` whose session goes to `api_url` (Telegram's, or a local Bot
API server) through one flood-control middleware, whose queues are shared through Redis when
`redis_url` is given (several workers, one token). Updates go through the inbox (kept, then
handled in order per trainee, then marked), and a stop lets what is in flight finish.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from aiogram.types import BotCommand, Update
from aiogram.utils.token import TokenValidationError

from adapters.telegram.conversation import Conversation
from adapters.telegram.inbox import Inbox
from adapters.telegram.limiter import FloodControl
from adapters.telegram.media import MediaSender
from adapters.telegram.options import PLATFORM, TelegramOptions
from adapters.telegram.polling import poll
from adapters.telegram.redact import hide_in_logs, safe_error
from adapters.telegram.render import Renderer
from adapters.telegram.response_types import KeepResponseTypes
from adapters.telegram.shared_inbox import SharedInbox
from adapters.telegram.shared_limits import RedisSlots, connect
from adapters.telegram.webhook import run_webhook
from bot.app.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from bot.app.ports import AdapterStore, StoreError
from bot.app.service import TrainingService

log = logging.getLogger(__name__)
#: the command menu, in the order Telegram shows it
MENU = (
    "start",
    "scenarios",
    "hint",
    "pause",
    "resume",
    "restart",
    "quit",
    "debrief",
    "language",
    "help",
    "forget",
)
#: what Telegram accepts as a webhook's secret_token
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: processed updates are pruned at start and then this often
PRUNE_EVERY = 3600.0


class TelegramSetupError(RuntimeError):
    """The bot cannot start (a refused token, a webhook without a secret); says why, no token."""


class TelegramBot:
    """One running bot: everything `serve` wires, kept together for tests and shutdown."""

    def __init__(
        self,
        service: TrainingService,
        store: AdapterStore,
        *,
        token: str,
        api_url: str,
        options: TelegramOptions,
        redis_url: str | None = None,
    ) -> None:
        hide_in_logs(token)
        try:
            session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
            self.bot = Bot(
                token,
                session=session,
                default=DefaultBotProperties(
                    parse_mode=ParseMode.HTML, link_preview_is_disabled=True
                ),
            )
        except TokenValidationError:
            raise TelegramSetupError("the Telegram token is malformed (see @BotFather)") from None
        self.options = options
        #: with several workers (Redis): Telegram's limits per token, and the updates' owners
        self.redis = connect(redis_url) if redis_url else None
        self.shared_limits = (
            RedisSlots(self.redis, token, options.limits) if self.redis is not None else None
        )
        self.flood = FloodControl(
            options.limits, options.retry, slots=self.shared_limits, telemetry=service.telemetry
        )
        self.bot.session.middleware(self.flood)
        self.bot.session.middleware(KeepResponseTypes())
        self.store = store
        self.media = MediaSender(self.bot, store, self.bot.id)
        self.renderer = Renderer(self.bot, self.media, options.pacing)
        self.conversation = Conversation(self.bot, service, self.renderer)
        self.inbox = (
            SharedInbox(
                store,
                self._process,
                self.bot.id,
                options.retry,
                redis=self.redis,
                token=token,
                redis_url=redis_url,
            )
            if self.redis is not None
            else Inbox(store, self._process, self.bot.id, options.retry)
        )

    async def _process(self, update: Update, key: str, replayed: bool) -> None:
        await self.conversation.handle(update, key, replayed=replayed)

    async def start(self) -> None:
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            raise TelegramSetupError("Telegram refused the bot token (401): check it") from None
        log.info("Telegram bot @%s (id %s) starting", me.username, me.id)
        if self.shared_limits is not None and await self.shared_limits.check():
            log.info("Telegram limits shared through Redis (%s)", self.shared_limits.key)
        await self._command_menu()
        await self._prune()
        await self.inbox.replay()

    async def _command_menu(self) -> None:
        """/commands in each UI language; Telegram picks by the client's language."""
        for lang in LANGUAGES:
            commands = [BotCommand(command=c, description=t(lang, f"tg_cmd_{c}")) for c in MENU]
            code = None if lang == DEFAULT_LANGUAGE else lang
            try:
                await self.bot.set_my_commands(commands, language_code=code)
            except TelegramAPIError as error:  # the bot works without a menu
                log.warning("command menu (%s) not set: %s", lang, safe_error(error))

    async def _prune(self) -> None:
        keep = timedelta(hours=self.options.keep_processed_hours)
        try:
            await self.store.prune_updates(PLATFORM, datetime.now(UTC) - keep)
        except StoreError as error:
            log.warning("old updates not pruned: %s", safe_error(error))

    async def _prune_regularly(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY)
            await self._prune()

    async def run(
        self,
        stop: asyncio.Event,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 8081,
    ) -> None:
        """Start, take updates until `stop` is set, let what is in flight finish, close."""
        if webhook_url is not None and not SECRET_SHAPE.fullmatch(webhook_secret or ""):
            await self.bot.session.close()
            await self._close_redis()
            raise TelegramSetupError(
                "the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        graceful = False
        pruning: asyncio.Task[None] | None = None
        try:
            await self.start()
            pruning = asyncio.create_task(self._prune_regularly())
            if webhook_url is not None and webhook_secret is not None:
                await run_webhook(
                    self.bot,
                    self.inbox,
                    stop,
                    url=webhook_url,
                    secret=webhook_secret,
                    host=host,
                    port=port,
                )
            else:
                await self.bot.delete_webhook(drop_pending_updates=False)
                await poll(self.bot, self.inbox, stop, self.options)
            graceful = True
        finally:
            if pruning is not None:
                pruning.cancel()
            if graceful:
                await self.inbox.drain(self.options.drain_timeout)
            else:  # an error or a cancellation: the unfinished are replayed next time
                await self.inbox.cancel()
            await self.bot.session.close()
            await self._close_redis()

    async def _close_redis(self) -> None:
        if isinstance(self.inbox, SharedInbox):
            await self.inbox.leave()  # what is still pending here goes to the other workers
        if self.redis is not None:
            await self.redis.aclose()


async def serve(
    service: TrainingService,
    store: AdapterStore,
    *,
    token: str,
    api_url: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    host: str,
    port: int,
    stop: asyncio.Event,
    options: TelegramOptions | None = None,
    redis_url: str | None = None,
) -> None:
    """Run the Telegram bot until `stop` is set (called by `signpost run telegram`); with
    `redis_url`, Telegram's limits for the token are shared with the other workers."""
    bot = TelegramBot(
        service,
        store,
        token=token,
        api_url=api_url,
        options=options or TelegramOptions.from_env(),
        redis_url=redis_url,
    )
    await bot.run(
        stop, webhook_url=webhook_url, webhook_secret=webhook_secret, host=host, port=port
    )
