"""Operations: Prometheus metrics and the /metrics, /healthz and /readyz endpoints.

`MeasuredService` is the training service with every input timed and counted; `serve_ops`
starts a small HTTP server beside the bot (SIGNPOST_OPS_PORT). Nothing here is needed to
train: without the `ops` extra or the setting, the bot runs as before.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.app.messages import Incoming, Outgoing, TextOut
from bot.app.service import TrainingService


class Metrics:
    """The bot's metrics, in a registry of their own (tests build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.inputs = Counter(
            "signpost_inputs",
            "Trainee inputs handled, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "signpost_turn_seconds",
            "From a trainee's input to the reply being ready (commit included).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.active = Gauge(
            "signpost_active_sessions",
            "Sessions held in memory by this process.",
            registry=self.registry,
        )
        self.errors = Counter(
            "signpost_errors",
            "Inputs answered with an error, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.queue = Gauge(
            "signpost_outgoing_queue",
            "Messages waiting to be sent, by platform.",
            ["platform"],
            registry=self.registry,
        )
        self.retries = Counter(
            "signpost_send_retries",
            "Sends retried after a rate limit (429) or a server error, by platform and reason.",
            ["platform", "reason"],
            registry=self.registry,
        )  # fmt: skip


class PrometheusTelemetry:
    """The adapters' reports, as metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def queue_length(self, platform: str, length: int) -> None:
        self.metrics.queue.labels(platform).set(length)

    def retried(self, platform: str, reason: str) -> None:
        self.metrics.retries.labels(platform, reason).inc()

    def error(self, kind: str) -> None:
        self.metrics.errors.labels(kind).inc()


class MeasuredService(TrainingService):
    """The training service, timing and counting every input it handles."""

    metrics: Metrics

    def measure(self, metrics: Metrics) -> MeasuredService:
        self.metrics = metrics
        self.telemetry = PrometheusTelemetry(metrics)
        return self

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        began = time.perf_counter()
        replies = await super().handle(incoming)
        metrics = getattr(self, "metrics", None)
        if metrics is not None:
            metrics.inputs.labels(incoming.platform).inc()
            metrics.latency.observe(time.perf_counter() - began)
            metrics.active.set(len(self._sessions))
            for reply in replies:
                if isinstance(reply, TextOut) and reply.kind == "error":
                    metrics.errors.labels("storage").inc()
        return replies


async def serve_ops(
    host: str, port: int, metrics: Metrics, ready: Callable[[], Awaitable[bool]]
) -> web.AppRunner:
    """Start /metrics, /healthz (the process answers) and /readyz (the database answers)."""

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readiness(_request: web.Request) -> web.Response:
        try:
            ok = await ready()
        except Exception:  # any failure to reach the database means not ready
            ok = False
        return web.json_response({"ready": ok}, status=200 if ok else 503)

    async def exposition(_request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.add_routes(
        [
            web.get("/healthz", health),
            web.get("/readyz", readiness),
            web.get("/metrics", exposition),
        ]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the ids passed in `extra`
    (session, trainee alias, platform). Messages never carry personal data or secrets: the
    code logs ids and counts, never what a trainee typed, and tokens are never formatted."""

    FIELDS = ("session", "trainee", "platform", "update", "room")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if (value := getattr(record, name, None)) is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
