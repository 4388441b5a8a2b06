"""10,000 hostile chat inputs through the service and the messengers' renderers.

Very long texts, control characters, bidi marks, zero-width joiners, emoji, HTML and Markdown
injection, SQL-looking text, forged and replayed button data, stale buttons, two presses of
one button at once, messages after /quit. Nothing may raise, nothing invalid may change a
session, and whatever the bot echoes must be escaped for each platform's formatting.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.matrix.render import Typing
from adapters.matrix.render import render as matrix_render
from adapters.telegram import formatting as telegram
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, DebriefOut, Incoming, Outgoing, TextOut
from bot.app.service import TrainingService
from bot.scenario.loader import load_catalogue
from storage import SqlStore
from tests.conftest import DIALOGUES, REPORT

INPUTS = 10_000
TRAINEES = 20
ATOMS = [
    "<script>alert(1)</script>",
    "<b>bold</b><img src=x onerror=alert(1)>",
    "**bold** _it_ `code` [link](http://127.0.0.1/)",
    "'; DROP TABLE turns; --",
    "\u202eevil\u202c",
    "\u200d\u200b\u2060",
    "🙂👩🏽‍⚕️🇵🇱",
    "\x00\x01\x07\x1b[31m",
    "&amp;&lt;&#60;",
    "Zażółć gęślą jaźń",
    "/start",
    "/quit",
    "/resume",
    "!hint",
    "/nonsense",
    "/start ../../etc/passwd",
    "Tell me about your trip.",
    "Why did you lie?",
    " ",
    "x" * 5000,
]
FORGED = [
    "c:0:0",
    "c:999:0",
    "c:1:99",
    "c:-1:0",
    "s:../../x",
    "l:xx",
    "f:yes",
    "c:a:b",
    "",
    "x" * 80,
]


def hostile(rng: random.Random) -> str:
    return "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 4)))[:6000]


def unescaped(html_text: str) -> bool:
    """Markup a renderer must never emit from input: a script tag, an event handler, an img."""
    return bool(re.search(r"<\s*(script|img|iframe)|<[^>]*\bon\w+\s*=", html_text, re.IGNORECASE))


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[tuple[TrainingService, SqlStore]]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'hostile.db'}")
    service = TrainingService(ScenarioLibrary(load_catalogue([DIALOGUES]), store), store)
    service.sleep = lambda _s: asyncio.sleep(0)
    yield service, store
    await store.close()


async def log_sizes(store: SqlStore, users: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for user in users:
        trainee = await store.trainee("hostile", user)
        for session in await store.sessions_of(trainee.id):
            sizes[session.id] = len(await store.turns(session.id))
    return sizes


def check_rendering(replies: list[Outgoing]) -> None:
    """As Matrix HTML and as Telegram HTML (parse_mode HTML): echoed input stays text."""
    for post in matrix_render(replies, typing=Typing(0, 0, 0), language="en", hint_menus=True):
        formatted = str(post.content.get("formatted_body", ""))
        assert not unescaped(formatted), formatted[:200]
    for item in telegram.coalesce(replies):
        if isinstance(item, telegram.Notice):
            parts = telegram.notice_messages(item)
        elif isinstance(item, TextOut):
            parts = telegram.text_messages(item)
        elif isinstance(item, ButtonsOut):
            parts = [telegram.buttons_message(item)[0]]
        elif isinstance(item, DebriefOut):
            parts = telegram.debrief_messages(item)
        else:
            continue
        for part in parts:
            assert not unescaped(part), part[:200]


async def test_ten_thousand_hostile_inputs(service: tuple[TrainingService, SqlStore]) -> None:
    bot, store = service
    rng = random.Random(20261201)
    users = [f"u{n}" for n in range(TRAINEES)]
    menus: dict[str, list[str]] = {u: [] for u in users}
    sent = 0
    for user in users:
        menus[user] = await start(bot, user)
    n = 0
    while sent < INPUTS:
        n += 1
        user = rng.choice(users)
        roll = rng.random()
        key = f"{user}:{n}"
        before = await log_sizes(store, [user]) if roll < 0.3 else None
        if roll < 0.15:  # forged or replayed button data: never a turn
            data = rng.choice(FORGED)
            incoming = Incoming("hostile", user, button=data, key=key)
        elif roll < 0.3:  # a stale button: one from an earlier turn, pressed again
            stale = [d for d in menus[user] if d.startswith("c:")]
            if not stale:
                continue
            data = rng.choice(stale)
            replies = await bot.handle(Incoming("hostile", user, button=data, key=key))
            after_first = await log_sizes(store, [user])
            replies = await bot.handle(Incoming("hostile", user, button=data, key=key + "b"))
            assert await log_sizes(store, [user]) == after_first  # the second press changed nothing
            check_rendering(replies)
            sent += 2
            continue
        elif roll < 0.35:  # two presses of the same button at once
            current = menus[user]
            if not current:
                continue
            data = current[0]
            both = await asyncio.gather(
                bot.handle(Incoming("hostile", user, button=data, key=key)),
                bot.handle(Incoming("hostile", user, button=data, key=key + "x")),
            )
            for replies in both:
                check_rendering(replies)
            sent += 2
            continue
        else:
            incoming = Incoming("hostile", user, text=hostile(rng), key=key)
        replies = await bot.handle(incoming)
        sent += 1
        check_rendering(replies)
        if before is not None and incoming.button in FORGED:
            assert await log_sizes(store, [user]) == before, incoming.button
        menus[user] = buttons(replies) or menus[user]
    REPORT.append(
        f"hostile input: {sent:,} generated messages (injection, control and bidi characters, "
        "forged, stale and doubled buttons, after /quit) through the service and the Matrix "
        "and Telegram renderers: 0 errors, 0 invalid state changes, nothing unescaped"
    )


async def start(bot: TrainingService, user: str) -> list[str]:
    return buttons(await bot.handle(Incoming("hostile", user, text="/start air-01")))


def buttons(replies: list[Outgoing]) -> list[str]:
    found = [r for r in replies if isinstance(r, ButtonsOut)]
    return [b.data for b in found[-1].buttons] if found else []
