"""The adapter's tunables: Telegram's limits, pacing of lines, retries, timeouts.

The defaults are what a real bot should use; tests pass smaller ones (no pauses, fast retries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: where trainees' updates are kept in the store's inbox, and whose trainees they are
PLATFORM = "telegram"
#: Telegram's hard limits
MAX_MESSAGE = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


@dataclass(frozen=True, slots=True)
class Limits:
    """Outgoing flood control, shared by everything one bot token sends.

    Telegram asks for about 30 messages a second per bot and one a second per chat, allowing
    short bursts in a chat (https://core.telegram.org/bots/faq#broadcasting-to-users).
    """

    per_second: float = 30.0
    burst: int = 1
    per_chat_per_second: float = 1.0
    #: a turn's replies (a line, the coach, the buttons) arrive together, then one a second
    chat_burst: int = 3


@dataclass(frozen=True, slots=True)
class Retry:
    """How a failed request is repeated (5xx, dropped connections; 429 always waits as told)."""

    attempts: int = 6
    first_delay: float = 0.5
    max_delay: float = 15.0
    #: give up on a request Telegram keeps refusing with 429 after this many waits
    flood_waits: int = 20


@dataclass(frozen=True, slots=True)
class Pacing:
    """A short, realistic pause with a chat action ("typing…") before longer lines and clips."""

    #: lines shorter than this are sent at once (but still after their chat action)
    min_chars: int = 80
    chars_per_second: float = 60.0
    max_pause: float = 2.5
    #: 0 turns every pause off (tests); chat actions are still sent
    scale: float = 1.0

    def pause_for(self, text: str) -> float:
        if self.scale <= 0 or len(text) < self.min_chars:
            return 0.0
        return self.scale * min(self.max_pause, len(text) / self.chars_per_second)


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    limits: Limits = field(default_factory=Limits)
    retry: Retry = field(default_factory=Retry)
    pacing: Pacing = field(default_factory=Pacing)
    #: long-polling wait, in seconds, per getUpdates
    poll_timeout: int = 25
    #: on stop, how long updates in flight may take to finish before they are left for replay
    drain_timeout: float = 20.0
    #: processed updates are kept this long to recognise late duplicates, then pruned
    keep_processed_hours: float = 48.0

    @classmethod
    def from_env(cls) -> TelegramOptions:
        """The defaults, with the tuning settings below taken from the environment or `.env`."""
        tuning = Tuning()
        return cls(
            limits=Limits(
                per_second=tuning.per_second,
                per_chat_per_second=tuning.per_chat_per_second,
                chat_burst=tuning.chat_burst,
            ),
            pacing=Pacing(scale=tuning.pause),
            poll_timeout=tuning.poll_timeout,
        )


class Tuning(BaseSettings):
    """`SIGNPOST_TELEGRAM_*` tuning, read here because the core settings do not carry it."""

    model_config = SettingsConfigDict(
        env_prefix="SIGNPOST_TELEGRAM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    pause: float = Field(default=1.0, ge=0, le=5, description="Pause before long lines: 0 off.")
    per_second: float = Field(default=30.0, gt=0, le=1000)
    per_chat_per_second: float = Field(default=1.0, gt=0, le=100)
    chat_burst: int = Field(default=3, ge=1, le=100)
    poll_timeout: int = Field(default=25, ge=0, le=50)
