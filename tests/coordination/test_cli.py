"""The coordinators' commands as typed: `signpost cohort|user|audit|transcripts|report|
retention`, with clear errors for bad input and refusals, and no secret in anything written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:SECRET-TOKEN-MARKER"
MATRIX = "syt_SECRET_MATRIX_MARKER"
SCRIPT = (
    "1\n"
    "Tell me about your trip, in your own words. My name is Jan Kowalski.\n"
    "You said you must pay back money. Tell me more about that.\n"
    "1\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        # a marker in the database's path: it must never be written into a report
        "SIGNPOST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'dbsecretpath.db'}",
        "SIGNPOST_DIALOGUES": str(ROOT / "tests" / "scenarios"),
        "SIGNPOST_DEFAULT_SCENARIO": "mini",
        "SIGNPOST_TELEGRAM_TOKEN": TOKEN,
        "SIGNPOST_MATRIX_TOKEN": MATRIX,
        "COLUMNS": "200",
    }


def sp(env: dict[str, str], *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (args, result.output, result.exception)
    return result


def played(env: dict[str, str], tmp_path: Path, *users: str) -> None:
    script = tmp_path / "inputs.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    for user in users:
        sp(env, "play", "mini", "--trainee", user, "--script", str(script))


def test_cohorts_and_users(env: dict[str, str], tmp_path: Path) -> None:
    played(env, tmp_path, "alice", "bob")
    sp(env, "user", "grant", "coordinator", "console:carol")
    out = sp(
        env,
        "cohort",
        "create",
        "Night shift",
        "--coordinator",
        "console:carol",
        "--scenario",
        "mini",
        "--starts",
        "2020-01-01",
        "--mode",
        "coach",
    ).output
    code = re.search(r"enrolment code (\w{8})", out)
    assert code and f"/start {code.group(1)}" in out and f"!join {code.group(1)}" in out
    added = sp(env, "cohort", "add", "Night shift", "console:alice", "console:bob").output
    assert added.count(": added (trainee)") == 2 and "console:" not in added
    listing = sp(env, "cohort", "list").output
    assert "Night shift" in listing and code.group(1) in listing
    shown = sp(env, "cohort", "show", "night shift").output  # names are case-insensitive
    assert shown.count("trainee-") >= 3 and "mini (ended)" in shown
    assert "removed" in sp(env, "cohort", "remove", "Night shift", "console:bob").output
    assert "coordinator" in sp(env, "user", "list").output
    # the coordinator acting as herself sees her cohort; a trainee may not create one
    assert "Night shift" in sp(env, "cohort", "list", "--as", "console:carol").output
    refused = sp(env, "cohort", "create", "Mine", "--as", "console:alice", code=3).output
    assert "not allowed" in refused and "cohort.create" in refused
    # bad input: a short, clear message and exit status 2
    for args, message in (
        (("cohort", "show", "Nope"), "no cohort 'Nope' that you can see"),
        (("cohort", "create", "X", "--ends", "31/12/2026"), "is not a date like 2026-03-31"),
        (("cohort", "create", "X", "--scenario", "zzz"), "no scenario zzz"),
        (("cohort", "create", "Night shift"), "exists already"),
        (
            ("cohort", "create", "X", "--starts", "2026-02-01", "--ends", "2026-01-01"),
            "ends before it starts",
        ),
        (("user", "grant", "boss", "console:alice"), "unknown role 'boss'"),
        (("user", "forget", "trainee-00000000", "--yes"), "no user 'trainee-00000000'"),
        (("cohort", "add", "Night shift", "nobody"), "no user 'nobody'"),
    ):
        assert message in sp(env, *args, code=2).output, args
    # forgetting asks first, and then deletes
    assert (
        "Aborted"
        in CliRunner().invoke(app, ["user", "forget", "console:bob"], env=env, input="n\n").output
    )
    assert "1 sessions deleted" in sp(env, "user", "forget", "console:bob", "--yes").output
    audit = sp(env, "audit", "--limit", "50").output
    for action in ("role.grant", "cohort.create", "cohort.add", "cohort.remove", "user.forget"):
        assert action in audit, action
    assert "not allowed" in sp(env, "audit", "--as", "console:carol", code=3).output


def test_exports_reports_and_retention_hold_no_secret(env: dict[str, str], tmp_path: Path) -> None:
    played(env, tmp_path, "alice", "bob")
    sp(env, "cohort", "create", "Night shift", "--scenario", "mini")
    sp(env, "cohort", "add", "Night shift", "console:alice", "console:bob")
    out = tmp_path / "out"
    out.mkdir()
    written: list[bytes] = []
    for fmt in ("md", "html", "json", "csv", "xapi"):
        result = sp(
            env, "transcripts", "export", "--cohort", "Night shift", "--format", fmt, "-o", str(out)
        )
        assert "2 sessions" in result.output
    data = json.loads((out / "transcripts-2.json").read_text(encoding="utf-8"))
    session = data["sessions"][0]["session_id"]
    sp(env, "report", "session", session[:8], "-o", str(out))
    sp(env, "report", "session", session[:8], "--format", "pdf", "-o", str(out))
    sp(env, "report", "trainee", "console:alice", "-o", str(out / "latest.html"))
    sp(env, "report", "cohort", "Night shift", "-o", str(out / "cohort"), "--language", "pl")
    stdout = sp(
        env, "transcripts", "export", "--session", session, "--format", "md", "--redact", "-o", "-"
    ).output
    assert "[name] [name]" in stdout and "Kowalski" not in stdout
    ranged = sp(
        env,
        "transcripts",
        "export",
        "--since",
        "2000-01-01",
        "--until",
        "2000-12-31",
        "--format",
        "json",
        "-o",
        "-",
    ).output
    assert '"sessions": []' in ranged
    for path in sorted(out.rglob("*")):
        if path.is_file():
            written.append(path.read_bytes())
    assert len(written) == 5 + 2 + 1 + 14
    for blob in [*written, stdout.encode()]:
        for secret in (TOKEN, MATRIX, "SECRET", "dbsecretpath", "sqlite+aiosqlite", "alice"):
            assert secret.encode() not in blob, secret
    # export errors
    assert (
        "--format must be one of"
        in sp(env, "transcripts", "export", "--format", "doc", code=2).output
    )
    assert (
        "choose one of"
        in sp(env, "transcripts", "export", "--cohort", "x", "--trainee", "y", code=2).output
    )
    refused = sp(
        env, "transcripts", "export", "--with-platform-ids", "--as", "console:alice", code=3
    ).output
    assert "not allowed" in refused and "platform ids" in refused
    # retention: a dry run by default
    dry = sp(env, "retention", "apply", "--days", "1").output
    assert "dry run: 0 sessions" in dry
    env = {**env, "SIGNPOST_RETENTION_DAYS": "1"}
    assert "0 sessions (0 turns) anonymised" in sp(env, "retention", "apply", "--execute").output
    assert (
        "must be delete or anonymise"
        in sp(env, "retention", "apply", "--action", "burn", code=2).output
    )
    audit = sp(env, "audit", "--limit", "100").output
    assert audit.count("transcript.export") >= 5 and "transcript.report" in audit
