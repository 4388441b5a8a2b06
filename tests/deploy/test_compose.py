"""The deployment files: docker-compose.yml is valid Compose, and everything it and the
Dockerfile refer to exists in the code (commands, settings, ports)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SETTINGS = {f"SIGNPOST_{name.upper()}" for name in Settings.model_fields}


def services() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in COMPOSE["services"].items()}


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is not at {COMPOSE_SCHEMA}")
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(COMPOSE)


def test_a_broken_compose_file_is_refused_by_the_schema() -> None:
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"the Compose Specification schema is not at {COMPOSE_SCHEMA}")
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    broken = {"services": {"bot": {"image": "x", "restart": ["always"], "portz": [1]}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


@pytest.mark.parametrize("name", ["migrate", "telegram", "matrix"])
def test_every_bot_command_exists(name: str) -> None:
    command = services()[name]["command"]
    words = [w for w in command if not w.startswith("-")]
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, f"`signpost {' '.join(command)}`: {result.output}"


def test_every_setting_the_compose_file_sets_exists() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\b(SIGNPOST_[A-Z_]+)\b", text))
    assert used and used <= SETTINGS, used - SETTINGS


def test_env_example_documents_every_setting_and_nothing_else() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?(SIGNPOST_[A-Z_]+)=", text, flags=re.MULTILINE))
    assert named == SETTINGS
    compose_vars = set(re.findall(r"\$\{(POSTGRES_[A-Z_]+)", json.dumps(COMPOSE)))
    assert compose_vars <= set(re.findall(r"^(POSTGRES_[A-Z_]+)=", text, flags=re.MULTILINE))


def test_ports_match_the_settings() -> None:
    telegram = services()["telegram"]
    env = telegram["environment"]
    webhook = int(env["SIGNPOST_TELEGRAM_WEBHOOK_PORT"])
    ops = int(env["SIGNPOST_OPS_PORT"])
    published = {int(p.rsplit(":", 1)[1]) for p in telegram["ports"]}
    assert published == {webhook, ops}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"EXPOSE {webhook} {ops}" in dockerfile


def test_services_have_health_checks_restart_policies_and_volumes() -> None:
    for name, spec in services().items():
        if name == "migrate":
            assert spec["restart"] == "no"
            continue
        assert spec.get("healthcheck", {}).get("test"), name
        assert spec.get("restart") == "unless-stopped", name
    assert {"pgdata", "redisdata"} <= set(COMPOSE["volumes"])
    bots = [spec for name, spec in services().items() if name in ("migrate", "telegram", "matrix")]
    assert all(spec["user"] == "10001:10001" and spec["env_file"] == ".env" for spec in bots)


def test_the_image_is_slim_non_root_and_caches_dependencies() -> None:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    assert lines[next(i for i, line in enumerate(lines) if line.startswith("FROM"))].startswith(
        "FROM python:3.11-slim"
    )
    dependencies = next(i for i, line in enumerate(lines) if 'pip install ".[' in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY bot"))
    assert dependencies < code, "dependencies must be installed before the code is copied"
    assert any(line.startswith("USER 10001") for line in lines)
