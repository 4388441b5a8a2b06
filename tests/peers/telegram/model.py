"""The peer's records: errors it answers, faults to inject, calls it saw, files, chats."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    kind: str  # "429", "500", "drop", "hang"
    retry_after: int = 1


@dataclass
class Call:
    method: str
    at: float
    chat_id: int | None
    outcome: str  # "ok", "error 400", "429", "500", "drop", "hang"


@dataclass
class StoredFile:
    kind: str
    digest: str
    size: int
    unique_id: str


@dataclass
class Chat:
    #: the chat object as Telegram sends it in a message
    info: dict[str, Any]
    #: the trainee, for a private chat
    user: dict[str, Any] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
