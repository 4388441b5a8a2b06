"""A worker says it is alive from a thread of its own, so that being busy never reads as dead.

Other workers take over the pending updates of a worker whose `alive:` key has expired. Said
from the event loop, that key would expire whenever the loop falls a few seconds behind (a burst
of trainees on a small machine), and live workers' updates would be handled twice. A thread with
its own blocking Redis client keeps saying it as long as the process runs; a killed process
stops at once, which is what taking over is for.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, url: str, key: str, alive_ms: int, *, timeout: float = 1.0) -> None:
        self.key = key
        self.alive_ms = alive_ms
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._answers = True
        #: beats that reached Redis (tests)
        self.beats = 0

    @property
    def answers(self) -> bool:
        """Whether Redis heard the last beat."""
        return self._answers

    def beat(self) -> bool:
        """Say it once now; whether Redis heard it."""
        try:
            self._client.set(self.key, "1", px=self.alive_ms)
        except (RedisError, OSError) as error:
            if self._answers:  # the type only: the text may carry the URL and its password
                log.warning("Redis does not answer (%s): heartbeat missed", type(error).__name__)
            self._answers = False
            return False
        if not self._answers:
            log.warning("Redis answers again: this worker's updates have an owner again")
        self._answers = True
        self.beats += 1
        return True

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tg-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """No longer alive: what is still pending here is taken over by the other workers."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(RedisError, OSError):  # else it expires
            self._client.delete(self.key)
        self._client.close()

    def _run(self) -> None:
        every = self.alive_ms / 3000
        while not self._stop.wait(every):
            self.beat()
