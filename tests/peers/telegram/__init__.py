"""A Telegram Bot API peer for tests (see server.py)."""

from tests.peers.telegram.server import BotApiPeer
from tests.peers.telegram.trainee import buttons_of, texts

__all__ = ["BotApiPeer", "buttons_of", "texts"]
