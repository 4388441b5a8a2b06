"""Keep the bot token out of logs and error messages.

The Bot API puts the token in every URL (`/bot<token>/sendMessage`), and an HTTP library may
quote that URL in an exception. Anyone holding the token controls the bot, so every log record
is scrubbed before it is formatted, whoever logs it (aiogram, aiohttp, us).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from typing import Any

#: any Bot API token, even one this process does not know: digits, a colon, 30+ url-safe chars
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
HIDDEN = "<bot-token>"

_secrets: set[str] = set()
_installed: list[Callable[..., logging.LogRecord]] = []


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, HIDDEN)
    return TOKEN_PATTERN.sub(HIDDEN, text)


def hide_in_logs(secret: str) -> None:
    """Scrub `secret` (and anything shaped like a token) from every log record from now on."""
    if secret:
        _secrets.add(secret)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub(record)
        return record

    _installed.append(previous)
    logging.setLogRecordFactory(factory)


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a bad format string: keep what there is
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        # Formatted here, once, so that the handler prints the scrubbed text.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def safe_error(error: BaseException) -> str:
    """An exception as one line for a log or a message, without any token in it."""
    return redact(f"{type(error).__name__}: {error}")
