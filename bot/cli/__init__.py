"""The `signpost` command line."""

from __future__ import annotations

from bot.cli.main import app, main

__all__ = ["app", "main"]
