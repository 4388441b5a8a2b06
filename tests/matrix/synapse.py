"""A real Synapse homeserver on 127.0.0.1 for the Matrix adapter's tests.

`make test` installs Synapse into `.venv-synapse` (apart from the app's virtual environment:
aiogram pins pydantic<2.14 and Synapse may want a newer one). Each `Homeserver` gets a fresh
folder: config, SQLite database, media store and signing key, and is stopped with SIGTERM.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_PYTHON = ROOT / ".venv-synapse" / "bin" / "python"
MISSING = (
    f"Synapse is not installed in {SYNAPSE_PYTHON.parent.parent}: run `make test` "
    "(or `make synapse`) once, which installs it there (PyPI matrix-synapse)."
)

#: every limit a load test could reach, raised far beyond what the tests send
RAISED = {"per_second": 10_000, "burst_count": 100_000}
_RAISED_LIMITS: dict[str, Any] = {
    "rc_message": RAISED,
    "rc_registration": RAISED,
    "rc_login": {"address": RAISED, "account": RAISED, "failed_attempts": RAISED},
    "rc_joins": {"local": RAISED, "remote": RAISED},
    "rc_joins_per_room": RAISED,
    "rc_invites": {"per_room": RAISED, "per_user": RAISED, "per_issuer": RAISED},
    "rc_room_creation": RAISED,
    "rc_media_create": RAISED,
    "rc_admin_redaction": RAISED,
    "rc_key_requests": RAISED,
    "rc_3pid_validation": RAISED,
    "rc_third_party_invite": RAISED,
    "rc_profile": RAISED,
    "rc_delayed_event_mgmt": RAISED,
    "rc_reports": RAISED,
    "rc_user_directory": RAISED,
    "rc_presence": {"per_user": RAISED},
}


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, so no homeserver outlives a killed run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str = field(repr=False)
    access_token: str = field(repr=False)
    device_id: str = ""


class Homeserver:
    """One Synapse process with its own folder; `start()` returns once /health answers."""

    def __init__(self, folder: Path, *, default_rate_limits: bool = False) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.default_rate_limits = default_rate_limits
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / "synapse.log"
        # The homeserver's database in memory when the machine has a tmpfs: Synapse commits
        # (and fsyncs) every event, which made the disk, not Synapse, the load tests' limit.
        shm = Path("/dev/shm")
        self.data = Path(tempfile.mkdtemp(prefix="synapse-", dir=shm)) if shm.is_dir() else folder

    def config(self) -> dict[str, Any]:
        f = self.folder
        config: dict[str, Any] = {
            "server_name": "localhost",
            "public_baseurl": self.url + "/",
            "pid_file": str(f / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(self.data / "homeserver.db")}},
            "log_config": str(f / "log.yaml"),
            "media_store_path": str(f / "media"),
            "signing_key_path": str(f / "signing.key"),
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "bcrypt_rounds": 4,
            "enable_metrics": False,
            "url_preview_enabled": False,
            "max_upload_size": "20M",
        }
        if not self.default_rate_limits:
            config.update(_RAISED_LIMITS)
        return config

    def _write_files(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "media").mkdir(exist_ok=True)
        (self.folder / "homeserver.yaml").write_text(yaml.safe_dump(self.config()))
        logging = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "plain",
                    "filename": str(self.log),
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (self.folder / "log.yaml").write_text(yaml.safe_dump(logging))
        # An ed25519 signing key is any 32 random bytes: written here instead of a second
        # Synapse start with --generate-keys (which costs a couple of seconds).
        seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        (self.folder / "signing.key").write_text(f"ed25519 a_test {seed}\n")

    def start(self, timeout: float = 60.0) -> None:
        if not SYNAPSE_PYTHON.exists():
            raise RuntimeError(MISSING)
        self._write_files()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
        with (self.folder / "stdout.log").open("wb") as out:
            self.process = subprocess.Popen(
                [
                    str(SYNAPSE_PYTHON),
                    "-m",
                    "synapse.app.homeserver",
                    "--config-path",
                    str(self.folder / "homeserver.yaml"),
                ],
                cwd=self.folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not answer /health within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("stdout.log", "synapse.log"):
            path = self.folder / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        finally:
            if self.data != self.folder:
                shutil.rmtree(self.data, ignore_errors=True)

    # -- admin API ----------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read()!r}") from None

    def register(self, localpart: str, *, admin: bool = False) -> Account:
        """A user registered with the shared secret (no rate limit, no captcha)."""
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_hex(8)
        signed = "\x00".join((nonce, localpart, password, "admin" if admin else "notadmin"))
        mac = hmac.new(self.secret.encode(), signed.encode(), digestmod=hashlib.sha1)
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        answer = self._request("POST", "/_synapse/admin/v1/register", body)
        return Account(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def override_ratelimit(self, admin: Account, user_id: str) -> dict[str, Any]:
        """What docs/matrix.md tells an admin to do for the bot: no message rate limit."""
        path = f"/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        self._request(
            "POST", path, {"messages_per_second": 0, "burst_count": 0}, admin.access_token
        )
        return self._request("GET", path, token=admin.access_token)
