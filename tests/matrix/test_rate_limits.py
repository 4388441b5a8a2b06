"""Synapse's default rate limits (0.2 messages/s, bursts of 10): every message still arrives, once
and in order; and once an admin exempts the bot (docs/matrix.md), it is no longer held back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from adapters.matrix.render import Typing, render
from bot.app.library import ScenarioLibrary
from bot.app.messages import ButtonsOut, Incoming
from bot.app.service import TrainingService
from bot.scenario.loader import Catalogue
from storage import SqlStore
from tests.matrix.conftest import Matrix
from tests.matrix.trainee import body, is_debrief

#: what the trainee sends; the bot's answers to it are more than a burst of 10 events
SCRIPT = ("1", "!start mini", "1")


async def expected_bodies(catalogue: Catalogue, folder: Path) -> list[str]:
    """The bodies the bot should send for the greeting and SCRIPT, rendered the same way."""
    store = await SqlStore.open(f"sqlite+aiosqlite:///{folder / 'expected.db'}")
    try:
        service = TrainingService(ScenarioLibrary(catalogue, store), store, seeds=lambda: 7)
        bodies: list[str] = []
        first_menu = True
        last_menu: ButtonsOut | None = None
        for text in ("/start", *SCRIPT):
            incoming = Incoming("matrix", "expected", text=text)
            if text == "1":  # a number answers the menu shown last
                assert last_menu is not None
                incoming = Incoming("matrix", "expected", button=last_menu.buttons[0].data)
            replies = await service.handle(incoming)
            posts = render(replies, typing=Typing(0), language="en", hint_menus=first_menu)
            for post in posts:
                if post.menu is not None:
                    first_menu = False
                    last_menu = post.menu
                bodies.append(post.content["body"])
        return bodies
    finally:
        await store.close()


async def test_every_message_arrives_in_order_under_default_rate_limits(
    strict_matrix: Matrix, scenarios: Catalogue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="adapters.matrix")
    bot = await strict_matrix.bot.start()
    trainee = await strict_matrix.trainee()
    await trainee.open_dm()
    await trainee.until_menu(within=60)
    for text in SCRIPT:
        await trainee.say(text)
        await trainee.until_menu(within=60)
    got = [body(e) for e in trainee.said]
    assert got == await expected_bodies(scenarios, tmp_path)
    assert len(got) > 10
    limited = [r for r in caplog.records if "rate limited" in r.getMessage()]
    assert limited, "the test never reached the homeserver's rate limit"

    # the admin exempts the bot, as docs/matrix.md says: the rest comes without waiting
    admin = strict_matrix.server.register("admin", admin=True)
    override = strict_matrix.server.override_ratelimit(admin, bot.account.user_id)
    assert override == {"messages_per_second": 0, "burst_count": 0}
    caplog.clear()
    started = time.monotonic()
    for _ in range(3):
        await trainee.say("1")
        said = await trainee.until_menu(within=30)
    assert is_debrief(said[-1])
    assert time.monotonic() - started < 5
    assert not [r for r in caplog.records if "rate limited" in r.getMessage()]
