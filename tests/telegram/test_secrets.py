"""The token never shows in logs or errors; the webhook only takes calls with its secret."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from adapters.telegram.options import Retry, TelegramOptions
from adapters.telegram.redact import HIDDEN, hide_in_logs, redact
from adapters.telegram.runner import TelegramBot, TelegramSetupError
from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import FAST, SECRET, TOKEN, Harness, Phone, free_port
from tests.telegram.test_play import onboard

SECRET_PART = TOKEN.split(":", 1)[1]


async def test_the_token_never_reaches_a_log_or_an_error(
    harness: Harness, peer: BotApiPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for kind in ("500", "drop", "429"):
        peer.fail("sendMessage", kind, retry_after=1)
    peer.fail("getUpdates", "drop")
    await harness.start()
    await onboard(Phone(peer, 1501))
    await harness.stop_gracefully()
    await harness.crash()

    # a token Telegram refuses
    with pytest.raises(TelegramSetupError) as refused:
        await harness.start(token="987654321:" + SECRET_PART[::-1])
    assert "refused the bot token" in str(refused.value)
    assert SECRET_PART[::-1] not in str(refused.value)
    await harness.crash()

    # nobody answering at all: the error says so, without the URL's token
    harness.peer.url, real = f"http://127.0.0.1:{free_port()}", harness.peer.url
    quick = TelegramOptions(retry=Retry(attempts=2, first_delay=0.01), pacing=FAST.pacing)
    with pytest.raises(Exception) as unreachable:
        await harness.start(options=quick)
    harness.peer.url = real
    assert "Cannot connect" in str(unreachable.value) or "Connect" in repr(unreachable.value)

    # and what another library logs with the URL in it is scrubbed too
    logging.getLogger("aiohttp.client").error("GET %s failed", f"{real}/bot{TOKEN}/getMe")
    logged = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert any(r.levelno >= logging.WARNING for r in caplog.records)  # there was plenty
    assert SECRET_PART not in logged and SECRET_PART[::-1] not in logged
    assert SECRET_PART not in str(unreachable.value) + repr(unreachable.value)
    assert f"bot{HIDDEN}/getMe" in logged


def test_redaction_catches_any_token_shape() -> None:
    hide_in_logs("5550001:known-but-short")
    assert redact("x 5550001:known-but-short y") == f"x {HIDDEN} y"
    other = "7001234567:AAE" + "x" * 32
    assert redact(f"https://api.telegram.org/bot{other}/sendMessage") == (
        f"https://api.telegram.org/bot{HIDDEN}/sendMessage"
    )


async def test_the_webhook_takes_only_calls_with_its_secret(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.start(webhook=True)
    phone = Phone(peer, 1502)
    url = f"http://127.0.0.1:{harness.webhook_port}/telegram/hook"
    update = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": phone.user_id, "type": "private", "first_name": "T"},
            "from": peer.chats[phone.user_id].user,
            "text": "/start",
        },
    }
    async with aiohttp.ClientSession() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
            async with client.post(url, json=update, headers=headers) as reply:
                assert reply.status == 401
        right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with client.post(url, data=b"{not json", headers=right) as reply:
            assert reply.status == 400
        async with client.post(url.replace("hook", "other"), json=update, headers=right) as reply:
            assert reply.status == 404
        assert phone.messages() == []
        assert harness.bot is not None and harness.bot.inbox.processed == 0
        async with client.post(url, json=update, headers=right) as reply:
            assert reply.status == 200
    await phone.answer(0, "keyboard")
    assert phone.texts()[0].startswith("Welcome")


async def test_a_webhook_secret_telegram_would_refuse_is_caught_at_start(
    harness: Harness, peer: BotApiPeer
) -> None:
    await harness.open_store()
    assert harness.service is not None and harness.store is not None
    bot = TelegramBot(harness.service, harness.store, token=TOKEN, api_url=peer.url, options=FAST)
    with pytest.raises(TelegramSetupError, match="webhook secret"):
        await bot.run(
            asyncio.Event(), webhook_url="https://bot.example.org/hook", webhook_secret="a b"
        )
    assert peer.calls == []
