"""Keeps the trainee gates a process holds alive, from a thread of its own.

A gate expires so that a dead worker does not lock its trainees out. Renewed from the event
loop, it also expired whenever the loop fell behind by more than the expiry (a burst of
trainees on a small machine): another worker then took the gate while the first was still
handling the input, and both started the scenario (seen in the benchmark with three workers).
A thread renews every gate the process holds as long as the process runs; a killed process
stops renewing at once, which is what the expiry is for.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class GateRenewer:
    def __init__(self, url: str, script: str, expiry_ms: int, *, timeout: float) -> None:
        self.expiry_ms = expiry_ms
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._renew = self._client.register_script(script)
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        #: gates renewed (tests)
        self.renewals = 0

    def hold(self, key: str, token: str) -> None:
        with self._lock:
            self._held[key] = token
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gate-renewer", daemon=True)
                self._thread.start()

    def let_go(self, key: str) -> None:
        with self._lock:
            self._held.pop(key, None)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(RedisError, OSError):
            self._client.close()

    def _run(self) -> None:
        while not self._stop.wait(self.expiry_ms / 3000):
            with self._lock:
                held = list(self._held.items())
            for key, token in held:
                self._renew_one(key, token)

    def _renew_one(self, key: str, token: str) -> None:
        try:
            renewed = self._renew(keys=[key], args=[token, self.expiry_ms])
        except (RedisError, OSError) as error:
            if not self._failing:  # the type only: the text may carry the URL and its password
                log.warning("trainee gates not renewed: Redis failed (%s)", type(error).__name__)
            self._failing = True
            return
        self._failing = False
        if renewed:
            self.renewals += 1
            return
        with self._lock:  # lost it (expired anyway): the store fences any late write
            if self._held.get(key) == token:
                del self._held[key]
