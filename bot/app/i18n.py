"""The one catalogue of UI strings for every adapter, in English and Polish."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "pl")
DEFAULT_LANGUAGE = "en"


@cache
def _catalogue(language: str) -> dict[str, str]:
    text = resources.files("bot").joinpath("locales", f"{language}.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise RuntimeError(f"bot/locales/{language}.yaml is not a mapping")
    return {str(k): str(v) for k, v in data.items()}


def supported(language: str | None) -> str:
    """The closest supported UI language: 'pl-PL' -> 'pl', unknown -> English."""
    code = (language or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def t(language: str, key: str, **values: Any) -> str:
    """The string `key` in `language` (English if missing there), formatted with `values`."""
    template = _catalogue(supported(language)).get(key) or _catalogue(DEFAULT_LANGUAGE)[key]
    return template.format(**values) if values else template


def keys(language: str) -> frozenset[str]:
    return frozenset(_catalogue(language))
