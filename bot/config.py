"""Configuration from the environment or `.env`, every name prefixed `SIGNPOST_`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIGNPOST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: SecretStr = Field(
        default=SecretStr("sqlite+aiosqlite:///./signpost.db"),
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    dialogues: Path = Field(default=Path("dialogues"), description="The scenarios folder.")
    language: Literal["en", "pl"] = Field(default="en", description="Default UI language.")
    mode: Literal["coach", "exam"] = Field(default="coach", description="Default feedback mode.")
    default_scenario: str = Field(default="air-01", description="Played by `signpost play`.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line, for log collectors."
    )

    # -- Telegram (`signpost run telegram`) --
    telegram_token: SecretStr | None = Field(default=None, description="The bot's token.")
    telegram_api_url: str = Field(
        default="https://api.telegram.org", description="Bot API server (a local one in tests)."
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Checked against X-Telegram-Bot-Api-Secret-Token."
    )
    telegram_webhook_host: str = Field(default="127.0.0.1", description="Webhook listen host.")
    telegram_webhook_port: int = Field(default=8081, ge=1, le=65535)
    # Tuning (adapters.telegram.options reads the same names): pauses and Telegram's limits.
    telegram_pause: float = Field(default=1.0, ge=0, le=5, description="Pause before long lines.")
    telegram_per_second: float = Field(default=30.0, gt=0, le=1000)
    telegram_per_chat_per_second: float = Field(default=1.0, gt=0, le=100)
    telegram_chat_burst: int = Field(default=3, ge=1, le=100)
    telegram_poll_timeout: int = Field(default=25, ge=0, le=50)

    # -- Matrix (`signpost run matrix`) --
    matrix_homeserver: str | None = Field(default=None, description="e.g. https://matrix.org")
    matrix_user: str | None = Field(default=None, description="e.g. @signpost:example.org")
    matrix_password: SecretStr | None = None
    matrix_token: SecretStr | None = Field(default=None, description="Instead of a password.")
    matrix_allow: list[str] = Field(
        default_factory=list,
        description="Homeservers (example.org) or users (@a:example.org) whose invites are "
        "accepted; empty: everyone.",
    )
    matrix_store: str = Field(
        default="./signpost-matrix-store",
        description="Folder of the bot's end-to-end encryption keys (with the matrix-e2e extra).",
    )

    # -- privacy (issue #6) --
    retention_days: int = Field(
        default=365,
        ge=1,
        description="Sessions untouched this many days are removed by `signpost retention apply`.",
    )
    retention_action: Literal["delete", "anonymise"] = Field(
        default="anonymise",
        description="anonymise: keep scores, drop the person and their typed words; delete: all.",
    )

    # -- several workers and operations --
    redis_url: SecretStr | None = Field(default=None, description="redis://127.0.0.1:6379/0")
    ops_host: str = Field(
        default="127.0.0.1", description="Where /metrics, /healthz, /readyz listen."
    )
    ops_port: int | None = Field(
        default=None, ge=1, le=65535, description="Port of /metrics, /healthz, /readyz; unset: off."
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(e.g. sqlite+aiosqlite:///./signpost.db)"
            )
        return value
