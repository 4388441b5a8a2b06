"""Telegram adapter (aiogram 3): `signpost run telegram`."""
