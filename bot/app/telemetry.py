"""What adapters report about their sending, for /metrics: queue lengths, retries, errors.

The core knows no metrics library: it holds a `Telemetry` that does nothing by default, and
`bot.ops` replaces it with one that feeds Prometheus when the ops port is on.
"""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def queue_length(self, platform: str, length: int) -> None:
        """Messages waiting to be sent on `platform`, now."""
        ...

    def retried(self, platform: str, reason: str) -> None:
        """A send repeated after `reason`: "429" (rate limited), "5xx", "connection"."""
        ...

    def error(self, kind: str) -> None: ...


class NullTelemetry:
    def queue_length(self, platform: str, length: int) -> None:
        pass

    def retried(self, platform: str, reason: str) -> None:
        pass

    def error(self, kind: str) -> None:
        pass
