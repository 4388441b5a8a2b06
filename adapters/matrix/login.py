"""Logging the bot in, and opening its encryption keys when encryption can be on.

The device id is the same at every start (the runner keeps it; with a token, the token's): the
homeserver keeps one event per device and transaction id, and the key store is per device.
"""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.matrix import crypto
from adapters.matrix.client import MatrixClient
from adapters.matrix.outbox import Failure

log = logging.getLogger(__name__)


def key_folder(crypto_store: str | Path | None) -> Path | None:
    """The key store folder if encryption can be on, else None (said in the log)."""
    if crypto_store is None:
        return None
    if not crypto.available():
        log.warning(
            "matrix-nio's e2e extra is not installed (pip install 'signpost[matrix-e2e]'): "
            "the bot cannot read encrypted rooms and says so there"
        )
        return None
    return Path(crypto_store).expanduser().resolve()


async def connect(
    homeserver: str,
    user: str,
    *,
    device_id: str | None,
    password: str | None,
    token: str | None,
    crypto_store: str | Path | None,
) -> tuple[MatrixClient, Failure | None]:
    """A logged-in client (with its keys loaded if encryption is on), or why not. The client
    is returned either way: the caller closes it."""
    folder = key_folder(crypto_store)
    client = MatrixClient(homeserver, user, device_id=device_id, e2e=folder is not None)
    try:
        problem = await client.login(password, token)
        if problem is not None or folder is None:
            return client, problem
        return await _open_keys(client, folder, password, token)
    except BaseException:
        await client.close()
        raise


async def _open_keys(
    client: MatrixClient, folder: Path, password: str | None, token: str | None
) -> tuple[MatrixClient, Failure | None]:
    """Load the logged-in device's keys. If the server has keys for it that the folder lacks,
    log in again as a new device (with a password) or go on without encryption (a token is
    bound to its device)."""
    state = await client.open_key_store(folder)
    if state != "lost":
        return client, state if isinstance(state, Failure) else None
    missing = crypto.store_file(folder, client.user_id, client.device_id).name
    if token:
        log.error(
            "the keys of device %s are not in %s (%s missing): going on WITHOUT encryption. "
            "Restore the folder, or log in with SIGNPOST_MATRIX_PASSWORD (a new device).",
            client.device_id,
            folder,
            missing,
        )
        return client, None
    log.warning(
        "the keys of device %s are not in %s (%s missing): logging in as a new device",
        client.device_id,
        folder,
        missing,
    )
    homeserver, user = client.nio.homeserver, client.user_id
    await client.close()
    client = MatrixClient(homeserver, user, e2e=True)
    try:
        problem = await client.login(password, None)
        if problem is not None:
            return client, problem
        state = await client.open_key_store(folder)
    except BaseException:
        await client.close()
        raise
    return client, state if isinstance(state, Failure) else None
