"""Channel credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from content.errors import ConfigurationError, InvalidInput
from content.i18n import N_

NO_KEY = N_(
    "no secret key is configured, so the token cannot be stored safely: "
    "run `afisha init` or set AFISHA_SECRET_KEY"
)


def generate_key() -> str:
    return Fernet.generate_key().decode()


class CredentialCipher:
    """Encrypts and decrypts a channel's credentials (a small JSON object)."""

    def __init__(self, key: str | None) -> None:
        self._fernet: Fernet | None = None
        if key:
            try:
                self._fernet = Fernet(key.encode())
            except (ValueError, TypeError):
                raise ConfigurationError(
                    "the secret key is not a valid Fernet key (32 url-safe base64 bytes): "
                    "generate one with `afisha init`"
                ) from None

    @property
    def available(self) -> bool:
        return self._fernet is not None

    def encrypt(self, credentials: dict[str, Any]) -> str:
        if self._fernet is None:
            raise InvalidInput(NO_KEY)
        return self._fernet.encrypt(json.dumps(credentials).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        if self._fernet is None:
            raise ConfigurationError(NO_KEY)
        try:
            data: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ConfigurationError(
                "stored credentials cannot be decrypted with this secret key: "
                "was AFISHA_SECRET_KEY changed?"
            ) from None
        return data
