"""How big and how slow: a cohort of 30 trainees with 2 sessions each, exported in every
format and reported on (SQLite). The figures are printed in the run's summary."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app.exports import Selection
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from tests.conftest import REPORT
from tests.coordination.helpers import Clock, make_service, play

TRAINEES = 30
ATTEMPTS = 2


@pytest.mark.slow
async def test_a_cohort_of_thirty_exported_and_reported(
    tmp_path: Path, mini: LoadedScenario
) -> None:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'numbers.db'}")
    try:
        service = make_service(store, mini, Clock())
        c = service.coordination
        admin = c.operator("bench")
        await c.create_cohort(admin, "Big group", scenarios=["mini"])
        for i in range(TRAINEES):
            for _ in range(ATTEMPTS):
                await play(service, f"t{i}")
        await c.add(admin, "Big group", [f"test:t{i}" for i in range(TRAINEES)])
        sessions = TRAINEES * ATTEMPTS
        figures = []
        for fmt in ("md", "html", "json", "csv", "xapi"):
            started = time.perf_counter()
            document, count = await c.export(admin, Selection(cohort="Big group"), fmt, "en")
            took = time.perf_counter() - started
            assert count == sessions and took < 60
            figures.append(f"{fmt} {len(document.data) / 1024:.0f} KiB {took:.2f} s")
        started = time.perf_counter()
        report = await c.cohort_report(admin, "Big group", "en")
        took = time.perf_counter() - started
        assert took < 60 and b"Big group" in report.data
        figures.append(f"cohort report {len(report.data) / 1024:.0f} KiB {took:.2f} s")
        (first, *_) = await c.select(admin, Selection(cohort="Big group"))
        for fmt in ("html", "pdf"):
            started = time.perf_counter()
            try:
                document = await c.session_report(admin, first.id, fmt, "en")  # type: ignore[arg-type]
            except Exception as error:  # the pdf extra may be missing
                figures.append(f"debrief {fmt}: {error}")
                continue
            figures.append(
                f"debrief {fmt} {len(document.data) / 1024:.0f} KiB "
                f"{time.perf_counter() - started:.2f} s"
            )
        audited = len(await store.audit_log(limit=10_000))
        assert audited >= 5 * sessions  # one entry per transcript read
        REPORT.append(
            f"cohort of {TRAINEES} trainees x {ATTEMPTS} sessions ({sessions * 6} turns), "
            f"SQLite: " + "; ".join(figures)
        )
    finally:
        await store.close()
