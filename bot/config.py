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
