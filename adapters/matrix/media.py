"""Clips uploaded to the homeserver's content repository once, then referred to by mxc:// URI.

The URI a clip gets on its first upload is kept in the store under the sha256 of the file, so
every later send (any trainee, any restart) reuses it. A per-clip lock makes many trainees who
reach the same clip at once wait for one upload.

In an encrypted room clips are sent the same way (the event is encrypted, the file is not):
they are the scenario's own material, the same for every trainee, so encrypting each copy
would hide nothing and upload it once per room. Reports and transcripts are personal: there
they are encrypted before upload, with a new key each time (`upload_encrypted`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.app.ports import AdapterStore

log = logging.getLogger(__name__)

#: uploads a file: (bytes, content type, file name) -> mxc URI, or None if refused for good
Uploader = Callable[[bytes, str, str], Awaitable[str | None]]
#: encrypts and uploads a file -> the event's `file` object (URL, key, iv, hashes), or None
EncryptedUploader = Callable[[bytes, str, str], Awaitable[dict[str, Any] | None]]


def describe(path: Path, data: bytes) -> dict[str, Any]:
    """The `info` of a clip event: type, size, and what can be read cheaply from the file."""
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() in (".ogg", ".oga", ".opus"):
        mimetype = "audio/ogg"
    info: dict[str, Any] = {"mimetype": mimetype, "size": len(data)}
    size = png_size(data)
    if size is not None:
        info["w"], info["h"] = size
    duration = ogg_duration_ms(data)
    if duration is not None:
        info["duration"] = duration
    return info


def png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def ogg_duration_ms(data: bytes) -> int | None:
    """Length of an Ogg Opus or Vorbis file: the last page's granule position / sample rate."""
    if data[:4] != b"OggS":
        return None
    if b"OpusHead" in data[:64]:
        rate = 48_000
    else:
        at = data.find(b"\x01vorbis", 0, 64)
        if at < 0 or len(data) < at + 16:
            return None
        rate = int(struct.unpack("<I", data[at + 12 : at + 16])[0])
    last = data.rfind(b"OggS")
    if rate <= 0 or last < 0 or len(data) < last + 14:
        return None
    granule = int(struct.unpack("<q", data[last + 6 : last + 14])[0])
    return max(0, granule * 1000 // int(rate))


class MediaRepository:
    def __init__(
        self,
        store: AdapterStore,
        platform: str,
        upload: Uploader,
        *,
        upload_encrypted: EncryptedUploader | None = None,
    ) -> None:
        self.store = store
        self.platform = platform
        self._upload = upload
        self._upload_encrypted = upload_encrypted
        self._refs: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: uploads made by this process (for tests and logs)
        self.uploads = 0

    async def upload_document(self, data: bytes, media_type: str, filename: str) -> str | None:
        """A report or transcript for one reader: uploaded each time, never cached."""
        return await self._upload(data, media_type, filename)

    @property
    def encrypts(self) -> bool:
        """Whether documents can be encrypted for encrypted rooms."""
        return self._upload_encrypted is not None

    async def upload_document_encrypted(
        self, data: bytes, media_type: str, filename: str
    ) -> dict[str, Any] | None:
        """A report or transcript for an encrypted room: encrypted here, then uploaded."""
        if self._upload_encrypted is None:
            return None
        return await self._upload_encrypted(data, media_type, filename)

    async def prepare(self, path: Path) -> tuple[str, dict[str, Any]] | None:
        """(mxc URI, info) of the clip at `path`, uploading it the first time; None if it
        cannot be had (missing file, upload refused): the caller says the fallback instead."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            log.warning("clip %s cannot be read (%s): sending its text instead", path, error)
            return None
        digest = hashlib.sha256(data).hexdigest()
        info = describe(path, data)
        url = self._refs.get(digest)
        if url is not None:
            return url, info
        lock = self._locks.setdefault(digest, asyncio.Lock())
        async with lock:
            url = self._refs.get(digest) or await self.store.media_ref(self.platform, digest)
            if url is None:
                url = await self._upload(data, info["mimetype"], path.name)
                if url is None:
                    return None
                self.uploads += 1
                await self.store.save_media_ref(self.platform, digest, url)
                log.info("uploaded clip %s as %s", path.name, url)
            self._refs[digest] = url
        return url, info
