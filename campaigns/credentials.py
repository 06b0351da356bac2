"""Provider credentials encrypted at rest: one MultiFernet over settings.CREDENTIALS_KEYS.

A stored value is ``enc:`` followed by a Fernet token (AES-128-CBC + HMAC-SHA256, with its
time). The first key encrypts; every key decrypts, so keys rotate without downtime: put the new
key first, keep the old ones, run `manage.py rotate_credentials` (re-encrypts every value with
the first key), then drop the old ones. A value without the prefix is plaintext written before
encryption existed: it is read as is, and migration 0014 (and `rotate_credentials`) encrypt it.

`EncryptedTextField` is what the models use: Python code sees the plain value, the database only
ever holds the token. It is never compared in SQL (a token differs at each save).
Never logs, and its errors never carry the value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc:"
NO_KEYS = (
    "DIALDECK_CREDENTIALS_KEYS is not set and var/credentials_keys does not exist: "
    "set it (see README, Configuration) or run `manage.py prepare_local` for development"
)


class CredentialUnreadable(Exception):
    """A stored credential that none of the configured keys decrypts (a key was dropped too soon)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(NO_KEYS)
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CREDENTIALS_KEYS))


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def encrypt(value: str) -> str:
    """The stored form of `value` ("" stays "": nothing to hide). Raises ImproperlyConfigured
    when no key is configured."""
    if not value:
        return ""
    return PREFIX + _current().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain value of a stored one; plaintext from before encryption is returned as is.
    Raises CredentialUnreadable when no configured key opens it."""
    if not is_encrypted(stored):
        return stored
    try:
        return _current().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise CredentialUnreadable(
            "a stored provider credential cannot be decrypted with DIALDECK_CREDENTIALS_KEYS: "
            "was a key removed before `manage.py rotate_credentials` ran?"
        ) from None


def mask(value: str) -> str:
    """What pages show of a credential once it is saved: its last four characters at most."""
    if not value:
        return ""
    return "••••" + (value[-4:] if len(value) >= 12 else "")


class EncryptedTextField(models.TextField):
    """Text stored encrypted (see the module docstring); reads and writes the plain value."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value is None else encrypt(value)
