"""/metrics, /healthz, /readyz over HTTP on loopback, and the JSON log lines."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import aiohttp

from bot.app.library import ScenarioLibrary
from bot.app.messages import Incoming
from bot.ops import JsonFormatter, MeasuredService, Metrics, serve_ops
from bot.scenario.loader import load_catalogue
from storage import SqlStore
from tests.conftest import DIALOGUES


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_metrics_health_and_readiness(tmp_path: Path) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}")
    metrics = Metrics()
    service = MeasuredService(ScenarioLibrary(load_catalogue([DIALOGUES]), store), store)
    service.measure(metrics)
    up = True

    async def ready() -> bool:
        if not up:
            raise ConnectionError("the database is gone")
        return True

    port = free_port()
    runner = await serve_ops("127.0.0.1", port, metrics, ready)
    try:
        await service.handle(Incoming("telegram", "1", text="/start air-01"))
        await service.handle(Incoming("telegram", "1", text="Tell me about your trip."))
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/metrics") as response:
                assert response.status == 200
                body = await response.text()
            assert 'signpost_inputs_total{platform="telegram"} 2.0' in body
            assert "signpost_turn_seconds_count 2.0" in body
            assert "signpost_active_sessions 1.0" in body
            async with http.get("/healthz") as response:
                assert response.status == 200
            async with http.get("/readyz") as response:
                assert response.status == 200 and (await response.json()) == {"ready": True}
            up = False
            async with http.get("/readyz") as response:
                assert response.status == 503
    finally:
        await runner.cleanup()
        await store.close()


def test_json_log_lines_carry_ids_not_words() -> None:
    record = logging.LogRecord(
        "adapters.telegram", logging.INFO, __file__, 1, "turn %s", (3,), None
    )
    record.session = "ab12"
    record.platform = "telegram"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "turn 3" and line["session"] == "ab12"
    assert line["level"] == "INFO" and line["platform"] == "telegram"


async def test_adapters_report_retries_and_queues_to_the_metrics() -> None:
    from prometheus_client import generate_latest

    from adapters.matrix.outbox import Failure, Retry
    from bot.ops import PrometheusTelemetry

    metrics = Metrics()
    retry = Retry(telemetry=PrometheusTelemetry(metrics))
    assert await retry(Failure("M_LIMIT_EXCEEDED", retry_after=0.0), 0, "sending")
    retry.telemetry.queue_length("matrix", 7)
    body = generate_latest(metrics.registry).decode()
    assert 'signpost_send_retries_total{platform="matrix",reason="429"} 1.0' in body
    assert 'signpost_outgoing_queue{platform="matrix"} 7.0' in body
