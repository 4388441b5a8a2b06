"""Storage: the session event log and snapshots in SQLite or PostgreSQL."""

from storage.store import SqlStore

__all__ = ["SqlStore"]
