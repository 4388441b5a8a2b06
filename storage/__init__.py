"""Storage: trainees, scenario versions, sessions and their turn log in SQLite or PostgreSQL.

`SqlStore` implements `bot.app.ports.SessionStore`; `storage.migrate` runs the migrations.
"""

from storage.store import SqlStore
from storage.writer import WriterStats

__all__ = ["SqlStore", "WriterStats"]
