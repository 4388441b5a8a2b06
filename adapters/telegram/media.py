"""Clips sent natively (photo, video, voice, round video note), each file uploaded once.

The Telegram `file_id` a clip gets on its first upload is kept in the store under the sha256 of
the file, so every later send (any trainee, any restart) refers to it instead of uploading. A
per-clip lock makes a hundred trainees reaching the same clip at once wait for one upload.
`file_id`s belong to the bot that uploaded them and to a kind (a voice `file_id` cannot be sent
as audio), so both are part of the key: `telegram:<bot id>:<kind>` (at most 30 characters).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import FSInputFile, InputFile, Message

from adapters.telegram.options import PLATFORM
from adapters.telegram.redact import safe_error
from bot.app.ports import AdapterStore

log = logging.getLogger(__name__)

#: the chat action shown while a clip of each kind is on its way
ACTIONS = {
    "photo": ChatAction.UPLOAD_PHOTO,
    "video": ChatAction.UPLOAD_VIDEO,
    "voice": ChatAction.RECORD_VOICE,
    "video_note": ChatAction.RECORD_VIDEO_NOTE,
    "audio": ChatAction.UPLOAD_VOICE,
}
#: kinds Telegram shows without a caption: the caption goes in a message of its own
UNCAPTIONED = frozenset({"video_note"})


def action_for(kind: str) -> ChatAction:
    return ACTIONS.get(kind, ChatAction.UPLOAD_DOCUMENT)


class MediaSender:
    def __init__(self, bot: Bot, store: AdapterStore, bot_id: int) -> None:
        self.bot = bot
        self.store = store
        self.bot_id = bot_id
        self._refs: dict[tuple[str, str], str] = {}
        self._digests: dict[tuple[Path, int, int], str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: uploads made by this process (tests and logs)
        self.uploads = 0

    async def send(self, chat_id: int, kind: str, path: Path, caption: str | None) -> bool:
        """Send the clip at `path`; False if there is no such file (say the fallback instead)."""
        digest = await self._digest(path)
        if digest is None:
            log.warning("clip %s is missing: sending its text instead", path)
            return False
        key = (kind, digest)
        ref = await self._ref(key)
        if ref is not None:
            try:
                await self._send(kind, chat_id, ref, caption)
                return True
            except TelegramBadRequest as error:  # the file_id is no longer valid: upload again
                log.warning("cached clip %s refused (%s); uploading", path, safe_error(error))
                self._refs.pop(key, None)
        async with self._locks.setdefault(f"{kind}:{digest}", asyncio.Lock()):
            ref = self._refs.get(key)
            if ref is not None:  # someone uploaded it while we waited
                await self._send(kind, chat_id, ref, caption)
                return True
            message = await self._send(kind, chat_id, FSInputFile(path), caption)
            self.uploads += 1
            file_id = _file_id(kind, message)
            if file_id is not None:
                self._refs[key] = file_id
                await self.store.save_media_ref(self._platform(kind), digest, file_id)
        return True

    def _platform(self, kind: str) -> str:
        return f"{PLATFORM}:{self.bot_id}:{kind}"

    async def _ref(self, key: tuple[str, str]) -> str | None:
        ref = self._refs.get(key)
        if ref is None:
            kind, digest = key
            ref = await self.store.media_ref(self._platform(kind), digest)
            if ref is not None:
                self._refs[key] = ref
        return ref

    async def _digest(self, path: Path) -> str | None:
        return await asyncio.to_thread(self._file_digest, path)

    def _file_digest(self, path: Path) -> str | None:
        """The clip's sha256, read again only if the file changed (in a thread: disk I/O)."""
        try:
            stat = path.stat()
            key = (path, stat.st_mtime_ns, stat.st_size)
            digest = self._digests.get(key)
            if digest is None:
                digest = self._digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        return digest

    async def _send(
        self, kind: str, chat_id: int, media: str | InputFile, caption: str | None
    ) -> Message:
        bot = self.bot
        match kind:
            case "photo":
                return await bot.send_photo(chat_id, media, caption=caption)
            case "video":
                return await bot.send_video(chat_id, media, caption=caption)
            case "voice":
                return await bot.send_voice(chat_id, media, caption=caption)
            case "video_note":
                return await bot.send_video_note(chat_id, media)
            case "audio":
                return await bot.send_audio(chat_id, media, caption=caption)
        return await bot.send_document(chat_id, media, caption=caption)


def _file_id(kind: str, message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id  # the largest size
    for sent in (
        message.video,
        message.voice,
        message.video_note,
        message.audio,
        message.document,
    ):
        if sent is not None:
            return sent.file_id
    log.warning("Telegram returned no file for a %s clip", kind)
    return None
