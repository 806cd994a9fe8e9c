"""Encryption at rest for credential values (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from mcinfra.core.errors import StoreError

KEY_ENV = "MCINFRA_SECRET_KEY"
KEY_FILE = "mcinfra.key"


def _fernet_key(text: str) -> bytes:
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    # any other passphrase: derive a key from it
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def load_key(key_dir: Path | None) -> bytes:
    """The key from $MCINFRA_SECRET_KEY, else from a 0600 file in ``key_dir`` (created on first
    use), else (no directory: an in-memory store) a key that lives as long as the process."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _fernet_key(env)
    if key_dir is None:
        return Fernet.generate_key()
    path = key_dir / KEY_FILE
    try:
        return _fernet_key(path.read_text())
    except FileNotFoundError:
        pass
    key_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _fernet_key(path.read_text())
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def seal(self, values: dict[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(values).encode())

    def open(self, token: bytes) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise StoreError(
                f"credential cannot be decrypted: the secret key differs from the one it was stored with "
                f"(set {KEY_ENV} or restore {KEY_FILE})"
            ) from exc
