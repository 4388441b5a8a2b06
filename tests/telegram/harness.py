"""The Telegram adapter under test: the real bot, store and service, against the Bot API peer.

`Harness` runs the stock aiogram bot as an asyncio task (long polling or webhook), can stop it
gracefully, crash it (cancel the task) and start it again on the same database as a new
process would. `Phone` is one trainee: it sends, presses, and waits for what the bot answers.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.telegram.options import Limits, Pacing, Retry, TelegramOptions
from adapters.telegram.runner import TelegramBot
from bot.app.library import ScenarioLibrary
from bot.app.ports import TurnRecord
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue, LoadedScenario
from storage import SqlStore
from tests.peers.telegram import BotApiPeer, buttons_of

TOKEN = "123456789:AAHtest-token-Signpost-peer-0123456789abc"
SECRET = "webhook-secret-0123456789"
#: no pauses, no limits worth speaking of, quick retries: a test waits only for what it tests
FAST = TelegramOptions(
    limits=Limits(per_second=100_000, burst=10_000, per_chat_per_second=10_000, chat_burst=1000),
    retry=Retry(attempts=6, first_delay=0.01, max_delay=0.2, flood_waits=20),
    pacing=Pacing(scale=0.0),
    poll_timeout=10,
    drain_timeout=10.0,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Harness:
    peer: BotApiPeer
    database_url: str
    scenarios: tuple[LoadedScenario, ...]
    store: SqlStore | None = None
    service: TrainingService | None = None
    bot: TelegramBot | None = None
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_port: int = 0

    async def open_store(self, service_class: type[TrainingService] = TrainingService) -> None:
        """What a fresh process does: open the database, build the service."""
        self.store = await SqlStore.open(self.database_url)
        catalogue = Catalogue()
        for loaded in self.scenarios:
            catalogue.scenarios[loaded.id] = loaded
        self.service = service_class(ScenarioLibrary(catalogue, self.store), self.store)

    async def start(
        self, *, webhook: bool = False, options: TelegramOptions = FAST, token: str = TOKEN
    ) -> TelegramBot:
        if self.store is None:
            await self.open_store()
        assert self.store is not None and self.service is not None
        self.stop = asyncio.Event()
        self.bot = TelegramBot(
            self.service, self.store, token=token, api_url=self.peer.url, options=options
        )
        kwargs: dict[str, Any] = {}
        if webhook:
            self.webhook_port = self.webhook_port or free_port()
            kwargs = {
                "webhook_url": f"http://127.0.0.1:{self.webhook_port}/telegram/hook",
                "webhook_secret": SECRET,
                "host": "127.0.0.1",
                "port": self.webhook_port,
            }
        calls = len(self.peer.calls)
        self.task = asyncio.create_task(self.bot.run(self.stop, **kwargs))
        ready = "setWebhook" if webhook else "getUpdates"
        await self.peer.wait_until(
            lambda: self.task.done() or any(c.method == ready for c in self.peer.calls[calls:]),  # type: ignore[union-attr]
            what=f"the bot's first {ready}",
        )
        if self.task.done():
            self.task.result()  # raise what stopped it
        return self.bot

    async def stop_gracefully(self) -> None:
        assert self.task is not None
        self.stop.set()
        await asyncio.wait_for(self.task, 20)

    async def crash(self) -> None:
        """The process dies: the bot task is cancelled wherever it is, the store closed."""
        assert self.task is not None and self.store is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.store.close()
        self.store = self.service = None

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.stop.set()
            try:
                await asyncio.wait_for(self.task, 20)
            except BaseException:
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)
        if self.store is not None:
            await self.store.close()

    # -- the store's view -------------------------------------------------------------------

    async def settled(self, within: float = 10.0) -> None:
        """Wait until every update the bot kept is marked processed."""
        assert self.store is not None
        deadline = asyncio.get_running_loop().time() + within
        while await self.store.pending_updates("telegram"):
            assert asyncio.get_running_loop().time() < deadline, "updates left unprocessed"
            await asyncio.sleep(0.02)

    async def turns(self, user_id: int) -> list[TurnRecord]:
        """Every turn of every session of this trainee, in order."""
        assert self.store is not None
        trainee = await self.store.trainee("telegram", str(user_id))
        log: list[TurnRecord] = []
        for session in await self.store.sessions_of(trainee.id):
            log += await self.store.turns(session.id)
        return log

    def label(self, choice_id: str, language: str = "en") -> str:
        """What the button of `choice_id` says."""
        for loaded in self.scenarios:
            for node in loaded.scenario.nodes.values():
                for choice in node.choices:
                    if choice.id == choice_id:
                        return choice.text[language]
        raise KeyError(choice_id)

    async def choice_data(self, user_id: int, choice_id: str) -> tuple[str, str]:
        """(button data, an English example) for `choice_id` at the trainee's current turn."""
        assert self.store is not None and self.service is not None
        trainee = await self.store.trainee("telegram", str(user_id))
        record = await self.store.active_session(trainee.id)
        assert record is not None, "no active session"
        version = await self.service.library.version(record.scenario_hash, record.scenario_id)
        ids = [b.id for b in version.interview.engine.buttons(record.state)]
        assert choice_id in ids, f"{choice_id} is not open at {record.state.node}: {ids}"
        compiled = version.interview.compiled.choices[choice_id]
        examples = compiled.choice.examples.get(record.state.language) or [""]
        return f"c:{record.state.turn}:{ids.index(choice_id)}", examples[0]


def is_debrief(message: dict[str, Any]) -> bool:
    return str(message.get("text", "")).startswith("📊")


class Phone:
    """One trainee's Telegram app."""

    def __init__(self, peer: BotApiPeer, user_id: int, language: str = "en") -> None:
        self.peer = peer
        self.user_id = user_id
        peer.user(user_id, first_name=f"Trainee {user_id}", language_code=language)

    # -- what is on screen ------------------------------------------------------------------

    def messages(self, after: int = 0) -> list[dict[str, Any]]:
        return [m for m in self.peer.bot_messages(self.user_id) if m["message_id"] > after]

    def texts(self, after: int = 0) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.messages(after)]

    def keyboard(self) -> dict[str, Any]:
        shown = self.peer.with_keyboard(self.user_id)
        assert shown, "no keyboard on screen"
        return shown[-1]

    def button_for(self, label: str) -> str:
        """The data of the button whose choice reads `label`, found as a trainee finds it:
        in the numbered list of the message, then the button with that number."""
        keyboard = self.keyboard()
        lines = keyboard["text"].splitlines()
        number = next(int(n) for n, _, rest in (x.partition(". ") for x in lines) if rest == label)
        return str(buttons_of(keyboard)[number - 1]["callback_data"])

    def mark(self) -> int:
        return self.peer.last_message_id(self.user_id)

    # -- doing things -----------------------------------------------------------------------

    async def send(self, text: str, *, expect: str = "keyboard") -> list[dict[str, Any]]:
        mark = self.mark()
        self.peer.send_text(self.user_id, text)
        return await self.answer(mark, expect)

    async def press(
        self, data: str, *, message_id: int | None = None, expect: str = "keyboard"
    ) -> list[dict[str, Any]]:
        mark = self.mark()
        target = message_id if message_id is not None else self.keyboard()["message_id"]
        _, query = self.peer.press(self.user_id, target, data)
        if expect == "answer":
            await self.peer.wait_until(
                lambda: query in self.peer.callback_answers, what=f"answer to {data}"
            )
            return []
        return await self.answer(mark, expect)

    async def press_label(self, start: str, *, expect: str = "keyboard") -> list[dict[str, Any]]:
        button = next(b for b in buttons_of(self.keyboard()) if b["text"].startswith(start))
        return await self.press(button["callback_data"], expect=expect)

    async def answer(self, mark: int, expect: str, within: float = 15.0) -> list[dict[str, Any]]:
        """Wait for the bot's answer after message `mark`: a new keyboard, the debrief, or
        (expect="message") any message; returns the messages sent since."""

        def arrived() -> bool:
            new = self.messages(mark)
            if expect == "message":
                return bool(new)
            if expect == "debrief":
                return any(is_debrief(m) for m in new)
            return any(m.get("reply_markup") for m in new) or any(is_debrief(m) for m in new)

        await self.peer.wait_until(arrived, within, what=f"{expect} for {self.user_id}")
        return self.messages(mark)


def scenario_path(name: str) -> Path:
    return Path(__file__).parents[2] / "dialogues" / name / "scenario.yaml"
