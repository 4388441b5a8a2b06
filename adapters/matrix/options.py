"""Tunables of the Matrix adapter. The defaults suit a real homeserver; tests shorten them."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.matrix.outbox import Limits
from adapters.matrix.render import Typing

PLATFORM = "matrix"


@dataclass(frozen=True)
class MatrixOptions:
    #: how long one sync request waits on the server for something new (long polling)
    sync_timeout_ms: int = 30_000
    #: pause with a typing notice before a character's longer line (0 seconds per char: none)
    typing: Typing = field(default_factory=Typing)
    #: retries of a failed send or upload (rate limits are waited out, not counted)
    limits: Limits = field(default_factory=Limits)
    #: after a failed sync: first pause, doubled up to the last
    sync_backoff_first: float = 1.0
    sync_backoff_max: float = 60.0
    #: on stop, how long queued answers may still be sent (the rest is answered at next start)
    flush_seconds: float = 20.0
    #: trainees whose messages are handled at the same time
    concurrency: int = 64
    #: events fetched to fill a gap when a room had more news than one sync returns
    backfill_limit: int = 500
    #: processed events are forgotten after this many days (their ids only guard duplicates)
    keep_days: float = 7.0
    #: the `encrypted room` notice is repeated in a room at most this often
    encrypted_notice_seconds: float = 600.0
