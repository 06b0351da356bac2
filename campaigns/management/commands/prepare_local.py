"""Make the files the embedded defaults need on this machine, once: what settings never write.

- the var folder (DIALDECK_VAR_DIR: the SQLite database, beat's schedule);
- a development secret key in it (var/secret_key, readable by its owner only), unless
  SECRET_KEY or SECRET_KEY_FILE is set; settings read it when they are not;
- a development credentials key (var/credentials_keys, owner only), unless
  DIALDECK_CREDENTIALS_KEYS or DIALDECK_CREDENTIALS_KEYS_FILE is set: it encrypts provider
  credentials at rest (campaigns.credentials); settings read it when they are not;
- the filesystem broker's folders (CELERY_BROKER_URL=filesystem://; kombu makes none);
- the static files folder (collectstatic fills it).

`make run` and `make test` run it first. Idempotent: an existing key is never replaced, so the
sessions and signed cookies made with it stay valid. Needs no database and no secret key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand

# kombu's filesystem transport options that name a folder.
BROKER_FOLDERS = ("control_folder", "data_folder_in", "data_folder_out", "processed_folder")


class Command(BaseCommand):
    help = "Make the var folder, development keys, the broker's and static files' folders."
    requires_system_checks: list = []  # a fresh machine: nothing else is ready yet

    def handle(self, *args, **options) -> None:
        folders = [Path(settings.VAR_DIR), Path(settings.STATIC_ROOT)]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            folders += [Path(transport[name]) for name in BROKER_FOLDERS]
        for folder in folders:
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                self.stdout.write(f"made {folder}")
        key_file = Path(settings.DEVELOPMENT_SECRET_KEY_FILE)
        if _configured_key() and not key_file.exists():
            self.stdout.write("SECRET_KEY is set: no development key needed")
        elif _write_once(key_file, secrets.token_urlsafe(50)):
            production = "in production, set SECRET_KEY or SECRET_KEY_FILE"
            self.stdout.write(f"wrote a development secret key to {key_file} ({production})")
        keys_file = Path(settings.DEVELOPMENT_CREDENTIALS_KEYS_FILE)
        if _configured_credentials_keys() and not keys_file.exists():
            self.stdout.write("DIALDECK_CREDENTIALS_KEYS is set: no development credentials key needed")
        elif _write_once(keys_file, Fernet.generate_key().decode()):
            production = "in production, set DIALDECK_CREDENTIALS_KEYS or DIALDECK_CREDENTIALS_KEYS_FILE"
            self.stdout.write(f"wrote a development credentials key to {keys_file} ({production})")


def _configured_key() -> bool:
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django's refusal of an empty key
        return False


def _configured_credentials_keys() -> bool:
    return bool(
        os.environ.get("DIALDECK_CREDENTIALS_KEYS") or os.environ.get("DIALDECK_CREDENTIALS_KEYS_FILE")
    )


def _write_once(path: Path, content: str) -> bool:
    """Write `path`, readable by its owner only, unless it exists. True when written.

    Written under another name and linked into place, so a process reading the key (another
    `make test` starting at the same moment) never sees it empty or half written."""
    if path.exists():
        return False
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(content)
        os.link(staging, path)  # fails if another process got there first: its key stays
    except FileExistsError:
        return False
    finally:
        staging.unlink(missing_ok=True)
    return True
