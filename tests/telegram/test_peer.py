"""The Bot API peer answers as Telegram does where the bot's correctness depends on it, checked
with a stock aiogram Bot: a peer that accepted anything would let adapter bugs through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramNotFound
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.peers.telegram import BotApiPeer
from tests.telegram.harness import TOKEN


class Unknown(TelegramMethod[bool]):
    __returning__ = bool
    __api_method__ = "sendPigeon"


@pytest.fixture
async def bot(peer: BotApiPeer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(peer.url))
    client = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    peer.user(77)
    try:
        yield client
    finally:
        await session.close()


async def test_get_updates_waits_then_confirms_by_offset(peer: BotApiPeer, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    begun = loop.time()
    assert await bot(GetUpdates(timeout=1)) == []
    assert loop.time() - begun >= 0.95  # a real long poll, not a busy loop
    waiting = asyncio.ensure_future(bot(GetUpdates(timeout=5)))
    await asyncio.sleep(0.1)
    first = peer.send_text(77, "hello")
    (update,) = await asyncio.wait_for(waiting, 2)  # answered as soon as it arrived
    assert update.update_id == first and update.message and update.message.text == "hello"
    peer.send_text(77, "again")
    assert len(await bot(GetUpdates(timeout=0))) == 2  # nothing confirmed yet
    assert [u.message.text for u in await bot(GetUpdates(offset=first + 1))] == ["again"]  # type: ignore[union-attr]
    assert len(peer.pending) == 1


async def test_errors_are_telegrams(peer: BotApiPeer, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(77, "a <b>bold claim")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(77, "1 < 2")
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(77, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(78, "who?")
    with pytest.raises(TelegramNotFound):
        await bot(Unknown())
    sent = await bot.send_message(77, "<b>Hi</b> there")
    assert sent.entities and sent.entities[0].type == "bold" and sent.text == "Hi there"
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text(chat_id=77, message_id=sent.message_id, text="<b>Hi</b> there")
    long_data = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(77, "choose", reply_markup=long_data)
    await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret")
    with pytest.raises(TelegramConflictError):
        await bot(GetUpdates(timeout=0))
    await bot.delete_webhook()


async def test_files_are_uploaded_then_sent_by_file_id(peer: BotApiPeer, bot: Bot) -> None:
    photo = await bot.send_photo(
        77, BufferedInputFile(b"\x89PNG fake", "a.png"), caption="<i>a</i>"
    )
    assert photo.photo and photo.caption == "a"
    file_id = photo.photo[-1].file_id
    again = await bot.send_photo(77, file_id)
    assert again.photo and again.photo[-1].file_id == file_id
    assert sum(peer.uploads.values()) == 1
    with pytest.raises(TelegramBadRequest, match="can't use file of type photo as voice"):
        await bot.send_voice(77, file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_video(77, "no-such-file")
