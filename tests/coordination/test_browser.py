"""The reports in a real browser: headless Chromium (Debian's `chromium`) opens the debrief
and cohort reports, dumps the DOM after load, takes a screenshot and prints to PDF; the charts
must be there and painted, and the console must stay silent."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.exports import Selection
from bot.app.service import TrainingService
from bot.scenario.loader import LoadedScenario
from storage import SqlStore
from tests.conftest import REPORT
from tests.coordination.helpers import Clock, make_service, play

BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="headless Chromium is not installed (Debian: apt-get install -y chromium)",
)
CONSOLE = re.compile(r":CONSOLE[:(\]]")


def browse(page: Path, *args: str, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        f"--user-data-dir={page.parent / 'chromium-profile'}",
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def console_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture
async def service(tmp_path: Path, mini: LoadedScenario) -> AsyncIterator[TrainingService]:
    store = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}")
    try:
        yield make_service(store, mini, Clock())
    finally:
        await store.close()


def test_the_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>console.error('x'); nope();</script></body></html>")
    done = browse(broken, "--dump-dom")
    assert any("nope is not defined" in line for line in console_lines(done)), done.stderr[-2000:]


async def test_the_debrief_report_in_chromium(tmp_path: Path, service: TrainingService) -> None:
    await play(service, "tina")
    c = service.coordination
    admin = c.operator("test")
    (session,) = await c.select(admin, Selection())
    document = await c.session_report(admin, session.id, "html", "en")
    page = tmp_path / document.filename
    page.write_bytes(document.data)

    done = browse(page, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert console_lines(done) == []
    assert re.search(r'<html lang="en" data-charts="2" data-images="0"', dom), dom[:300]
    assert dom.count('class="bar"') == 5  # the dimensions the session scored
    assert dom.count('class="series"') == 2  # trust and fear (mini has no disclosure)
    assert dom.count('<svg class="graph"') == (2 if shutil.which("dot") else 0)
    for section in ("scores", "timeline", "critical", "paths", "indicators", "decisions", "notes"):
        assert f'id="{section}"' in dom

    shot = tmp_path / "report.png"
    done = browse(page, f"--screenshot={shot}", "--window-size=1280,2200")
    assert shot.is_file() and console_lines(done) == []
    pil = pytest.importorskip("PIL.Image", reason="the media extra (Pillow) reads screenshots")
    with pil.open(shot) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
        painted = {colour for _, colour in colours}
        assert len(painted) > 50  # not a blank page
        assert (46, 125, 50) in painted  # the green bars of passed dimensions
        assert (21, 101, 192) in painted  # the trust line

    printed = tmp_path / "report.pdf"
    done = browse(page, f"--print-to-pdf={printed}", "--no-pdf-header-footer")
    pdf = printed.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 2
    REPORT.append(
        f"debrief report (mini): {len(document.data) / 1024:.0f} KiB of HTML, "
        f"printed by Chromium on {pages} A4 pages"
    )


async def test_the_cohort_report_in_chromium(tmp_path: Path, service: TrainingService) -> None:
    pytest.importorskip("matplotlib", reason="the cohort report's charts need the reports extra")
    c = service.coordination
    admin = c.operator("test")
    await c.create_cohort(admin, "Group A", scenarios=["mini"])
    for user in ("tina", "tom", "tess"):
        await play(service, user)
        await c.add(admin, "Group A", [f"test:{user}"])
    await c.add(admin, "Group A", ["test:absent"])
    document = await c.cohort_report(admin, "Group A", "en")
    page = tmp_path / document.filename
    page.write_bytes(document.data)
    done = browse(page, "--dump-dom")
    assert console_lines(done) == [], done.stderr[-2000:]
    assert 'data-images="6"' in done.stdout  # every chart decoded and shown
    assert done.stdout.count("<details>") == 7  # a CSV under every table
    assert "75%" in done.stdout  # participation: 3 of 4 trainees
