"""The worker `bench.bench_core` starts, and the pipe to it: Signpost's service with no adapter.

`python -m bench.core_worker SOCKET` builds the service as `signpost run` does (settings from
`SIGNPOST_*`, `bot.bootstrap.runtime`: the catalogue, the store and, with `SIGNPOST_REDIS_URL`,
the Redis gate) and serves requests on a Unix socket, one JSON object per line each way. Every
request runs in a task of its own, so one worker serves many trainees at once as an adapter
does; replies go back as they are ready, matched to their request by its number.

Requests (`op`):
- `turn`: `TrainingService.handle(Incoming(...))`. The reply is what the trainee needs to go on
  and no more (rendering it for a platform is the adapter's work, which this benchmark leaves
  out): the last keyboard's prompt and buttons, whether a debrief came, and otherwise the first
  notice (busy, duplicate, storage unavailable, ...).
- `echo`: the same shapes through the same pipe without the service (the worker's last reply
  sent again), so that the pipe's own cost can be told from a turn's.
- `trim`: collect garbage and hand freed heap back to the system, so that resident memory is
  read without the allocator's slack.

The worker stops on SIGTERM (what is in flight finishes) and when its parent dies.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import itertools
import json
import logging
import signal
import sys
from typing import Any

from bot.app.messages import ButtonsOut, DebriefOut, Incoming, Outgoing, TextOut

Reply = dict[str, Any]
LIBC = ctypes.CDLL(None)
#: prctl(PR_SET_PDEATHSIG): the signal this process gets when its parent dies
PR_SET_PDEATHSIG = 1


def summed_up(replies: list[Outgoing]) -> Reply:
    buttons = next((r for r in reversed(replies) if isinstance(r, ButtonsOut)), None)
    notice = next((r.text for r in replies if isinstance(r, TextOut)), "")
    return {
        "p": buttons.prompt if buttons else None,
        "b": [[b.label, b.data] for b in buttons.buttons] if buttons else [],
        "d": any(isinstance(r, DebriefOut) for r in replies),
        "n": notice[:80],
    }


def trim() -> None:
    gc.collect()
    if hasattr(LIBC, "malloc_trim"):  # glibc
        LIBC.malloc_trim(0)


async def serve(path: str) -> None:
    from bot.bootstrap import runtime
    from bot.config import Settings

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with runtime(settings) as rt:
        service = rt.service
        last: Reply = {"p": None, "b": [], "d": False, "n": ""}
        running: set[asyncio.Task[None]] = set()

        async def answer(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
            nonlocal last
            op = request["op"]
            if op == "turn":
                incoming = Incoming(
                    "bench",
                    request["u"],
                    text=request.get("t"),
                    button=request.get("b"),
                    key=request.get("k"),
                    language="en",
                )
                try:
                    reply = last = summed_up(await service.handle(incoming))
                except Exception as exc:  # logged (counted as a warning), answered as a notice
                    logging.getLogger("bench").exception("turn failed")
                    reply = {"p": None, "b": [], "d": False, "n": f"worker error: {exc!r}"[:80]}
            elif op == "echo":
                reply = last
            else:
                trim()
                reply = {}
            writer.write(json.dumps({**reply, "i": request["i"]}).encode() + b"\n")

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.add(writer)
            while line := await reader.readline():
                task = asyncio.create_task(answer(json.loads(line), writer))
                running.add(task)
                task.add_done_callback(running.discard)
            writer.close()

        connections: set[asyncio.StreamWriter] = set()
        server = await asyncio.start_unix_server(client, path, limit=1 << 20)
        await stop.wait()
        server.close()
        if running:
            await asyncio.wait(running, timeout=20)
        # hang up, and let each connection's reader see it and end before the loop does (a
        # connection's task still reading when the loop stops is logged as an error)
        for writer in connections:
            writer.close()
        await asyncio.sleep(0.1)


class Link:
    """The driver's end of one worker's socket: many requests in flight, matched by number."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.waiting: dict[int, asyncio.Future[Reply]] = {}
        self.numbers = itertools.count()
        self.listener = asyncio.create_task(self._listen())

    @classmethod
    async def open(cls, path: str) -> Link:
        reader, writer = await asyncio.open_unix_connection(path, limit=1 << 20)
        return cls(reader, writer)

    def call(self, request: dict[str, Any]) -> asyncio.Future[Reply]:
        number = next(self.numbers)
        future = self.waiting[number] = asyncio.get_running_loop().create_future()
        self.writer.write(json.dumps({**request, "i": number}).encode() + b"\n")
        return future

    async def _listen(self) -> None:
        while line := await self.reader.readline():
            reply = json.loads(line)
            future = self.waiting.pop(reply.pop("i"), None)
            if future is not None and not future.done():
                future.set_result(reply)

    async def close(self) -> None:
        self.listener.cancel()
        self.writer.close()


def main(argv: list[str]) -> int:
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if len(argv) != 1:
        print("usage: python -m bench.core_worker SOCKET", file=sys.stderr)
        return 2
    asyncio.run(serve(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
