"""Several `signpost run telegram --webhook` processes behind a load balancer, for tests.

`Worker` is one real bot process (the installed `signpost` command, its own loopback port, its
log in a file). `Balancer` is what nginx would be in front of them: round robin, the next
worker when one refuses the connection, 502 when one dies with the request (the sender, Telegram,
then delivers again). `ClusterPeer` is the Bot API peer that also remembers every URL a bot
registered with setWebhook and wakes a trainee as soon as a message arrives in their chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

from tests.peers.telegram import BotApiPeer
from tests.peers.telegram.model import Chat

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SIGNPOST = Path(sys.executable).with_name("signpost")


class ClusterPeer(BotApiPeer):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.registered: list[str] = []  # the url of every setWebhook, in order
        self._arrivals: dict[int, asyncio.Event] = {}

    async def api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.registered.append(str(params.get("url") or ""))
        return await super().api_setwebhook(params)

    def new_message(self, chat: Chat, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message = super().new_message(chat, sender, **content)
        if (arrived := self._arrivals.get(int(chat.info["id"]))) is not None:
            arrived.set()
        return message

    def arrival(self, chat_id: int) -> asyncio.Event:
        """Set whenever a message is added to the chat (the trainee clears it, then looks)."""
        return self._arrivals.setdefault(chat_id, asyncio.Event())


class Balancer:
    """Round robin over `backends` (base URLs), on 127.0.0.1; the path is passed through."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._turn = itertools.count()
        self.forwarded: Counter[str] = Counter()
        self.refused = 0  # a worker was down: the request went to the next one
        self.broken = 0  # a worker died with the request: 502, delivered again by the sender
        #: (update_id, worker, status) of every delivery, for a failure's story
        self.routes: list[tuple[int, str, int]] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._client = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=0),
        )
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k in (SECRET_HEADER, "Content-Type")}
        for _ in self.backends:
            backend = self.backends[next(self._turn) % len(self.backends)]
            try:
                async with self._client.post(
                    backend + request.path_qs, data=body, headers=headers
                ) as reply:
                    answer = await reply.read()
            except aiohttp.ClientConnectorError:  # nobody listens there: try the next
                self.refused += 1
                continue
            except (aiohttp.ClientError, TimeoutError):
                self.broken += 1
                return web.Response(status=502)
            self.forwarded[backend] += 1
            self.routes.append((_update_id(body), backend, reply.status))
            return web.Response(status=reply.status, body=answer)
        return web.Response(status=502)


class Worker:
    """One `signpost run telegram --webhook URL` process, restartable on the same port."""

    def __init__(self, name: str, port: int, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.port = port
        self.env = {**env, "SIGNPOST_TELEGRAM_WEBHOOK_PORT": str(port)}
        self.logs = logs
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, webhook_url: str) -> None:
        self.runs += 1
        self._log = (self.logs / f"{self.name}-{self.runs}.log").open("wb")
        self.process = await asyncio.create_subprocess_exec(
            str(SIGNPOST),
            "run",
            "telegram",
            "--webhook",
            webhook_url,
            env=self.env,
            cwd=self.logs,  # no stray .env is read
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, the gate it held is left to expire."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self._close_log()

    async def stop(self) -> int | None:
        """SIGTERM and wait for a clean exit (SIGKILL after 20 s); the exit code."""
        if self.process is None or self.process.returncode is not None:
            self._close_log()
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        self._close_log()
        return code

    def log_text(self, tail: int | None = None) -> str:
        """What its runs logged (the last `tail` characters of each)."""
        return "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-(tail or 0) :]
            for path in sorted(self.logs.glob(f"{self.name}-*.log"))
        )

    def _close_log(self) -> None:
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


def _update_id(body: bytes) -> int:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return int(json.loads(body)["update_id"])
    return 0


def worker_env(**settings: str) -> dict[str, str]:
    """The environment of a worker: this one without any SIGNPOST_ setting, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNPOST_")}
    env.update({f"SIGNPOST_{k.upper()}": v for k, v in settings.items()})
    return env
