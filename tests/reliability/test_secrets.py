"""The database password never shows: not in errors, logs or the messages a trainee gets."""

from __future__ import annotations

import logging

import pytest

from bot.app.ports import StoreUnavailableError
from storage import SqlStore
from tests.conftest import SECRETS

PASSWORD = "pg-test-password-7c1f"
SECRETS.add(PASSWORD)


async def test_an_unreachable_database_error_never_shows_its_password(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"postgresql+asyncpg://signpost:{PASSWORD}@127.0.0.1:1/none"
    with pytest.raises(StoreUnavailableError) as raised:
        await SqlStore.open(url)
    assert PASSWORD not in str(raised.value)
    assert PASSWORD not in repr(raised.value.__cause__ or "")
    assert PASSWORD not in caplog.text
    assert PASSWORD not in "".join(capsys.readouterr())


def test_the_settings_never_print_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    monkeypatch.setenv("SIGNPOST_DATABASE_URL", f"postgresql+asyncpg://u:{PASSWORD}@db/x")
    monkeypatch.setenv("SIGNPOST_TELEGRAM_TOKEN", "123456:" + PASSWORD)
    settings = Settings()
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
