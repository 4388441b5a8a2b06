"""`signpost run matrix` as an operator starts it: a process configured by the environment, that
answers in a DM and exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from adapters.matrix import crypto
from tests.matrix.conftest import Matrix
from tests.matrix.synapse import ROOT
from tests.matrix.trainee import body


async def test_signpost_run_matrix_answers_and_stops_on_sigterm(
    matrix: Matrix, tmp_path: Path
) -> None:
    account = matrix.bot.account
    env = {
        **os.environ,
        "SIGNPOST_MATRIX_HOMESERVER": matrix.server.url,
        "SIGNPOST_MATRIX_USER": account.user_id,
        "SIGNPOST_MATRIX_PASSWORD": account.password,
        "SIGNPOST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "SIGNPOST_LOG_LEVEL": "INFO",
        "SIGNPOST_MATRIX_STORE": str(tmp_path / "keys"),
    }
    log = (tmp_path / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "signpost"),
        "run",
        "matrix",
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        trainee = await matrix.trainee()
        await trainee.open_dm()
        greeting = await trainee.until_menu(within=60)
        assert "Welcome to Signpost" in body(greeting[0])
        await trainee.say("!start air-01")
        await trainee.until(lambda e: "Your role" in body(e))
        # stopped while the bot 'types' its first long line: what is in flight is still sent
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        assert code == 0, (tmp_path / "bot.log").read_text()
        said = await trainee.until_menu(within=5)
        assert any(e["content"].get("msgtype") == "m.image" for e in said)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()
    text = (tmp_path / "bot.log").read_text()
    assert "logged in as" in text and "Traceback" not in text
    assert account.password not in text
    if crypto.available():  # the matrix-e2e extra: the keys are in the folder the setting names
        assert "end-to-end encryption on" in text
        assert [p.name.split("_")[0] for p in (tmp_path / "keys").iterdir()] == [account.user_id]
